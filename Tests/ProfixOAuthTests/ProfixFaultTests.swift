import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
@testable import ProfixOAuth
import Testing

/// What one fault does to one call when it hits every attempt of that call.
struct ProfixFaultRow: Sendable, CustomTestStringConvertible {
    let fault: TransportFault
    /// The error the caller sees; `nil` when the call succeeds.
    let code: AuthError.Code?
    /// The requests the provider sent for the call (the fault tests' retry policy allows 3).
    let attempts: Int
    /// How many of those the sandbox processed.
    let processed: Int

    init(_ fault: TransportFault, _ code: AuthError.Code?, attempts: Int, processed: Int) {
        self.fault = fault
        self.code = code
        self.attempts = attempts
        self.processed = processed
    }

    var testDescription: String { fault.description }
}

/// Every fault of ``TransportFault/catalogue`` on every Profix-it token-endpoint call and on API
/// calls, against ``ProfixSandbox``.
///
/// The fault is injected for *every* attempt of the call, so the retry policy (3 attempts, no
/// sleeping) runs out; then the fault clears and a later call must recover.
@Suite struct ProfixFaultTests {
    static let maxAttempts = 3
    static let isToken: @Sendable (MockTransport.Request) -> Bool = { $0.url.path.hasSuffix("/token") }
    static let isChangePassword: @Sendable (MockTransport.Request) -> Bool = { $0.url.path.hasSuffix("/token/ChangePassword") }
    static let isAPI: @Sendable (MockTransport.Request) -> Bool = { !$0.url.path.lowercased().contains("/token") }

    /// `/token` (code exchange, refresh, client credentials, password grant).
    ///
    /// | fault | code | attempts | processed by the server |
    /// |---|---|---|---|
    /// | drop before processing | connectionFailed | 3 | 0 |
    /// | drop after processing | connectionFailed | 3 | 3 (the first rotated / consumed the grant) |
    /// | delay | — (succeeds) | 1 | 1 |
    /// | timeout | timeout | 3 | 0 |
    /// | 500, 502, 503 (± Retry-After) | serviceUnavailable | 3 | 0 |
    /// | 429 (± Retry-After) | rateLimited | 3 | 0 |
    /// | truncated body | malformedResponse (not retried) | 1 | 1 (rotated / consumed) |
    /// | HTML page 502 | serviceUnavailable | 3 | 0 |
    /// | duplicate headers | — (succeeds) | 1 | 1 |
    /// | 200 with `error: server_error` | serviceUnavailable (not retried: a 200) | 1 | 0 |
    static let tokenTable: [ProfixFaultRow] = [
        .init(.dropBeforeProcessing, .connectionFailed, attempts: 3, processed: 0),
        .init(.dropAfterProcessing, .connectionFailed, attempts: 3, processed: 3),
        .init(.delay(.milliseconds(5)), nil, attempts: 1, processed: 1),
        .init(.timeout, .timeout, attempts: 3, processed: 0),
        .init(.status(500, retryAfter: nil), .serviceUnavailable, attempts: 3, processed: 0),
        .init(.status(502, retryAfter: nil), .serviceUnavailable, attempts: 3, processed: 0),
        .init(.status(503, retryAfter: "1"), .serviceUnavailable, attempts: 3, processed: 0),
        .init(.status(503, retryAfter: nil), .serviceUnavailable, attempts: 3, processed: 0),
        .init(.status(429, retryAfter: "2"), .rateLimited, attempts: 3, processed: 0),
        .init(.status(429, retryAfter: nil), .rateLimited, attempts: 3, processed: 0),
        .init(.truncateBody(keepBytes: 7), .malformedResponse, attempts: 1, processed: 1),
        .init(.htmlErrorPage(status: 502), .serviceUnavailable, attempts: 3, processed: 0),
        .init(.duplicateHeaders(value: "bogus"), nil, attempts: 1, processed: 1),
        .init(.oauthErrorIn200(error: "server_error"), .serviceUnavailable, attempts: 1, processed: 0),
    ]

    /// `/token` calls that spend something valid once — the code exchange and the refresh — are
    /// not retried after failures the server may have processed (timeout, 500, 502, an HTML 502):
    /// a retry would answer `invalid_grant` and hide the real failure. Connection failures, 429
    /// and 503 are retried as in ``tokenTable``.
    static func oneTime(_ row: ProfixFaultRow) -> ProfixFaultRow {
        switch row.fault {
        case .timeout, .status(500, _), .status(502, _), .htmlErrorPage:
            return ProfixFaultRow(row.fault, row.code, attempts: 1, processed: row.processed)
        default:
            return row
        }
    }

    /// `/token/ChangePassword`, which is never retried (changing a password is not idempotent).
    ///
    /// | fault | code | attempts | processed (password changed) |
    /// |---|---|---|---|
    /// | drop before processing | connectionFailed | 1 | 0 |
    /// | drop after processing | connectionFailed | 1 | 1 |
    /// | delay, duplicate headers | — (succeeds) | 1 | 1 |
    /// | timeout | timeout | 1 | 0 |
    /// | 500, 502, 503, HTML page | serviceUnavailable | 1 | 0 |
    /// | 429 | rateLimited | 1 | 0 |
    /// | truncated body | malformedResponse | 1 | 1 |
    /// | 200 with `error: server_error` | serviceUnavailable | 1 | 0 |
    static let changePasswordTable: [ProfixFaultRow] = [
        .init(.dropBeforeProcessing, .connectionFailed, attempts: 1, processed: 0),
        .init(.dropAfterProcessing, .connectionFailed, attempts: 1, processed: 1),
        .init(.delay(.milliseconds(5)), nil, attempts: 1, processed: 1),
        .init(.timeout, .timeout, attempts: 1, processed: 0),
        .init(.status(500, retryAfter: nil), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.status(502, retryAfter: nil), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.status(503, retryAfter: "1"), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.status(503, retryAfter: nil), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.status(429, retryAfter: "2"), .rateLimited, attempts: 1, processed: 0),
        .init(.status(429, retryAfter: nil), .rateLimited, attempts: 1, processed: 0),
        .init(.truncateBody(keepBytes: 7), .malformedResponse, attempts: 1, processed: 1),
        .init(.htmlErrorPage(status: 502), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.duplicateHeaders(value: "bogus"), nil, attempts: 1, processed: 1),
        .init(.oauthErrorIn200(error: "server_error"), .serviceUnavailable, attempts: 1, processed: 0),
    ]

    /// What an API call through ``AuthorizingTransport`` returns under each fault. API calls are
    /// never retried and never cause a token-endpoint call: a failure without a response reaches
    /// the caller as the transport's error, any response (whatever its status) is returned.
    static let apiTable: [(TransportFault, APIOutcome)] = [
        (.dropBeforeProcessing, .error(.connectionFailed)),
        (.dropAfterProcessing, .error(.connectionFailed)),
        (.delay(.milliseconds(5)), .status(200)),
        (.timeout, .error(.timeout)),
        (.status(500, retryAfter: nil), .status(500)),
        (.status(502, retryAfter: nil), .status(502)),
        (.status(503, retryAfter: "1"), .status(503)),
        (.status(503, retryAfter: nil), .status(503)),
        (.status(429, retryAfter: "2"), .status(429)),
        (.status(429, retryAfter: nil), .status(429)),
        (.truncateBody(keepBytes: 7), .status(200)),
        (.htmlErrorPage(status: 502), .status(502)),
        (.duplicateHeaders(value: "bogus"), .status(200)),
        (.oauthErrorIn200(error: "server_error"), .status(200)),
    ]

    enum APIOutcome: Sendable, Equatable {
        case status(Int)
        case error(AuthError.Code)
    }

    enum Grant: String, Sendable, CaseIterable {
        case authorizationCode, clientCredentials, password
    }

    @Test func tablesCoverTheWholeCatalogue() {
        #expect(Self.tokenTable.map(\.fault) == TransportFault.catalogue)
        #expect(Self.changePasswordTable.map(\.fault) == TransportFault.catalogue)
        #expect(Self.apiTable.map(\.0) == TransportFault.catalogue)
        for row in Self.tokenTable + Self.changePasswordTable {
            #expect(row.attempts <= Self.maxAttempts)
            #expect(row.processed <= row.attempts)
        }
    }

    /// A sandbox behind a fault injector, and a provider that sends everything through it.
    struct Rig {
        let clock = TestClock()
        let sandbox: ProfixSandbox
        let faulty: FaultInjectingTransport<ProfixSandbox>
        let store = InMemoryTokenStore()
        let events = EventCollector()
        let provider: ProfixProvider
        let api: AuthorizingTransport<FaultInjectingTransport<ProfixSandbox>, ProfixProvider>

        init(_ client: ProfixRegistration = Fixture.codeClient, retryPolicy: RetryPolicy = noSleepRetry) {
            sandbox = Fixture.sandbox(clock)
            faulty = FaultInjectingTransport(base: sandbox)
            provider = Fixture.provider(client, sandbox: faulty, clock: clock, store: store,
                                        configuration: .init(retryPolicy: retryPolicy), observer: events.observer)
            api = AuthorizingTransport(base: faulty, provider: provider)
        }

        func stored() async throws -> StoredCredential? { try await store.load(provider.key) }

        /// One API call: its status, or the code it failed with.
        func call() async -> APIOutcome {
            do {
                return .status(try await api.reply(HTTPRequest(url: Fixture.apiURL(for: provider.client))).status)
            } catch let error as AuthError {
                return .error(error.code)
            } catch {
                Issue.record("not an AuthError: \(type(of: error))")
                return .error(.transportFailure)
            }
        }

        /// Runs `body` with `fault` on every matching request, then clears it; returns the error code.
        func under<T>(_ fault: TransportFault, when matches: @escaping @Sendable (MockTransport.Request) -> Bool,
                      _ body: () async throws -> T) async -> Result<T, AuthError> {
            faulty.inject(fault, times: ProfixFaultTests.maxAttempts, when: matches)
            defer { faulty.clearFaults() }
            do {
                return .success(try await body())
            } catch let error as AuthError {
                return .failure(error)
            } catch {
                Issue.record("not an AuthError: \(type(of: error))")
                return .failure(AuthError(.transportFailure))
            }
        }
    }

    // MARK: - Refresh

    @Test(arguments: tokenTable)
    func faultOnRefresh(_ tableRow: ProfixFaultRow) async throws {
        let row = Self.oneTime(tableRow)
        let rig = Rig()
        try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
        let old = try #require(try await rig.stored())
        let oldRefresh = try #require(old.refreshToken)
        rig.clock.advance(600)   // the access token is due: the next API call refreshes
        let sent = rig.faulty.receivedCount
        let processed = rig.sandbox.counters.tokenRequests

        rig.faulty.inject(row.fault, times: Self.maxAttempts, when: Self.isToken)
        let outcome = await rig.call()
        rig.faulty.clearFaults()

        #expect(rig.faulty.receivedCount - sent == row.attempts + (row.code == nil ? 1 : 0))   // + the API call itself
        #expect(rig.sandbox.counters.tokenRequests - processed == row.processed)
        guard let code = row.code else {
            #expect(outcome == .status(200))
            let new = try #require(try await rig.stored())   // correctly replaced
            #expect(new.accessToken != old.accessToken)
            #expect(new == (try await rig.provider.credential()))
            #expect(rig.sandbox.accepts(refreshToken: try #require(new.refreshToken)))
            #expect(!rig.sandbox.accepts(refreshToken: oldRefresh))
            return
        }
        #expect(outcome == .error(code))
        #expect(try await rig.stored() == old)   // intact
        #expect(try await rig.provider.credential() == old)
        #expect(!(await rig.provider.requiresReauthorization))

        let before = rig.sandbox.counters.tokenRequests
        if row.processed > 0 {
            // The server rotated the refresh token but the new pair never arrived: the stored
            // refresh token is dead, so the next refresh ends in re-authorization, once.
            #expect(!rig.sandbox.accepts(refreshToken: oldRefresh))
            #expect(await rig.call() == .error(.reauthorizationRequired))
            #expect(rig.sandbox.counters.tokenRequests == before + 1)
            #expect(await rig.call() == .error(.reauthorizationRequired))
            #expect(rig.sandbox.counters.tokenRequests == before + 1)   // no loop: no more /token calls
            #expect(try await rig.stored().isRefusedCopy(of: old))   // left for inspection
            try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
            #expect(await rig.call() == .status(200))
        } else {
            // Nothing reached the server: the same refresh token still works.
            #expect(rig.sandbox.accepts(refreshToken: oldRefresh))
            #expect(await rig.call() == .status(200))
            #expect(rig.sandbox.counters.tokenRequests == before + 1)
            #expect(rig.sandbox.counters.refreshes == 1)
            let new = try #require(try await rig.stored())
            #expect(new.accessToken != old.accessToken)
            #expect(new == (try await rig.provider.credential()))
        }
    }

    // MARK: - Grants

    @Test(arguments: Grant.allCases, tokenTable)
    func faultOnGrant(_ grant: Grant, _ tableRow: ProfixFaultRow) async throws {
        let row = grant == .authorizationCode ? Self.oneTime(tableRow) : tableRow
        let client: ProfixRegistration
        switch grant {
        case .authorizationCode: client = Fixture.codeClient
        case .clientCredentials: client = Fixture.serviceClient
        case .password: client = Fixture.passwordClient
        }
        let rig = Rig(client)
        let pending = try ProfixAuthorizationRequest(client: Fixture.codeClient)
        func run(callback: URL?) async throws {
            switch grant {
            case .authorizationCode:
                let url = try #require(callback)
                try await rig.provider.exchange(callbackURL: url, for: pending)
            case .clientCredentials:
                try await rig.provider.requestClientCredentialsToken()
            case .password:
                let outcome = try await rig.provider.logIn(username: "support@example.com", password: Secret("correct horse"))
                guard case .authorized = outcome else { throw AuthError(.passwordChangeRequired) }
            }
        }
        func newCallback() throws -> URL? {
            grant == .authorizationCode ? try rig.sandbox.approve(authorizationURL: pending.url) : nil
        }

        // A credential is already held: a failed grant must leave it alone.
        try await run(callback: try newCallback())
        let old = try #require(try await rig.stored())
        let callback = try newCallback()
        let sent = rig.faulty.receivedCount
        let processed = rig.sandbox.counters.tokenRequests

        let result = await rig.under(row.fault, when: Self.isToken) { try await run(callback: callback) }

        #expect(rig.faulty.receivedCount - sent == row.attempts)
        #expect(rig.sandbox.counters.tokenRequests - processed == row.processed)
        switch (result, row.code) {
        case (.success, nil):
            let new = try #require(try await rig.stored())
            #expect(new.accessToken != old.accessToken)
            #expect(new == (try await rig.provider.credential()))
            #expect(await rig.call() == .status(200))
            return
        case (.failure(let error), let code?):
            #expect(error.code == code)
        default:
            Issue.record("expected \(row.code.map(\.rawValue) ?? "success"), got \(result)")
            return
        }
        #expect(try await rig.stored() == old)   // intact
        #expect(try await rig.provider.credential() == old)
        #expect(await rig.call() == .status(200))   // and still in use

        // Recovery once the fault clears.
        let before = rig.sandbox.counters.tokenRequests
        if grant == .authorizationCode, row.processed > 0 {
            // The server consumed the code before the answer was lost: it cannot be used again.
            await #expect(throws: AuthError(.invalidGrant)) { try await run(callback: callback) }
            #expect(try await rig.stored() == old)
            try await run(callback: try newCallback())
        } else {
            try await run(callback: callback)
        }
        let new = try #require(try await rig.stored())
        #expect(new.accessToken != old.accessToken)
        #expect(rig.sandbox.counters.tokenRequests == before + (grant == .authorizationCode && row.processed > 0 ? 2 : 1))
        #expect(await rig.call() == .status(200))
    }

    // MARK: - ChangePassword

    @Test(arguments: changePasswordTable)
    func faultOnChangePassword(_ row: ProfixFaultRow) async throws {
        let rig = Rig(Fixture.passwordClient)
        let first = try await rig.provider.logIn(username: "new@example.com", password: Secret("initial-pw"))
        #expect(first == .passwordChangeRequired(userID: "123"))
        let sent = rig.faulty.receivedCount
        let changes = rig.sandbox.counters.passwordChanges

        let result = await rig.under(row.fault, when: Self.isChangePassword) {
            try await rig.provider.changePassword(userID: "123", currentPassword: Secret("initial-pw"), newPassword: Secret("better-password"))
        }

        #expect(rig.faulty.receivedCount - sent == row.attempts)
        #expect(rig.sandbox.counters.passwordChanges - changes == row.processed)
        #expect(try await rig.stored() == nil)   // a password change stores nothing
        switch (result, row.code) {
        case (.success, nil): break
        case (.failure(let error), let code?): #expect(error.code == code)
        default: Issue.record("expected \(row.code.map(\.rawValue) ?? "success"), got \(result)")
        }
        // Whether the password changed is what the server processed, not what the client heard.
        #expect(rig.sandbox.mustChangePassword("new@example.com") == (row.processed == 0))
        if row.processed == 0 {
            try await rig.provider.changePassword(userID: "123", currentPassword: Secret("initial-pw"), newPassword: Secret("better-password"))
        } else if row.code != nil {
            // Sending the change again fails clearly (the old password is gone), never silently.
            await #expect(throws: AuthError(.passwordChangeRejected)) {
                try await rig.provider.changePassword(userID: "123", currentPassword: Secret("initial-pw"), newPassword: Secret("better-password"))
            }
        }
        let second = try await rig.provider.logIn(username: "new@example.com", password: Secret("better-password"))
        guard case .authorized = second else {
            Issue.record("expected tokens after the change, got \(second)")
            return
        }
        #expect(try await rig.stored() != nil)
    }

    // MARK: - API calls

    @Test(arguments: apiTable)
    func faultOnAPICall(_ fault: TransportFault, _ expected: APIOutcome) async throws {
        let rig = Rig()
        try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
        let old = try #require(try await rig.stored())
        let sent = rig.faulty.receivedCount
        let tokens = rig.sandbox.counters.tokenRequests

        rig.faulty.inject(fault, times: Self.maxAttempts, when: Self.isAPI)
        #expect(await rig.call() == expected)
        rig.faulty.clearFaults()

        #expect(rig.faulty.receivedCount - sent == 1)   // never retried
        #expect(rig.sandbox.counters.tokenRequests == tokens)   // never a refresh
        #expect(try await rig.stored() == old)
        #expect(try await rig.provider.credential() == old)
        #expect(await rig.call() == .status(200))
        #expect(rig.sandbox.counters.tokenRequests == tokens)
    }

    // MARK: - The rotation whose answer was lost

    /// The server rotates the refresh token, the connection drops before the answer arrives, and
    /// the retry presents the now-dead refresh token: the provider stops at once in
    /// "re-authorization required", with two `/token` calls in all, and stays there without
    /// further traffic until a new grant.
    @Test func lostRotationEndsInReauthorizationRequiredWithoutALoop() async throws {
        let rig = Rig()
        try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
        let old = try #require(try await rig.stored())
        rig.clock.advance(600)
        rig.faulty.inject(.dropAfterProcessing, when: Self.isToken)
        let before = rig.sandbox.counters.tokenRequests

        let outcomes = await withTaskGroup(of: APIOutcome.self) { group in
            for _ in 0..<100 { group.addTask { await rig.call() } }
            return await group.reduce(into: [APIOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.count == 100)
        #expect(outcomes.allSatisfy { $0 == .error(.reauthorizationRequired) })
        #expect(rig.sandbox.counters.tokenRequests == before + 2)   // the lost rotation + one retry
        #expect(rig.sandbox.counters.refreshes == 1)
        #expect(rig.sandbox.counters.tokenErrors == 1)   // invalid_grant for the dead refresh token
        #expect(await rig.provider.requiresReauthorization)
        #expect(rig.events.all.contains { $0.kind == .refreshFailed && $0.code == .invalidGrant && $0.willRetry == false && $0.duration != nil })
        #expect(rig.events.all.contains(.reauthorizationRequired(provider: "profix")))

        for _ in 0..<10 { #expect(await rig.call() == .error(.reauthorizationRequired)) }
        await #expect(throws: AuthError(.reauthorizationRequired)) { try await rig.provider.refresh() }
        #expect(rig.sandbox.counters.tokenRequests == before + 2)
        #expect(try await rig.stored().isRefusedCopy(of: old))   // the stored pair is left for inspection
        #expect(!rig.sandbox.accepts(refreshToken: try #require(old.refreshToken)))

        try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
        #expect(!(await rig.provider.requiresReauthorization))
        #expect(await rig.call() == .status(200))
    }

    /// Without retries the lost answer is a transient error; the next refresh presents the dead
    /// refresh token once and ends in "re-authorization required".
    @Test func lostRotationIsDetectedOnTheNextRefresh() async throws {
        let rig = Rig(retryPolicy: RetryPolicy(maxAttempts: 1, sleep: { _ in }))
        try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
        let old = try #require(try await rig.stored())
        rig.clock.advance(600)
        rig.faulty.inject(.dropAfterProcessing, when: Self.isToken)
        let before = rig.sandbox.counters.tokenRequests

        #expect(await rig.call() == .error(.connectionFailed))
        #expect(!(await rig.provider.requiresReauthorization))
        #expect(rig.events.all.contains { $0.kind == .refreshFailed && $0.code == .connectionFailed && $0.willRetry == true && $0.duration != nil })
        #expect(try await rig.stored() == old)

        #expect(await rig.call() == .error(.reauthorizationRequired))
        #expect(rig.sandbox.counters.tokenRequests == before + 2)
        #expect(await rig.provider.requiresReauthorization)
        for _ in 0..<5 { #expect(await rig.call() == .error(.reauthorizationRequired)) }
        #expect(rig.sandbox.counters.tokenRequests == before + 2)
        #expect(try await rig.stored().isRefusedCopy(of: old))
    }

    /// A 200 whose body is `invalid_grant` is a rejection, not a success.
    @Test func invalidGrantInsideA200RequiresReauthorization() async throws {
        let rig = Rig()
        try await Fixture.authorize(rig.provider, sandbox: rig.sandbox)
        let old = try #require(try await rig.stored())
        rig.clock.advance(600)
        rig.faulty.inject(.oauthErrorIn200(error: "invalid_grant"), when: Self.isToken)
        #expect(await rig.call() == .error(.reauthorizationRequired))
        #expect(try await rig.stored().isRefusedCopy(of: old))
        #expect(rig.faulty.injected.count == 1)
    }

    // MARK: - Seeded random faults

    /// Random faults (seeded, so every run is the same) on every request for 200 token
    /// lifetimes: whatever happens, the store always holds the pair in use, re-authorization is
    /// demanded only when the stored refresh token is really dead, no call sends more than the
    /// retry policy allows, and once the faults stop the provider works (after at most one new grant).
    @Test(arguments: [1, 2, 3] as [UInt64])
    func seededRandomFaultsNeverLoseTheCredential(seed: UInt64) async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock)
        let faultsOn = Locked(true)
        let faulty = FaultInjectingTransport(base: sandbox, seed: seed, probability: 0.3, when: { _ in faultsOn.withLock { $0 } })
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(sandbox: faulty, clock: clock, store: store)
        let api = AuthorizingTransport(base: faulty, provider: provider)
        let allowed: Set<AuthError.Code> = [.connectionFailed, .timeout, .serviceUnavailable, .rateLimited, .malformedResponse, .reauthorizationRequired]

        func grant() async throws {
            faultsOn.withLock { $0 = false }
            defer { faultsOn.withLock { $0 = true } }
            try await Fixture.authorize(provider, sandbox: sandbox)
        }
        try await grant()
        var reauthorizations = 0
        for _ in 0..<200 {
            clock.advance(600)
            let tokenCalls = sandbox.counters.tokenRequests
            do {
                _ = try await api.reply(HTTPRequest(url: Fixture.apiURL))
            } catch let error as AuthError {
                #expect(allowed.contains(error.code), "unexpected \(error.code)")
            }
            #expect(sandbox.counters.tokenRequests - tokenCalls <= Self.maxAttempts)
            let stored = try await store.load(provider.key)
            if await provider.requiresReauthorization {
                let refresh = try #require(stored?.refreshToken)
                #expect(!sandbox.accepts(refreshToken: refresh), "re-authorization demanded with a live refresh token")
                reauthorizations += 1
                try await grant()
            } else {
                #expect(stored != nil)
                #expect(stored == (try await provider.credential()))
            }
        }
        faultsOn.withLock { $0 = false }
        clock.advance(600)
        do {
            _ = try await api.reply(HTTPRequest(url: Fixture.apiURL))
        } catch let error as AuthError where error.code == .reauthorizationRequired {
            try await grant()
            faultsOn.withLock { $0 = false }
        }
        #expect(try await api.reply(HTTPRequest(url: Fixture.apiURL)).status == 200)
        // Re-authorization only ever follows an answer the server sent but the client lost.
        let lostAnswers = faulty.injected.filter {
            switch $0 {
            case .dropAfterProcessing, .truncateBody: return true
            default: return false
            }
        }
        #expect(reauthorizations <= lostAnswers.count)
        #expect(faulty.injected.count > 80)
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing

@Suite struct ProfixGrantTests {
    let clock = TestClock()

    @Test func authorizationCodeGrantThenAuthorizedCall() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        try await Fixture.authorize(provider, sandbox: sandbox)

        let stored = try #require(try await store.load(provider.key))
        #expect(stored.refreshToken != nil)
        #expect(stored.expiresAt == clock.now().addingTimeInterval(600))
        #expect(stored.attributes["grant"] == "authorization_code")

        let api = AuthorizingTransport(base: sandbox, provider: provider)
        let response = try await api.reply(HTTPRequest(url: Fixture.apiURL))
        #expect(response.status == 200)
        #expect(sandbox.counters.codeExchanges == 1)
        #expect(sandbox.counters.apiCalls == 1)
    }

    @Test func codesAreSingleUseAndExpireAfterThreeMinutes() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        let pending = try ProfixAuthorizationRequest(client: Fixture.codeClient)
        let callback = try sandbox.approve(authorizationURL: pending.url)
        try await provider.exchange(callbackURL: callback, for: pending)
        await #expect(throws: AuthError(.invalidGrant)) { try await provider.exchange(callbackURL: callback, for: pending) }

        let late = try sandbox.approve(authorizationURL: pending.url)
        clock.advance(181)
        await #expect(throws: AuthError(.invalidGrant)) { try await provider.exchange(callbackURL: late, for: pending) }
        // The failed exchanges did not disturb the credential obtained first.
        #expect(try await provider.credential() != nil)
    }

    @Test func codeWithBangPlusPercentAmpersandIsExchanged() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        let pending = try ProfixAuthorizationRequest(client: Fixture.codeClient)
        let callback = try sandbox.approve(authorizationURL: pending.url, code: "XTzM!a+b%c&d=e f")
        #expect(try pending.code(from: callback).revealed == "XTzM!a+b%c&d=e f")
        try await provider.exchange(callbackURL: callback, for: pending)
        #expect(sandbox.counters.codeExchanges == 1)
    }

    @Test func wrongClientSecretIsInvalidCredentials() async throws {
        let sandbox = Fixture.sandbox(clock)
        var client = Fixture.serviceClient
        client.clientSecret = Secret("wrong")
        let provider = Fixture.provider(client, sandbox: sandbox, clock: clock)
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.requestClientCredentialsToken() }
    }

    @Test func clientCredentialsTokenIsReacquiredNotRefreshed() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(Fixture.serviceClient, sandbox: sandbox, clock: clock)
        let first = try await provider.requestClientCredentialsToken()
        #expect(first.refreshToken == nil)
        clock.advance(600)
        let request = try await provider.authorized(HTTPRequest(url: Fixture.apiURL(for: Fixture.serviceClient)))
        #expect(request.headerFields[.authorization] != "Bearer " + first.accessToken.revealed)
        #expect(sandbox.counters.clientCredentialsGrants == 2)
        #expect(sandbox.counters.refreshes == 0)
    }

    @Test func passwordGrant() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(Fixture.passwordClient, sandbox: sandbox, clock: clock)
        let outcome = try await provider.logIn(username: "support@example.com", password: Secret("correct horse"))
        #expect(outcome == .authorized(expiresAt: clock.now().addingTimeInterval(600)))
        await #expect(throws: AuthError(.invalidGrant)) {
            try await provider.logIn(username: "support@example.com", password: Secret("wrong"))
        }
        #expect(try await provider.credential()?.attributes["username"] == "support@example.com")
    }

    @Test func passwordChangeFlow() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(Fixture.passwordClient, sandbox: sandbox, clock: clock, store: store)
        let outcome = try await provider.logIn(username: "new@example.com", password: Secret("initial-pw"))
        #expect(outcome == .passwordChangeRequired(userID: "123"))
        #expect(try await store.load(provider.key) == nil)

        do {
            try await provider.changePassword(userID: "123", currentPassword: Secret("wrong"), newPassword: Secret("better-password"))
            Issue.record("expected a rejection")
        } catch let error as AuthError {
            #expect(error.code == .passwordChangeRejected)
            #expect(error.serverMessage == "The current password is not correct.")
        }
        try await provider.changePassword(userID: "123", currentPassword: Secret("initial-pw"), newPassword: Secret("better-password"))
        #expect(!sandbox.mustChangePassword("new@example.com"))
        let second = try await provider.logIn(username: "new@example.com", password: Secret("better-password"))
        guard case .authorized = second else {
            Issue.record("expected tokens, got \(second)")
            return
        }
        #expect(try await store.load(provider.key) != nil)
    }

    @Test func notAuthenticatedBeforeAnyGrantAndInsecureURLsRefused() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        await #expect(throws: AuthError(.notAuthenticated)) { try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
        try await Fixture.authorize(provider, sandbox: sandbox)
        await #expect(throws: AuthError(.insecureURL)) {
            try await provider.authorized(HTTPRequest(url: URL(string: "http://api.profix-it.nl/x")!))
        }
    }

    @Test func loadsAStoredCredentialWithoutNetwork() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        try await Fixture.authorize(Fixture.provider(sandbox: sandbox, clock: clock, store: store), sandbox: sandbox)
        let calls = sandbox.counters.tokenRequests
        let second = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        let response = try await AuthorizingTransport(base: sandbox, provider: second).reply(HTTPRequest(url: Fixture.apiURL))
        #expect(response.status == 200)
        #expect(sandbox.counters.tokenRequests == calls)
    }

    @Test func signOutRemovesTheCredential() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        try await Fixture.authorize(provider, sandbox: sandbox)
        try await provider.signOut()
        #expect(try await store.load(provider.key) == nil)
        await #expect(throws: AuthError(.notAuthenticated)) { try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
    }
}

@Suite struct ProfixRefreshTests {
    let clock = TestClock()

    @Test func leewayIsTenPercentCappedAtSixtySeconds() async throws {
        for (lifetime, leeway) in [(600.0, 60.0), (300.0, 30.0), (3600.0, 60.0)] {
            let clock = TestClock()
            let sandbox = Fixture.sandbox(clock) { $0.accessTokenLifetime = .seconds(lifetime) }
            let provider = Fixture.provider(sandbox: sandbox, clock: clock)
            try await Fixture.authorize(provider, sandbox: sandbox)
            clock.advance(lifetime - leeway - 1)
            _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
            #expect(sandbox.counters.refreshes == 0, "lifetime \(lifetime): refreshed too early")
            clock.advance(1)
            _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
            #expect(sandbox.counters.refreshes == 1, "lifetime \(lifetime): not refreshed at the leeway")
        }
    }

    @Test func configuredLeeway() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock,
                                        configuration: .init(refreshLeeway: .seconds(120), retryPolicy: noSleepRetry))
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(479)
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        #expect(sandbox.counters.refreshes == 0)
        clock.advance(1)
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        #expect(sandbox.counters.refreshes == 1)
    }

    @Test func thousandConcurrentRequestsCauseOneRefresh() async throws {
        let sandbox = Fixture.sandbox(clock) { $0.tokenLatency = .milliseconds(20) }
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let before = sandbox.counters.tokenRequests
        clock.advance(601)
        let api = AuthorizingTransport(base: sandbox, provider: provider)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await api.reply(HTTPRequest(url: Fixture.apiURL)).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 1000)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(sandbox.counters.tokenRequests == before + 1)
        #expect(sandbox.counters.refreshes == 1)
        #expect(sandbox.counters.rejectedAPICalls == 0)
    }

    @Test func rotatedPairIsStoredAndAnnouncedBeforeUse() async throws {
        let sandbox = Fixture.sandbox(clock)
        let log = EventLog()
        let store = RecordingStore(log: log)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store,
                                        onCredentialChange: { log.append("new \($0?.accessToken.revealed ?? "none")") })
        try await Fixture.authorize(provider, sandbox: sandbox)
        let old = try #require(try await provider.credential())
        clock.advance(560)
        let api = AuthorizingTransport(base: LoggingTransport(base: sandbox, log: log), provider: provider)
        _ = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await api.reply(HTTPRequest(url: Fixture.apiURL)).status } }
            return try await group.reduce(0) { $0 + $1 }
        }
        let new = try #require(try await provider.credential())
        #expect(new.accessToken != old.accessToken)
        #expect(new.refreshToken != old.refreshToken)
        #expect(!sandbox.accepts(refreshToken: try #require(old.refreshToken)))
        #expect(sandbox.accepts(refreshToken: try #require(new.refreshToken)))
        #expect(try await store.load(provider.key) == new)

        let entries = log.all
        let saved = try #require(entries.firstIndex(of: "save \(new.accessToken.revealed)"))
        let announced = try #require(entries.firstIndex(of: "new \(new.accessToken.revealed)"))
        let firstUse = try #require(entries.firstIndex(of: "use \(new.accessToken.revealed)"))
        #expect(saved < announced)
        #expect(announced < firstUse)
        #expect(entries.filter { $0 == "use \(new.accessToken.revealed)" }.count == 50)
    }

    @Test func invalidGrantRequiresReauthorizationForEveryWaiter() async throws {
        let sandbox = Fixture.sandbox(clock) { $0.tokenLatency = .milliseconds(10) }
        let store = InMemoryTokenStore()
        let events = EventCollector()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store, observer: events.observer)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let stored = try await store.load(provider.key)
        sandbox.revokeRefreshTokens()
        clock.advance(600)
        let before = sandbox.counters.tokenRequests

        let codes = await withTaskGroup(of: AuthError.Code?.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    do {
                        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
                        return nil
                    } catch let error as AuthError {
                        return error.code
                    } catch {
                        return nil
                    }
                }
            }
            return await group.reduce(into: [AuthError.Code?]()) { $0.append($1) }
        }
        #expect(codes.count == 200)
        #expect(codes.allSatisfy { $0 == .reauthorizationRequired })
        #expect(sandbox.counters.tokenRequests == before + 1)

        // No retry loop: later calls fail at once without network traffic.
        await #expect(throws: AuthError(.reauthorizationRequired)) { try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
        await #expect(throws: AuthError(.reauthorizationRequired)) { try await provider.refresh() }
        #expect(sandbox.counters.tokenRequests == before + 1)
        #expect(await provider.requiresReauthorization)
        #expect(try await store.load(provider.key).isRefusedCopy(of: stored))   // left for inspection, marked
        #expect(events.all.contains(.reauthorizationRequired(provider: "profix")))
        #expect(events.all.contains { $0.kind == .refreshFailed && $0.code == .invalidGrant && $0.willRetry == false && $0.duration != nil })

        // A new grant recovers.
        try await Fixture.authorize(provider, sandbox: sandbox)
        #expect(try await AuthorizingTransport(base: sandbox, provider: provider).reply(HTTPRequest(url: Fixture.apiURL)).status == 200)
    }

    @Test(arguments: [MockTransport.Response(status: 401), .json(400, "{}"), .json(401, #"{"error":"invalid_client"}"#)])
    func rejectedRefreshStatusesRequireReauthorization(_ reply: MockTransport.Response) async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(600)
        sandbox.enqueueTokenReply(reply)
        await #expect(throws: AuthError(.reauthorizationRequired)) { try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
        #expect(sandbox.counters.tokenRequests == 2)
    }

    @Test func transientFailuresKeepTheTokens() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let events = EventCollector()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store, observer: events.observer)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let stored = try await store.load(provider.key)
        clock.advance(600)
        for _ in 0..<3 { sandbox.enqueueTokenReply(.json(503, #"{"message":"down"}"#)) }
        await #expect(throws: AuthError(.serviceUnavailable)) { try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
        #expect(sandbox.counters.tokenRequests == 4)   // one grant + three attempts
        #expect(try await store.load(provider.key) == stored)
        #expect(!(await provider.requiresReauthorization))
        #expect(events.all.contains { $0.kind == .refreshFailed && $0.code == .serviceUnavailable && $0.willRetry == true && $0.duration != nil })
        // The next request refreshes with the same refresh token.
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        #expect(sandbox.counters.refreshes == 1)
    }

    static let badRefreshReplies: [MockTransport.Response] = [
        MockTransport.Response(status: 200, headerFields: [.contentType: "text/html"], body: Data("<html>maintenance</html>".utf8)),
        .json(200, #"{"token_type":"Bearer","expires_in":600,"refresh_token":"x"}"#),
        .json(200, #"{"access_token":"a","expires_in":"soon","refresh_token":"x"}"#),
        .json(200, #"{"access_token":"a","expires_in":-1,"refresh_token":"x"}"#),
        .json(200, #"{"access_token":""# + String(repeating: "a", count: 2 << 20) + #""}"#),
    ]

    @Test(arguments: badRefreshReplies)
    func malformedRefreshResponsesLeaveTheStoredPairUntouched(_ reply: MockTransport.Response) async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let stored = try await store.load(provider.key)
        clock.advance(600)
        sandbox.enqueueTokenReply(reply)
        await #expect {
            try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        } throws: { error in
            guard let error = error as? AuthError else { return false }
            return error.code == .malformedResponse || error.code == .responseTooLarge
        }
        #expect(try await store.load(provider.key) == stored)
        #expect(try await provider.credential() == stored)
        #expect(!(await provider.requiresReauthorization))
    }

    @Test func malformedGrantResponseStoresNothing() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(Fixture.serviceClient, sandbox: sandbox, clock: clock, store: store)
        sandbox.enqueueTokenReply(.json(200, #"{"access_token":"a","expires_in":"-5"}"#))
        await #expect(throws: AuthError(.malformedResponse)) { try await provider.requestClientCredentialsToken() }
        #expect(store.keys.isEmpty)
    }

    /// A grant whose save fails for good is an error, not a success; the tokens stay usable in
    /// memory. Two failures in a row are absorbed by the store retries.
    @Test func aGrantThatCannotBeSavedIsAnErrorAndBriefFailuresAreRetried() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = RecordingStore(log: EventLog())
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        store.setFailing(true)
        await #expect(throws: AuthError(.storeFailure)) { try await Fixture.authorize(provider, sandbox: sandbox) }
        #expect(try await provider.credential() != nil)
        #expect(try await store.load(provider.key) == nil)

        store.setFailing(false)
        store.failNext(2)
        try await Fixture.authorize(provider, sandbox: sandbox)
        #expect(try await store.load(provider.key) == provider.credential())
    }

    /// The rotated pair cannot be saved (even after the retries): the caller is told with a
    /// typed error, never a silent success, and the pair stays in use in memory.
    @Test func failedSaveAfterARotationIsReportedAndKeepsTheNewPairInMemory() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = RecordingStore(log: EventLog())
        let events = EventCollector()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store, observer: events.observer)
        try await Fixture.authorize(provider, sandbox: sandbox)
        store.setFailing(true)
        clock.advance(600)
        await #expect(throws: AuthError(.storeFailure)) { _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
        #expect(sandbox.counters.refreshes == 1)
        let request = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        let current = try #require(try await provider.credential())
        #expect(request.headerFields[.authorization] == "Bearer " + current.accessToken.revealed)
        #expect(sandbox.accepts(accessToken: current.accessToken))
        #expect(events.all.contains(.storeFailed(provider: "profix", code: .storeFailure)))
        store.setFailing(false)
        clock.advance(600)
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))   // the in-memory pair still refreshes
        #expect(sandbox.counters.refreshes == 2)
    }

    @Test func unauthorizedAPICallRefreshesOnceAndRetries() async throws {
        let sandbox = Fixture.sandbox(clock)
        let events = EventCollector()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, observer: events.observer)
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(10)   // past the forced-refresh interval
        sandbox.revokeAccessTokens()
        let api = AuthorizingTransport(base: sandbox, provider: provider, observer: events.observer)
        let response = try await api.reply(HTTPRequest(url: Fixture.apiURL))
        #expect(response.status == 200)
        #expect(sandbox.counters.refreshes == 1)
        #expect(sandbox.counters.rejectedAPICalls == 1)
        #expect(events.all.contains(.retriedAfterRejection(provider: "profix", status: 401)))
    }

    @Test func burstOf401sRotatesOnce() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(10)
        sandbox.revokeAccessTokens()
        let api = AuthorizingTransport(base: sandbox, provider: provider)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await api.reply(HTTPRequest(url: Fixture.apiURL)).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(sandbox.counters.refreshes == 1)
    }

    @Test func softWindowServesTheCurrentTokenWhileOneBackgroundRefreshRuns() async throws {
        let sandbox = Fixture.sandbox(clock)
        let events = EventCollector()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock,
                                        configuration: .init(softRefreshWindow: .seconds(60), retryPolicy: noSleepRetry),
                                        observer: events.observer)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let old = try #require(try await provider.credential())
        clock.advance(490)   // inside the soft window (480...540)
        var headers: [String?] = []
        for _ in 0..<20 { headers.append(try await provider.authorized(HTTPRequest(url: Fixture.apiURL)).headerFields[.authorization]) }
        #expect(headers.first == "Bearer " + old.accessToken.revealed)   // served at once, not after a refresh
        for await event in events.stream {
            if event.kind == .credentialRefreshed { break }
        }
        #expect(sandbox.counters.refreshes == 1)
        let new = try #require(try await provider.credential())
        #expect(new.accessToken != old.accessToken)
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        #expect(sandbox.counters.refreshes == 1)
    }

    @Test func newPairCallbackAndEventsCarryNoSecret() async throws {
        let sandbox = Fixture.sandbox(clock)
        let events = EventCollector()
        let pairs = Locked<[StoredCredential]>([])
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, observer: events.observer,
                                        onCredentialChange: { pair in if let pair { pairs.withLock { $0.append(pair) } } })
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(600)
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        let received = pairs.withLock { $0 }
        #expect(received.count == 2)
        #expect(received.last == (try await provider.credential()))
        let text = events.all.map(\.description).joined(separator: "\n") + received.map(\.description).joined()
        for pair in received {
            #expect(!text.contains(pair.accessToken.revealed))
            #expect(!text.contains(try #require(pair.refreshToken).revealed))
        }
        #expect(events.all.contains { $0.kind == .credentialRefreshed })
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import ProfitAuthTesting
import Foundation
import Testing
@testable import ProfitAuth

/// What one fault does to one Profit call when it hits every attempt of that call.
struct ProfitFaultRow: Sendable, CustomTestStringConvertible {
    let fault: TransportFault
    /// The error the caller sees; `nil` when the call succeeds.
    let code: AuthError.Code?
    /// The requests the provider sent (the fixtures' retry policy allows 2; a 500 is never retried).
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

/// Every fault of ``TransportFault/catalogue`` on every Profit token call (`OtpRequest`,
/// `OtpValidation`, SOAP `GenerateOTP`, `GetTokenFromOTP`, `DeleteToken`) and on API calls,
/// against ``ProfitSandbox``. A token is always held already, so "intact" is checked, not assumed.
@Suite struct ProfitFaultTests {
    static let maxAttempts = 2

    /// REST `OtpRequest`. Profit answers 201 with an empty body whatever happens (it never says
    /// whether a mail went out), so the SDK does not read a 2xx body: a truncated body or an
    /// OAuth error inside a 200 is accepted, exactly as a real 201 would be.
    ///
    /// | fault | code | attempts | processed (mails sent) |
    /// |---|---|---|---|
    /// | drop before processing | connectionFailed | 2 | 0 |
    /// | drop after processing | connectionFailed | 2 | 2 |
    /// | delay, truncated body, duplicate headers | — (succeeds) | 1 | 1 |
    /// | timeout | timeout | 2 | 0 |
    /// | 500 | profitFunctionalError (a 500 is Profit's functional error: never retried) | 1 | 0 |
    /// | 502, 503 (± Retry-After), HTML page 502 | serviceUnavailable | 2 | 0 |
    /// | 429 (± Retry-After) | rateLimited | 2 | 0 |
    /// | 200 with an OAuth error | — (accepted, see above) | 1 | 0 |
    static let otpRequestTable: [ProfitFaultRow] = [
        .init(.dropBeforeProcessing, .connectionFailed, attempts: 2, processed: 0),
        .init(.dropAfterProcessing, .connectionFailed, attempts: 2, processed: 2),
        .init(.delay(.milliseconds(5)), nil, attempts: 1, processed: 1),
        .init(.timeout, .timeout, attempts: 2, processed: 0),
        .init(.status(500, retryAfter: nil), .profitFunctionalError, attempts: 1, processed: 0),
        .init(.status(502, retryAfter: nil), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(503, retryAfter: "1"), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(503, retryAfter: nil), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(429, retryAfter: "2"), .rateLimited, attempts: 2, processed: 0),
        .init(.status(429, retryAfter: nil), .rateLimited, attempts: 2, processed: 0),
        .init(.truncateBody(keepBytes: 7), nil, attempts: 1, processed: 1),
        .init(.htmlErrorPage(status: 502), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.duplicateHeaders(value: "bogus"), nil, attempts: 1, processed: 1),
        .init(.oauthErrorIn200(error: "server_error"), nil, attempts: 1, processed: 0),
    ]

    /// REST `OtpValidation` and SOAP `GetTokenFromOTP` redeem a one-time code: they are retried
    /// only when the request certainly did not reach Profit (connection refused or dropped, DNS)
    /// or Profit said to come back (429, 503). A timeout or a 502/504 may hide a redemption that
    /// consumed the code, so it is reported as it is (typed, transient) instead of being retried
    /// into "code not accepted".
    ///
    /// REST `OtpValidation`. Profit refuses a code with HTTP 500 and its error body
    /// (`externalMessage`, `errorNumber`), which reads as "code not accepted"; the injected 500
    /// carries a generic `{"message": …}` body, so it stays Profit's functional error.
    ///
    /// | fault | code | attempts | processed (code consumed) |
    /// |---|---|---|---|
    /// | drop before processing | connectionFailed | 2 | 0 |
    /// | drop after processing | connectionFailed | 2 | 2 (the first consumed the code) |
    /// | delay, duplicate headers | — (succeeds) | 1 | 1 |
    /// | timeout | timeout (not retried: one-time) | 1 | 0 |
    /// | 500 without Profit's error body | profitFunctionalError | 1 | 0 |
    /// | 502, HTML page 502 | serviceUnavailable (not retried: one-time) | 1 | 0 |
    /// | 503 (± Retry-After) | serviceUnavailable | 2 | 0 |
    /// | 429 (± Retry-After) | rateLimited | 2 | 0 |
    /// | truncated body | malformedResponse | 1 | 1 |
    /// | 200 with an OAuth error | malformedResponse (no token) | 1 | 0 |
    static let otpValidationTable: [ProfitFaultRow] = [
        .init(.dropBeforeProcessing, .connectionFailed, attempts: 2, processed: 0),
        .init(.dropAfterProcessing, .connectionFailed, attempts: 2, processed: 2),
        .init(.delay(.milliseconds(5)), nil, attempts: 1, processed: 1),
        .init(.timeout, .timeout, attempts: 1, processed: 0),
        .init(.status(500, retryAfter: nil), .profitFunctionalError, attempts: 1, processed: 0),
        .init(.status(502, retryAfter: nil), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.status(503, retryAfter: "1"), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(503, retryAfter: nil), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(429, retryAfter: "2"), .rateLimited, attempts: 2, processed: 0),
        .init(.status(429, retryAfter: nil), .rateLimited, attempts: 2, processed: 0),
        .init(.truncateBody(keepBytes: 7), .malformedResponse, attempts: 1, processed: 1),
        .init(.htmlErrorPage(status: 502), .serviceUnavailable, attempts: 1, processed: 0),
        .init(.duplicateHeaders(value: "bogus"), nil, attempts: 1, processed: 1),
        .init(.oauthErrorIn200(error: "server_error"), .malformedResponse, attempts: 1, processed: 0),
    ]

    /// SOAP `GetTokenFromOTP`: as ``soapTable``, except that a timeout, a 502 and an HTML 502
    /// page are not retried (one-time code, see ``otpValidationTable``).
    static let getTokenFromOTPTable: [ProfitFaultRow] = soapTable.map { row in
        switch row.fault {
        case .timeout, .status(502, _), .htmlErrorPage(502):
            return ProfitFaultRow(row.fault, row.code, attempts: 1, processed: row.processed)
        default:
            return row
        }
    }

    /// SOAP `GenerateOTP`, `GetTokenFromOTP` and `DeleteToken` on `tokenconnector.asmx`.
    ///
    /// | fault | code | attempts | processed |
    /// |---|---|---|---|
    /// | drop before processing | connectionFailed | 2 | 0 |
    /// | drop after processing | connectionFailed | 2 | 2 |
    /// | delay, duplicate headers | — (succeeds) | 1 | 1 |
    /// | timeout | timeout | 2 | 0 |
    /// | 500 that is not a SOAP fault | profitFunctionalError | 1 | 0 |
    /// | 502, 503 (± Retry-After), HTML page 502 | serviceUnavailable | 2 | 0 |
    /// | 429 (± Retry-After) | rateLimited | 2 | 0 |
    /// | truncated body | malformedResponse | 1 | 1 |
    /// | 200 with an OAuth (JSON) error | malformedResponse (not SOAP) | 1 | 0 |
    static let soapTable: [ProfitFaultRow] = [
        .init(.dropBeforeProcessing, .connectionFailed, attempts: 2, processed: 0),
        .init(.dropAfterProcessing, .connectionFailed, attempts: 2, processed: 2),
        .init(.delay(.milliseconds(5)), nil, attempts: 1, processed: 1),
        .init(.timeout, .timeout, attempts: 2, processed: 0),
        .init(.status(500, retryAfter: nil), .profitFunctionalError, attempts: 1, processed: 0),
        .init(.status(502, retryAfter: nil), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(503, retryAfter: "1"), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(503, retryAfter: nil), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.status(429, retryAfter: "2"), .rateLimited, attempts: 2, processed: 0),
        .init(.status(429, retryAfter: nil), .rateLimited, attempts: 2, processed: 0),
        .init(.truncateBody(keepBytes: 7), .malformedResponse, attempts: 1, processed: 1),
        .init(.htmlErrorPage(status: 502), .serviceUnavailable, attempts: 2, processed: 0),
        .init(.duplicateHeaders(value: "bogus"), nil, attempts: 1, processed: 1),
        .init(.oauthErrorIn200(error: "server_error"), .malformedResponse, attempts: 1, processed: 0),
    ]

    /// API calls through ``AuthorizingTransport`` are never retried and never touch the token:
    /// no response → the transport's error; any response that is not 401/403 → returned as is.
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

    enum API: String, Sendable, CaseIterable {
        case rest, soap
    }

    @Test func tablesCoverTheWholeCatalogue() {
        for table in [Self.otpRequestTable, Self.otpValidationTable, Self.soapTable, Self.getTokenFromOTPTable] {
            #expect(table.map(\.fault) == TransportFault.catalogue)
            #expect(table.allSatisfy { $0.attempts <= Self.maxAttempts && $0.processed <= $0.attempts })
        }
        #expect(Self.apiTable.map(\.0) == TransportFault.catalogue)
    }

    /// Matches the REST path or the SOAP action of `operation`.
    static func operation(_ name: String) -> @Sendable (MockTransport.Request) -> Bool {
        { $0.url.path.hasSuffix("/" + name) || ($0.headerFields[.soapAction] ?? "").contains("/" + name) }
    }

    /// A sandbox behind a fault injector, and a provider holding a token obtained through it.
    struct Rig {
        let sandbox = Fixtures.sandbox()
        let faulty: FaultInjectingTransport<ProfitSandbox>
        let store = InMemoryTokenStore()
        let provider: ProfitProvider
        let api: AuthorizingTransport<FaultInjectingTransport<ProfitSandbox>, ProfitProvider>

        init() throws {
            faulty = FaultInjectingTransport(base: sandbox)
            provider = try Fixtures.provider(transport: faulty, store: store)
            api = AuthorizingTransport(base: faulty, provider: provider)
        }

        /// Runs the REST OTP flow without faults; returns the stored credential.
        func onboard() async throws -> StoredCredential {
            try await provider.requestOTP(userId: "DavidB")
            try await provider.redeemOTP(try #require(sandbox.latestCode(for: "DavidB")), userId: "DavidB")
            return try #require(try await stored())
        }

        func stored() async throws -> StoredCredential? { try await store.load(Fixtures.key) }

        func request(_ api: API) throws -> OutgoingRequest {
            switch api {
            case .rest:
                return OutgoingRequest(url: try provider.environment.restURL("ProfitVersion"))
            case .soap:
                let envelope = SOAPMessage.envelope(operation: "GetVersionInfo", namespace: "urn:Afas.Profit.Services", parameters: [])
                return SOAPMessage.request(url: try provider.environment.soapURL("appconnectorversioninfo.asmx"),
                                           action: "urn:Afas.Profit.Services/GetVersionInfo", envelope: envelope)
            }
        }

        /// One API call: its status, or the code it failed with.
        func call(_ kind: API = .rest) async -> APIOutcome {
            do {
                return .status(try await api.reply(try request(kind)).status)
            } catch let error as AuthError {
                return .error(error.code)
            } catch {
                Issue.record("not an AuthError: \(type(of: error))")
                return .error(.transportFailure)
            }
        }

        /// Runs `body` with `fault` on every request of `operation`, then clears it.
        func under<T>(_ fault: TransportFault, on operation: String, _ body: () async throws -> T) async -> Result<T, AuthError> {
            faulty.inject(fault, times: ProfitFaultTests.maxAttempts, when: ProfitFaultTests.operation(operation))
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

        /// Checks the attempts, the processed requests and the outcome against `row`; `true` when
        /// the call failed as the row says.
        func check<T>(_ result: Result<T, AuthError>, _ row: ProfitFaultRow, sent: Int, processed: Int) -> Bool {
            #expect(faulty.receivedCount - sent == row.attempts)
            #expect(sandbox.calls.count - processed == row.processed)
            switch (result, row.code) {
            case (.success, nil):
                return false
            case (.failure(let error), let code?):
                #expect(error.code == code)
                #expect(error.provider == "profit")
                return true
            default:
                Issue.record("expected \(row.code.map(\.rawValue) ?? "success"), got \(result)")
                return false
            }
        }
    }

    // MARK: - Requesting a code

    @Test(arguments: otpRequestTable)
    func faultOnOtpRequest(_ row: ProfitFaultRow) async throws {
        try await checkRequestingACode(.rest, row)
    }

    @Test(arguments: soapTable)
    func faultOnGenerateOTP(_ row: ProfitFaultRow) async throws {
        try await checkRequestingACode(.soap, row)
    }

    func checkRequestingACode(_ channel: ProfitProvider.Channel, _ row: ProfitFaultRow) async throws {
        let rig = try Rig()
        let held = try await rig.onboard()
        let mails = rig.sandbox.outbox.count
        let sent = rig.faulty.receivedCount
        let processed = rig.sandbox.calls.count

        let result = await rig.under(row.fault, on: channel == .rest ? "OtpRequest" : "GenerateOTP") {
            try await rig.provider.requestOTP(userId: "DavidB", over: channel)
        }
        _ = rig.check(result, row, sent: sent, processed: processed)
        #expect(rig.sandbox.outbox.count - mails == row.processed)   // one mail per processed request
        #expect(try await rig.stored() == held)
        #expect(await rig.call() == .status(200))

        // Recovery: asking again sends a code that redeems.
        try await rig.provider.requestOTP(userId: "DavidB", over: channel)
        #expect(rig.sandbox.outbox.count - mails == row.processed + 1)
        try await rig.provider.redeemOTP(try #require(rig.sandbox.latestCode(for: "DavidB")), userId: "DavidB", over: channel)
        #expect(try await rig.stored() != held)
    }

    // MARK: - Redeeming a code

    @Test(arguments: otpValidationTable)
    func faultOnOtpValidation(_ row: ProfitFaultRow) async throws {
        try await checkRedeemingACode(.rest, row)
    }

    @Test(arguments: getTokenFromOTPTable)
    func faultOnGetTokenFromOTP(_ row: ProfitFaultRow) async throws {
        try await checkRedeemingACode(.soap, row)
    }

    func checkRedeemingACode(_ channel: ProfitProvider.Channel, _ row: ProfitFaultRow) async throws {
        let rig = try Rig()
        let held = try await rig.onboard()
        try await rig.provider.requestOTP(userId: "DavidB", over: channel)
        let code = try #require(rig.sandbox.latestCode(for: "DavidB"))
        let sent = rig.faulty.receivedCount
        let processed = rig.sandbox.calls.count

        let result = await rig.under(row.fault, on: channel == .rest ? "OtpValidation" : "GetTokenFromOTP") {
            try await rig.provider.redeemOTP(code, userId: "DavidB", over: channel)
        }
        guard rig.check(result, row, sent: sent, processed: processed) else {
            if case .success(let token) = result {   // correctly replaced
                let new = try #require(try await rig.stored())
                #expect(new != held)
                #expect(new.accessToken == token.xml)
                #expect(await rig.call() == .status(200))
            }
            return
        }
        #expect(try await rig.stored() == held)   // intact, and still in use
        #expect(await rig.call() == .status(200))
        // A processed redemption issued a token that never arrived: an orphan on the server.
        #expect(rig.sandbox.activeTokenCount == 1 + (row.processed > 0 ? 1 : 0))

        // Recovery once the fault clears.
        if row.processed > 0 {
            // The code was used up by the lost redemption; it fails clearly and changes nothing.
            await #expect(throws: AuthError(.invalidCredentials)) {
                try await rig.provider.redeemOTP(code, userId: "DavidB", over: channel)
            }
            #expect(try await rig.stored() == held)
            try await rig.provider.requestOTP(userId: "DavidB", over: channel)
            try await rig.provider.redeemOTP(try #require(rig.sandbox.latestCode(for: "DavidB")), userId: "DavidB", over: channel)
        } else {
            try await rig.provider.redeemOTP(code, userId: "DavidB", over: channel)
        }
        #expect(try await rig.stored() != held)
        #expect(await rig.call() == .status(200))
    }

    /// Profit redeems the code and issues a token, then the answer is lost to a timeout or a
    /// gateway's 504. The caller hears exactly that (typed, transient), after one attempt:
    /// a retry would only have been told "code not accepted".
    @Test(arguments: [ProfitProvider.Channel.rest, .soap], [LostAnswer.timeout, .gatewayTimeout, .badGateway])
    func answerLostAfterRedemptionIsReportedAsItIs(_ channel: ProfitProvider.Channel, _ loss: LostAnswer) async throws {
        let sandbox = Fixtures.sandbox()
        let transport = LosingTransport(base: sandbox, operation: channel == .rest ? "OtpValidation" : "GetTokenFromOTP", loss: loss)
        let store = InMemoryTokenStore()
        let provider = try Fixtures.provider(transport: transport, store: store, configuration: Fixtures.configuration {
            $0.retryPolicy = RetryPolicy(maxAttempts: 3, sleep: { _ in })
        })
        try await provider.addToken(try sandbox.issueToken(for: "DavidB"))
        let held = try #require(try await store.load(Fixtures.key))
        try await provider.requestOTP(userId: "DavidB", over: channel)
        let code = try #require(sandbox.latestCode(for: "DavidB"))

        let error = try await #require(throws: AuthError.self) { try await provider.redeemOTP(code, userId: "DavidB", over: channel) }
        #expect(error.code == loss.code)
        #expect(error.isTransient)
        #expect(error.provider == "profit")
        #expect(transport.matched == 1)                    // one attempt, no retry
        #expect(sandbox.activeTokenCount == 2)             // the lost token, an orphan in Profit
        #expect(try await store.load(Fixtures.key) == held)
    }

    enum LostAnswer: Sendable, CustomTestStringConvertible {
        case timeout, gatewayTimeout, badGateway
        var code: AuthError.Code { self == .timeout ? .timeout : .serviceUnavailable }
        var testDescription: String { "\(self)" }
    }

    /// Forwards requests to the sandbox, and loses the answer to the first one for `operation`.
    final class LosingTransport: HTTPTransport {
        let base: ProfitSandbox
        let operation: String
        let loss: LostAnswer
        private let count = Locked(0)
        var matched: Int { count.withLock { $0 } }

        init(base: ProfitSandbox, operation: String, loss: LostAnswer) {
            self.base = base
            self.operation = operation
            self.loss = loss
        }

        func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
            let response = try await base.send(request, body: body)
            guard ProfitFaultTests.operation(operation)(MockTransport.Request(head: request, body: body)) else { return response }
            guard count.withLock({ count -> Bool in
                count += 1
                return count == 1
            }) else { return response }
            switch loss {
            case .timeout: throw AuthError(.timeout, message: "the answer timed out")
            case .gatewayTimeout:
                let page = MockTransport.Response(status: 504, headerFields: [.contentType: "text/html"], body: Data("<html>504 Gateway Time-out</html>".utf8))
                return (page.head, page.body)
            case .badGateway: return (MockTransport.Response(status: 502).head, Data())
            }
        }
    }

    // MARK: - Deleting the token

    @Test(arguments: soapTable)
    func faultOnDeleteToken(_ row: ProfitFaultRow) async throws {
        let rig = try Rig()
        let held = try await rig.onboard()
        let sent = rig.faulty.receivedCount
        let processed = rig.sandbox.calls.count

        let result = await rig.under(row.fault, on: "DeleteToken") { try await rig.provider.deleteToken() }
        guard rig.check(result, row, sent: sent, processed: processed) else {
            if case .success = result {
                #expect(try await rig.stored() == nil)
                #expect(rig.sandbox.activeTokenCount == 0)
                #expect(await rig.call() == .error(.notAuthenticated))
            }
            return
        }
        // The local token is kept whenever the answer did not confirm the deletion.
        #expect(try await rig.stored() == held)
        #expect(try await rig.provider.hasToken())
        #expect(rig.sandbox.activeTokenCount == (row.processed > 0 ? 0 : 1))

        if row.processed > 0 {
            // Profit revoked it but the answer was lost: a second DeleteToken is refused (unknown
            // token) and still keeps the local copy; the app then deletes it locally.
            #expect(await rig.call() == .error(.revoked))
            await #expect(throws: AuthError(.invalidCredentials)) { try await rig.provider.deleteToken() }
            #expect(try await rig.stored() == held)
            try await rig.provider.deleteToken(revokingOnServer: false)
        } else {
            #expect(await rig.call() == .status(200))
            try await rig.provider.deleteToken()
            #expect(rig.sandbox.activeTokenCount == 0)
        }
        #expect(try await rig.stored() == nil)
        #expect(!(try await rig.provider.hasToken()))
    }

    // MARK: - API calls

    @Test(arguments: API.allCases, apiTable)
    func faultOnAPICall(_ kind: API, _ entry: (TransportFault, APIOutcome)) async throws {
        let (fault, expected) = entry
        let rig = try Rig()
        let held = try await rig.onboard()
        let sent = rig.faulty.receivedCount
        let processed = rig.sandbox.calls.count
        let isAPI: @Sendable (MockTransport.Request) -> Bool = { request in
            !["OtpRequest", "OtpValidation", "GenerateOTP", "GetTokenFromOTP", "DeleteToken"].contains { Self.operation($0)(request) }
        }

        rig.faulty.inject(fault, times: Self.maxAttempts, when: isAPI)
        #expect(await rig.call(kind) == expected)
        rig.faulty.clearFaults()

        #expect(rig.faulty.receivedCount - sent == 1)   // never retried
        let reached = rig.sandbox.calls.count - processed
        switch fault {
        case .dropAfterProcessing, .delay, .truncateBody, .duplicateHeaders: #expect(reached == 1)
        default: #expect(reached == 0)
        }
        #expect(try await rig.stored() == held)
        #expect(rig.sandbox.activeTokenCount == 1)
        #expect(await rig.call(kind) == .status(200))
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
@testable import EconomicAuth
import Foundation
import Testing

/// What one fault does to one e-conomic call.
struct EconomicFaultRow: Sendable, CustomTestStringConvertible {
    let fault: TransportFault
    /// The error the caller sees; `nil` when the call succeeds.
    let code: AuthError.Code?
    /// Whether the sandbox processed the request.
    let processed: Bool

    init(_ fault: TransportFault, _ code: AuthError.Code?, processed: Bool) {
        self.fault = fault
        self.code = code
        self.processed = processed
    }

    var testDescription: String { fault.description }
}

/// Every fault of ``TransportFault/catalogue`` on `ConnectWithToken` (first connect and
/// reconnect), `GET /self`, SOAP operations and REST API calls, against ``EconomicSandbox``.
///
/// e-conomic's tokens never expire and nothing in EconomicAuth retries automatically, so each call
/// sends exactly one request (a lost session adds one `ConnectWithToken` and one resend).
/// "Intact" means: the grant is not marked rejected, the agreement learnt stays known, and an
/// open SOAP session is kept.
@Suite struct EconomicFaultTests {
    /// `ConnectWithToken`, any SOAP operation, and `GET /self` answer the same way:
    ///
    /// | fault | code | processed by the server |
    /// |---|---|---|
    /// | drop before processing | connectionFailed | no |
    /// | drop after processing | connectionFailed | yes (a session opened that the client never learns) |
    /// | delay, duplicate headers | — (succeeds) | yes |
    /// | timeout | timeout | no |
    /// | 500, 502, 503 (± Retry-After), HTML page 502 | serviceUnavailable | no |
    /// | 429 (± Retry-After) | rateLimited | no |
    /// | truncated body | malformedResponse | yes |
    /// | 200 with an OAuth (JSON) error | malformedResponse (not SOAP; no agreementNumber for /self) | no |
    static let callTable: [EconomicFaultRow] = [
        .init(.dropBeforeProcessing, .connectionFailed, processed: false),
        .init(.dropAfterProcessing, .connectionFailed, processed: true),
        .init(.delay(.milliseconds(5)), nil, processed: true),
        .init(.timeout, .timeout, processed: false),
        .init(.status(500, retryAfter: nil), .serviceUnavailable, processed: false),
        .init(.status(502, retryAfter: nil), .serviceUnavailable, processed: false),
        .init(.status(503, retryAfter: "1"), .serviceUnavailable, processed: false),
        .init(.status(503, retryAfter: nil), .serviceUnavailable, processed: false),
        .init(.status(429, retryAfter: "2"), .rateLimited, processed: false),
        .init(.status(429, retryAfter: nil), .rateLimited, processed: false),
        .init(.truncateBody(keepBytes: 7), .malformedResponse, processed: true),
        .init(.htmlErrorPage(status: 502), .serviceUnavailable, processed: false),
        .init(.duplicateHeaders(value: "bogus"), nil, processed: true),
        .init(.oauthErrorIn200(error: "server_error"), .malformedResponse, processed: false),
    ]

    /// REST API calls return any response that is not 401/403 as it is; no response → the
    /// transport's error.
    static let restTable: [(TransportFault, APIOutcome)] = [
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

    enum Route: String, Sendable, CaseIterable {
        case providerSend, authorizingTransport
    }

    static let isConnect: @Sendable (MockTransport.Request) -> Bool = { ($0.headerFields[.soapAction] ?? "").contains("/ConnectWithToken") }
    static let isOperation: @Sendable (MockTransport.Request) -> Bool = { request in
        request.headerFields.contains(.soapAction) && !isConnect(request)
    }
    static let isSelf: @Sendable (MockTransport.Request) -> Bool = { $0.url.path.hasSuffix("/self") }
    static let isREST: @Sendable (MockTransport.Request) -> Bool = { !$0.headerFields.contains(.soapAction) && !isSelf($0) }

    @Test func tablesCoverTheWholeCatalogue() {
        #expect(Self.callTable.map(\.fault) == TransportFault.catalogue)
        #expect(Self.restTable.map(\.0) == TransportFault.catalogue)
    }

    struct Rig {
        let clock = TestClock()
        let sandbox: EconomicSandbox
        let faulty: FaultInjectingTransport<EconomicSandbox>
        let credentials: EconomicCredentials
        let session: EconomicSOAPSession
        let provider: EconomicProvider

        init() throws {
            let clock = clock
            sandbox = EconomicSandbox(sessionTimeout: .seconds(600), now: { clock.now })
            faulty = FaultInjectingTransport(base: sandbox)
            credentials = EconomicCredentials(appSecretToken: sandbox.appSecretToken,
                                              agreementGrantToken: sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber))
            session = try EconomicSOAPSession(credentials: credentials, transport: faulty)
            provider = try EconomicProvider(credentials: credentials, transport: faulty)
        }

        /// Runs `body` with `fault` on every matching request, then clears it.
        func under<T>(_ fault: TransportFault, when matches: @escaping @Sendable (MockTransport.Request) -> Bool,
                      _ body: () async throws -> T) async -> Result<T, AuthError> {
            faulty.inject(fault, times: 3, when: matches)
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

        func agreementNumber() async throws -> String? {
            try await session.call("Agreement_GetNumber").text(of: "Agreement_GetNumberResult")
        }

        /// The grant is untouched: still the same tokens, not marked rejected, still accepted.
        func expectGrantIntact() {
            #expect(provider.credentials == credentials)
            #expect(!provider.isRejected)
            #expect(sandbox.activeGrantCount == 1)
        }
    }

    static func expect<T>(_ result: Result<T, AuthError>, _ row: EconomicFaultRow) {
        switch (result, row.code) {
        case (.success, nil):
            break
        case (.failure(let error), let code?):
            #expect(error.code == code)
            #expect(error.provider == "economic")
        default:
            Issue.record("expected \(row.code.map(\.rawValue) ?? "success"), got \(result)")
        }
    }

    static let expectedNumber = String(EconomicSandbox.defaultAgreementNumber)

    // MARK: - ConnectWithToken

    @Test(arguments: callTable)
    func faultOnConnect(_ row: EconomicFaultRow) async throws {
        let rig = try Rig()
        let result = await rig.under(row.fault, when: Self.isConnect) { try await rig.session.connect() }
        Self.expect(result, row)
        #expect(rig.faulty.receivedCount == 1)   // never retried
        #expect(rig.sandbox.connectCount == (row.processed ? 1 : 0))
        #expect(rig.session.isConnected == (row.code == nil))
        #expect(rig.sandbox.activeSessionCount == (row.processed ? 1 : 0))
        rig.expectGrantIntact()

        // Recovery: the next call connects (again, if the first connect failed) and works.
        #expect(try await rig.agreementNumber() == Self.expectedNumber)
        #expect(rig.session.connectCount == (row.code == nil ? 1 : 2))
    }

    @Test(arguments: callTable)
    func faultOnReconnect(_ row: EconomicFaultRow) async throws {
        let rig = try Rig()
        #expect(try await rig.agreementNumber() == Self.expectedNumber)
        rig.sandbox.expireSessions()
        let sent = rig.faulty.receivedCount

        let result = await rig.under(row.fault, when: Self.isConnect) { try await rig.agreementNumber() }
        Self.expect(result, row)
        if case .success(let number) = result { #expect(number == Self.expectedNumber) }
        // The call, one ConnectWithToken, and the resend only when the reconnect worked: no loop.
        #expect(rig.faulty.receivedCount - sent == (row.code == nil ? 3 : 2))
        #expect(rig.session.connectCount == 2)
        rig.expectGrantIntact()

        #expect(try await rig.agreementNumber() == Self.expectedNumber)
        #expect(rig.session.connectCount == (row.code == nil ? 2 : 3))
    }

    // MARK: - SOAP operations

    @Test(arguments: callTable)
    func faultOnSOAPCall(_ row: EconomicFaultRow) async throws {
        let rig = try Rig()
        #expect(try await rig.agreementNumber() == Self.expectedNumber)
        let sent = rig.faulty.receivedCount
        let calls = rig.sandbox.soapCallCount

        let result = await rig.under(row.fault, when: Self.isOperation) { try await rig.agreementNumber() }
        Self.expect(result, row)
        #expect(rig.faulty.receivedCount - sent == 1)
        #expect(rig.sandbox.soapCallCount - calls == (row.processed ? 1 : 0))
        #expect(rig.session.isConnected)   // the session is kept: the fault is not a lost session
        #expect(rig.session.connectCount == 1)
        rig.expectGrantIntact()

        #expect(try await rig.agreementNumber() == Self.expectedNumber)
        #expect(rig.session.connectCount == 1)
    }

    // MARK: - GET /self

    @Test(arguments: callTable)
    func faultOnSelf(_ row: EconomicFaultRow) async throws {
        let rig = try Rig()
        _ = try await rig.provider.validate()
        let rest = rig.sandbox.restRequestCount
        let sent = rig.faulty.receivedCount

        let result = await rig.under(row.fault, when: Self.isSelf) { try await rig.provider.validate() }
        Self.expect(result, row)
        switch (result, row.fault) {
        case (.success(let agreement), _):
            #expect(agreement.agreementNumber == EconomicSandbox.defaultAgreementNumber)
        case (.failure(let error), .status(_, let retryAfter?)):
            #expect(error.retryAfter == Int(retryAfter).map { .seconds($0) })
        default:
            break
        }
        #expect(rig.faulty.receivedCount - sent == 1)
        #expect(rig.sandbox.restRequestCount - rest == (row.processed ? 1 : 0))
        #expect(rig.provider.agreementNumber == EconomicSandbox.defaultAgreementNumber)   // not forgotten
        rig.expectGrantIntact()

        #expect(try await rig.provider.validate().agreementNumber == EconomicSandbox.defaultAgreementNumber)
    }

    // MARK: - REST API calls

    @Test(arguments: Route.allCases, restTable)
    func faultOnRESTCall(_ route: Route, _ entry: (TransportFault, APIOutcome)) async throws {
        let (fault, expected) = entry
        let rig = try Rig()
        let url = try EconomicEndpoints.url(rig.provider.configuration.restBaseURL, appending: "customers")
        let api = AuthorizingTransport(base: rig.faulty, provider: rig.provider)
        func call() async -> APIOutcome {
            do {
                switch route {
                case .providerSend: return .status(try await rig.provider.send(.get, path: "customers").0.status.code)
                case .authorizingTransport: return .status(try await api.reply(HTTPRequest(url: url)).status)
                }
            } catch let error as AuthError {
                return .error(error.code)
            } catch {
                Issue.record("not an AuthError: \(type(of: error))")
                return .error(.transportFailure)
            }
        }
        #expect(await call() == .status(200))
        let sent = rig.faulty.receivedCount

        rig.faulty.inject(fault, times: 3, when: Self.isREST)
        #expect(await call() == expected)
        rig.faulty.clearFaults()

        #expect(rig.faulty.receivedCount - sent == 1)
        rig.expectGrantIntact()
        #expect(await call() == .status(200))
    }

    /// A 200 from `/self` whose body is an error, not an agreement, is refused and changes nothing.
    @Test func selfAnswerWithoutAnAgreementIsRefused() async throws {
        let rig = try Rig()
        _ = try await rig.provider.validate()
        rig.faulty.inject(.oauthErrorIn200(error: "server_error"), when: Self.isSelf)
        await #expect(throws: AuthError(.malformedResponse)) { try await rig.provider.validate() }
        #expect(rig.provider.agreementNumber == EconomicSandbox.defaultAgreementNumber)
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
@testable import EconomicAuth
import Foundation
import Testing

@Suite struct EconomicSOAPSessionTests {
    let clock = TestClock()
    let sandbox: EconomicSandbox

    init() {
        let clock = clock
        sandbox = EconomicSandbox(sessionTimeout: .seconds(600), now: { clock.now })
    }

    func makeSession(grant: Secret? = nil, observer: AuthEventObserver? = nil) throws -> EconomicSOAPSession {
        let grant = grant ?? sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        return try EconomicSOAPSession(
            credentials: EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: grant),
            transport: sandbox, observer: observer
        )
    }

    @Test func connectWithTokenEnvelopeIsEscapedAndWellFormed() async throws {
        let mock = MockTransport(responses: [Self.connectOK])
        let session = try EconomicSOAPSession(
            credentials: EconomicCredentials(appSecretToken: Secret("app<&>\"'"), agreementGrantToken: Secret("grant&x")),
            transport: mock
        )
        try await session.connect()
        let sent = try #require(mock.requests.first)
        #expect(sent.headerFields[.soapAction] == "\"http://e-conomic.com/ConnectWithToken\"")
        #expect(sent.headerFields[.contentType]?.hasPrefix("text/xml") == true)
        #expect(sent.url == EconomicEndpoints.soapURL)
        let body = String(decoding: sent.body ?? Data(), as: UTF8.self)
        #expect(body.contains(#"<ConnectWithToken xmlns="http://e-conomic.com"><token>grant&amp;x</token><appToken>app&lt;&amp;&gt;&quot;&apos;</appToken></ConnectWithToken>"#))
        #expect(session.isConnected)
    }

    @Test(arguments: [false, true])
    func cookiesAreCapturedAndReplayed(joined: Bool) async throws {
        sandbox.joinsSetCookieHeaders = joined
        let events = EventLog()
        let session = try makeSession(observer: events.observer)
        let reply = try await session.call("Agreement_GetNumber")
        #expect(reply.text(of: "Agreement_GetNumberResult") == String(EconomicSandbox.defaultAgreementNumber))
        let name = try await session.call("Company_GetName")
        #expect(name.text(of: "Company_GetNameResult") == "Sandbox Company A/S")
        #expect(sandbox.connectCount == 1)
        let last = try #require(sandbox.requests.last)
        let cookie = try #require(last.headerFields[.cookie])
        #expect(cookie.contains("ASP.NET_SessionId="))
        #expect(cookie.contains("BIGipServerapi-pool="))
        #expect(!cookie.contains("Expires"))
        #expect(!cookie.lowercased().contains("path"))
        #expect(events.all.filter { $0.kind != .tokenCall } == [.sessionEstablished(provider: "economic")])
        #expect(events.all.filter { $0.kind == .tokenCall }.map(\.endpoint) == ["POST /secure/api1/EconomicWebService.asmx"])
    }

    @Test func expiredSessionReconnectsOnce() async throws {
        let session = try makeSession()
        _ = try await session.call("Agreement_GetNumber")
        clock.advance(.seconds(601))
        #expect(sandbox.activeSessionCount == 0)
        let reply = try await session.call("Agreement_GetNumber")
        #expect(reply.text(of: "Agreement_GetNumberResult") != nil)
        #expect(sandbox.connectCount == 2)
        #expect(session.connectCount == 2)
    }

    @Test func hundredConcurrentCallsOnAnExpiredSessionReconnectOnce() async throws {
        // A little transport latency makes the 100 calls overlap on the wire.
        let sandbox = sandbox
        let slow = MockTransport(latency: .milliseconds(2)) { MockTransport.Response(try await sandbox.reply($0.head, body: $0.body)) }
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let session = try EconomicSOAPSession(credentials: EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: grant), transport: slow)
        _ = try await session.call("Agreement_GetNumber")
        #expect(sandbox.connectCount == 1)
        sandbox.expireSessions()
        let results = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<100 {
                group.addTask { try await session.call("Agreement_GetNumber").text(of: "Agreement_GetNumberResult") }
            }
            var all: [String?] = []
            for try await value in group { all.append(value) }
            return all
        }
        #expect(results.count == 100)
        #expect(results.allSatisfy { $0 == String(EconomicSandbox.defaultAgreementNumber) })
        #expect(sandbox.connectCount == 2)
        #expect(sandbox.activeSessionCount == 1)
    }

    @Test func hundredConcurrentFirstCallsConnectOnce() async throws {
        let session = try makeSession()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { _ = try await session.call("Agreement_GetNumber") } }
            try await group.waitForAll()
        }
        #expect(sandbox.connectCount == 1)
    }

    @Test func revokedGrantEndsTheSessionAndReconnectIsRefusedTyped() async throws {
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let session = try makeSession(grant: grant)
        _ = try await session.call("Agreement_GetNumber")
        sandbox.revokeGrant(grant)
        let error = try await #require(throws: AuthError.self) { try await session.call("Agreement_GetNumber") }
        #expect(error.code == .invalidCredentials)   // the fault names both the token and the appToken
        #expect(error.provider == "economic")
        #expect(!error.description.contains(grant.revealed))
        #expect(sandbox.connectCount == 2)
    }

    /// SOAP 1.1 faults are always HTTP 500, so only a fault that names an authentication or
    /// authorization failure means the grant is gone. A server exception during
    /// `ConnectWithToken` is transient: reporting it as "revoked" would make apps delete a valid grant.
    @Test(arguments: [
        "Economic.Api.Exceptions.ServerException(E00000): An unexpected error occurred. (Id=7f3a)",
        "System.TimeoutException: The operation has timed out.",
        "Economic.Api.Exceptions.IntegrityException(E06010): Database is being upgraded.",
    ])
    func serverFaultAtConnectIsTransientNotRevoked(_ text: String) async throws {
        let mock = MockTransport(responses: [Self.fault(text), Self.connectOK, Self.numberReply])
        let session = try EconomicSOAPSession(credentials: EconomicCredentials(appSecretToken: Secret("app-secret"), agreementGrantToken: Secret("grant-1")),
                                              transport: mock)
        let error = try await #require(throws: AuthError.self) { try await session.connect() }
        #expect(error.code == .serviceUnavailable)
        #expect(error.isTransient)
        #expect(error.status == 500)
        #expect(error.serverCode == "soap:Server")
        #expect(error.serverMessage?.contains(text) == true)
        #expect(!session.isConnected)
        // The grant still works: the next call connects and goes through.
        let reply = try await session.call("Agreement_GetNumber")
        #expect(reply.text(of: "Agreement_GetNumberResult") == "1000001")
        #expect(session.connectCount == 2)
    }

    /// Faults that name an authentication or authorization failure are a rejection (never
    /// transient); only one that names the grant alone calls it revoked.
    @Test(arguments: [
        ("Economic.Api.Exceptions.AuthorizationException(E02210): The token or appToken is not valid, or access was revoked.", AuthError.Code.invalidCredentials),
        ("Economic.Api.Exceptions.AuthenticationException(E02200): User is not authenticated.", .invalidCredentials),
        ("Economic.Api.Exceptions.AuthorizationException(E02210): The agreement grant was revoked.", .revoked),
    ])
    func credentialFaultAtConnectIsARejection(_ text: String, _ code: AuthError.Code) async throws {
        let session = try EconomicSOAPSession(credentials: EconomicCredentials(appSecretToken: Secret("app-secret"), agreementGrantToken: Secret("grant-1")),
                                              transport: MockTransport(responses: [Self.fault(text)]))
        let error = try await #require(throws: AuthError.self) { try await session.connect() }
        #expect(error.code == code)
        #expect(!error.isTransient)
        #expect(error.serverMessage?.contains("Exception(E022") == true)
    }

    @Test func wrongTokensAtConnectAreTyped() async throws {
        let session = try EconomicSOAPSession(credentials: EconomicCredentials(appSecretToken: Secret("nope"), agreementGrantToken: Secret("nope")), transport: sandbox)
        await #expect(throws: AuthError(.invalidCredentials)) { try await session.connect() }
        #expect(!session.isConnected)
    }

    @Test func operationFaultIsTypedAndDoesNotReconnect() async throws {
        let session = try makeSession()
        let error = try await #require(throws: AuthError.self) { try await session.call("Debtor_GetAll") }
        #expect(error.code.rawValue == "soap_fault")
        #expect(error.serverCode == "soap:Client")
        #expect(error.serverMessage?.contains("Debtor_GetAll") == true)
        #expect(sandbox.connectCount == 1)
    }

    @Test func sessionLostTwiceInARowIsTyped() async throws {
        let mock = MockTransport(responses: [Self.connectOK, Self.notLoggedIn, Self.connectOK, Self.notLoggedIn])
        let session = try EconomicSOAPSession(credentials: .demo, transport: mock)
        await #expect(throws: AuthError(.notAuthenticated)) { try await session.call("Agreement_GetNumber") }
        #expect(mock.requestCount == 4)
    }

    @Test(arguments: [
        (MockTransport.Response(status: 200, headerFields: [.contentType: "text/html"], body: Data("<html><body>Maintenance</body></html>".utf8)), AuthError.Code.malformedResponse),
        (MockTransport.Response(status: 503, headerFields: [.contentType: "text/html"], body: Data("<!DOCTYPE html><html>down</html>".utf8)), .serviceUnavailable),
        (MockTransport.Response.json(200, #"{"ok":true}"#), .malformedResponse),
        (MockTransport.Response(status: 200, headerFields: [.contentType: "text/xml"], body: Data("<notsoap/>".utf8)), .malformedResponse),
        (MockTransport.Response(status: 200, headerFields: [.contentType: "text/xml"], body: Data("<soap:Envelope".utf8)), .malformedResponse),
        (MockTransport.Response(status: 200, headerFields: [.contentType: "text/xml"], body: Data(#"<!DOCTYPE x [<!ENTITY a "b">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>"#.utf8)), .malformedResponse),
    ])
    func badConnectAnswersAreTyped(response: MockTransport.Response, code: AuthError.Code) async throws {
        let session = try EconomicSOAPSession(credentials: .demo, transport: MockTransport(responses: [response]))
        let error = try await #require(throws: AuthError.self) { try await session.connect() }
        #expect(error.code == code)
        #expect(!session.isConnected)
    }

    @Test func connectWithoutCookieIsMalformed() async throws {
        let response = MockTransport.Response(status: 200, headerFields: [.contentType: "text/xml"], body: Self.connectOK.body)
        let session = try EconomicSOAPSession(credentials: .demo, transport: MockTransport(responses: [response]))
        await #expect(throws: AuthError(.malformedResponse)) { try await session.connect() }
    }

    @Test func hugeSOAPBodyIsRefused() async throws {
        var configuration = EconomicSOAPSession.Configuration()
        configuration.maxResponseBytes = 512
        var big = Self.connectOK
        big.body = Data(String(repeating: " ", count: 2048).utf8) + big.body
        let session = try EconomicSOAPSession(credentials: .demo, transport: MockTransport(responses: [big]), configuration: configuration)
        await #expect(throws: AuthError(.responseTooLarge)) { try await session.connect() }
    }

    @Test func faultEchoingTheTokenIsScrubbed() async throws {
        let fault = Self.fault("Token SECRETGRANT is invalid")
        let session = try EconomicSOAPSession(credentials: EconomicCredentials(appSecretToken: Secret("APPSECRET"), agreementGrantToken: Secret("SECRETGRANT")), transport: MockTransport(responses: [fault]))
        let error = try await #require(throws: AuthError.self) { try await session.connect() }
        #expect(!error.description.contains("SECRETGRANT"))
        #expect(error.description.contains("<redacted>"))
    }

    @Test func disconnectEndsTheSession() async throws {
        let session = try makeSession()
        _ = try await session.call("Agreement_GetNumber")
        #expect(sandbox.activeSessionCount == 1)
        try await session.disconnect()
        #expect(!session.isConnected)
        #expect(sandbox.activeSessionCount == 0)
        _ = try await session.call("Agreement_GetNumber")
        #expect(sandbox.connectCount == 2)
    }

    @Test func invalidNamesAndInsecureEndpointsAreRefused() async throws {
        let session = try makeSession()
        await #expect(throws: AuthError(.invalidRequest)) { try await session.call("Bad><Op") }
        await #expect(throws: AuthError(.invalidRequest)) { try await session.call("Op", parameters: [("a b", "x")]) }
        var configuration = EconomicSOAPSession.Configuration()
        configuration.endpoint = try url("http://api.example.com/secure/api1/EconomicWebService.asmx")
        #expect(throws: AuthError(.insecureURL)) { try EconomicSOAPSession(credentials: .demo, transport: sandbox, configuration: configuration) }
        #expect(sandbox.connectCount == 0)
    }

    // MARK: - Canned answers

    static func envelope(_ body: String) -> Data {
        Data((#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"# + body + "</soap:Body></soap:Envelope>").utf8)
    }

    static let connectOK = MockTransport.Response(
        status: 200,
        headerFields: [.contentType: "text/xml; charset=utf-8", .setCookie: "ASP.NET_SessionId=s1; path=/; HttpOnly"],
        body: envelope(#"<ConnectWithTokenResponse xmlns="http://e-conomic.com"><ConnectWithTokenResult>1</ConnectWithTokenResult></ConnectWithTokenResponse>"#)
    )

    static func fault(_ text: String) -> MockTransport.Response {
        MockTransport.Response(status: 500, headerFields: [.contentType: "text/xml; charset=utf-8"],
                     body: envelope("<soap:Fault><faultcode>soap:Server</faultcode><faultstring>\(SOAPMessage.escape(text))</faultstring></soap:Fault>"))
    }

    static let numberReply = MockTransport.Response(
        status: 200, headerFields: [.contentType: "text/xml; charset=utf-8"],
        body: envelope(#"<Agreement_GetNumberResponse xmlns="http://e-conomic.com"><Agreement_GetNumberResult>1000001</Agreement_GetNumberResult></Agreement_GetNumberResponse>"#)
    )

    static let notLoggedIn = fault("Economic.Api.Exceptions.AuthenticationException(E02250): Not logged in.")
}

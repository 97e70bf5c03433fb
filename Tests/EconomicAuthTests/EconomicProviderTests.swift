import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
@testable import EconomicAuth
import Foundation
import Testing
import TestSupport

@Suite struct EconomicProviderTests {
    let sandbox = EconomicSandbox()

    func makeProvider(grant: Secret? = nil, observer: AuthEventObserver? = nil) throws -> EconomicProvider {
        let grant = grant ?? sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        return try EconomicProvider(
            credentials: EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: grant),
            transport: sandbox, observer: observer
        )
    }

    @Test func authorizeReplacesStaleTokenFieldsAndKeepsTheRequestsContentType() async throws {
        let provider = try EconomicProvider(
            credentials: EconomicCredentials(appSecretToken: Secret("app-secret"), agreementGrantToken: Secret("grant-1")),
            transport: MockTransport()
        )
        var request = HTTPRequest(url: try url("https://restapi.e-conomic.com/customers"))
        request.headerFields[.economicAgreementGrantToken] = "stale-grant"
        request.headerFields[.contentType] = "application/merge-patch+json"
        let authorized = try await provider.authorized(request)
        #expect(authorized.headerFields[values: .economicAgreementGrantToken] == ["grant-1"])
        #expect(authorized.headerFields[values: .economicAppSecretToken] == ["app-secret"])
        #expect(authorized.headerFields[values: .contentType] == ["application/merge-patch+json"])

        // Without fields of its own, a request gets exactly the three, tokens first.
        let plain = try await provider.authorized(HTTPRequest(url: try url("https://restapi.e-conomic.com/customers")))
        #expect(plain.headerFields.map(\.name) == [.economicAppSecretToken, .economicAgreementGrantToken, .contentType])
    }

    @Test func aNewGrantDoesNotReachARequestAuthorizedBefore() async throws {
        let provider = try EconomicProvider(
            credentials: EconomicCredentials(appSecretToken: Secret("app-secret"), agreementGrantToken: Secret("grant-1")),
            transport: MockTransport()
        )
        // The request takes the provider's prepared fields as they are; replacing the grant
        // afterwards must copy them, not change them under the request.
        let before = try await provider.authorized(HTTPRequest(url: try url("https://restapi.e-conomic.com/customers")))
        try await provider.replaceGrant(Secret("grant-2"))
        let after = try await provider.authorized(HTTPRequest(url: try url("https://restapi.e-conomic.com/customers")))
        #expect(before.headerFields[values: .economicAgreementGrantToken] == ["grant-1"])
        #expect(after.headerFields[values: .economicAgreementGrantToken] == ["grant-2"])
        #expect(after.headerFields.map(\.name) == [.economicAppSecretToken, .economicAgreementGrantToken, .contentType])
    }

    @Test func authorizeAddsBothTokenHeadersAndJSONContentType() async throws {
        let provider = try EconomicProvider(
            credentials: EconomicCredentials(appSecretToken: Secret("app-secret"), agreementGrantToken: Secret("grant-1")),
            transport: MockTransport()
        )
        let request = try await provider.authorized(HTTPRequest(url: url("https://restapi.e-conomic.com/customers")))
        #expect(request.headerFields[.economicAppSecretToken] == "app-secret")
        #expect(request.headerFields[.economicAgreementGrantToken] == "grant-1")
        #expect(request.headerFields[.contentType] == "application/json")
        // swift-http-types prints a request as its method and URL; the fields are marked never-indexed.
        #expect(!"\(request)".contains("app-secret") && !String(reflecting: request).contains("grant-1"))
        #expect(request.headerFields[fields: .economicAppSecretToken].allSatisfy { $0.indexingStrategy == .avoid })
        #expect(!request.headerFields.redactedDescription.contains("app-secret"))
    }

    @Test func validateReturnsTheAgreement() async throws {
        let provider = try makeProvider()
        let agreement = try await provider.validate()
        #expect(agreement.agreementNumber == EconomicSandbox.defaultAgreementNumber)
        #expect(agreement.company?.name == "Sandbox Company A/S")
        #expect(agreement.application?.appPublicToken == sandbox.appPublicToken)
        #expect(agreement.application?.requiredRoles.first?.name == "SuperUser")
        #expect(agreement.baseCurrency == "DKK")
        #expect(agreement.canSendElectronicInvoice)
        #expect(provider.agreementNumber == EconomicSandbox.defaultAgreementNumber)
        let sent = try #require(sandbox.requests.last)
        #expect(sent.url.path == "/self")
        #expect(sent.headerFields[.economicAppSecretToken] == sandbox.appSecretToken.revealed)
    }

    @Test func sparseSelfBodyDecodes() async throws {
        let mock = MockTransport.ok(json: #"{"agreementNumber":"77","company":{"name":"X"},"unknown":{"a":[1,2]}}"#)
        let provider = try EconomicProvider(credentials: .demo, transport: mock)
        let agreement = try await provider.validate()
        #expect(agreement.agreementNumber == 77)
        #expect(agreement.user == nil)
        #expect(agreement.canSendElectronicInvoice == false)
        #expect(agreement.application == nil)
    }

    /// e-conomic's 401 does not say which token failed: the error names both causes rather than
    /// calling the grant revoked (which would send the customer to grant access again).
    @Test func aRejectedGrantIsTypedWithServerContextAndBothPossibleCauses() async throws {
        let events = EventLog()
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let provider = try makeProvider(grant: grant, observer: events.observer)
        _ = try await provider.validate()
        sandbox.revokeGrant(grant)
        let error = try await #require(throws: AuthError.self) { try await provider.validate() }
        #expect(error.code == .invalidCredentials)
        #expect(error.serverMessage?.contains("AppSecretToken") == true && error.serverMessage?.contains("AgreementGrantToken") == true)
        #expect(error.status == 401)
        #expect(error.provider == "economic")
        #expect(error.logReference?.hasPrefix("sandbox-") == true)
        #expect(!error.description.contains(grant.revealed))
        #expect(provider.isRejected)
        #expect(events.all.filter { $0.kind != .tokenCall } == [.credentialRevoked(provider: "economic")])
        // The credential is kept for inspection, not lost.
        #expect(provider.credentials.agreementGrantToken == grant)

        let second = try await #require(throws: AuthError.self) { try await provider.send(.get, path: "customers") }
        #expect(second.code == .invalidCredentials)
        #expect(events.all.filter { $0.kind != .tokenCall }.count == 1)

        try await provider.replaceGrant(sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber))
        #expect(!provider.isRejected)
        #expect(try await provider.send(.get, path: "customers").0.status == 200)
    }

    @Test func errorForAResponseIsTyped() throws {
        #expect(typedError(EconomicProvider.error(for:body:), .json(200, "{}")) == nil)
        let rejected = try #require(typedError(EconomicProvider.error(for:body:), .json(401, #"{"message":"Unauthorized access (401).","logId":"L-1"}"#)))
        #expect(rejected.code == .invalidCredentials && rejected.status == 401 && rejected.logReference == "L-1")
        #expect(rejected.serverMessage?.contains("Unauthorized access (401).") == true)
        #expect(typedError(EconomicProvider.error(for:body:), .json(403, "{}"))?.code == .forbidden)
        #expect(typedError(EconomicProvider.error(for:body:), .json(415, "{}"))?.code == .invalidRequest)
        let limited = try #require(typedError(EconomicProvider.error(for:body:), .json(429, "{}", headerFields: [.retryAfter: "30"])))
        #expect(limited.code == .rateLimited && limited.retryAfter == .seconds(30))
        #expect(typedError(EconomicProvider.error(for:body:), MockTransport.Response(status: 502, headerFields: [.contentType: "text/html"], body: Data("<html>x</html>".utf8)))?.code == .serviceUnavailable)
        #expect(typedError(EconomicProvider.error(for:body:), MockTransport.Response(status: 404))?.code == .unexpectedStatus)
    }

    @Test func wrongAppSecretIsRejectedWithoutBlamingTheGrant() async throws {
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let provider = try EconomicProvider(credentials: EconomicCredentials(appSecretToken: Secret("wrong"), agreementGrantToken: grant), transport: sandbox)
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.validate() }
    }

    /// What a 401 says decides which token it blames, read leniently.
    @Test(arguments: [
        (#"{"message":"Unauthorized access (401).","developerHint":"The AgreementGrantToken was revoked by the agreement."}"#, AuthError.Code.revoked, "AgreementGrantToken was revoked"),
        (#"{"message":"Unauthorized access (401).","developerHint":"Invalid X-AppSecretToken."}"#, .invalidCredentials, "AppSecretToken was not accepted"),
        (#"{"message":"Unauthorized: the grant was removed; access was revoked"}"#, .revoked, "customer must grant access again"),
        (#"{"message":"Unauthorized access (401)."}"#, .invalidCredentials, "either the AppSecretToken"),
        ("<html>401</html>", .invalidCredentials, "either the AppSecretToken"),
    ])
    func unauthorizedAnswersBlameTheTokenTheyName(_ body: String, _ code: AuthError.Code, _ message: String) throws {
        let error = try #require(typedError(EconomicProvider.error(for:body:), .json(401, body)))
        #expect(error.code == code)
        #expect(error.serverMessage?.contains(message) == true)
    }

    @Test func forbiddenIsNotATokenProblem() async throws {
        let mock = MockTransport.ok(json: #"{"message":"Role lacks access","logId":"L-1","httpStatusCode":403}"#, status: 403)
        let provider = try EconomicProvider(credentials: .demo, transport: mock)
        let error = try await #require(throws: AuthError.self) { try await provider.send(.get, path: "invoices/booked") }
        #expect(error.code == .forbidden)
        #expect(error.logReference == "L-1")
        #expect(error.serverMessage?.contains("Role lacks access") == true)
        #expect(!provider.isRejected)
    }

    @Test func authorizingTransportReportsRevocationTyped() async throws {
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let provider = try makeProvider(grant: grant)
        let client = AuthorizingTransport(base: sandbox, provider: provider)
        let ok = try await client.reply(HTTPRequest(url: url("https://restapi.e-conomic.com/customers")))
        #expect(ok.status == 200)
        sandbox.revokeGrant(grant)
        await #expect(throws: AuthError(.invalidCredentials)) {
            try await client.reply(HTTPRequest(url: url("https://restapi.e-conomic.com/customers")))
        }
    }

    @Test func postWithoutJSONContentTypeGets415AndWithItCreates() async throws {
        let provider = try makeProvider()
        let (bad, _) = try await provider.send(HTTPRequest(method: .post, url: url("https://restapi.e-conomic.com/customers"),
                                                           headerFields: [.contentType: "text/plain"]), body: Data("name=x".utf8))
        #expect(bad.status == 415)
        let (created, _) = try await provider.send(.post, path: "/customers", json: Data(#"{"name":"New ApS"}"#.utf8))
        #expect(created.status == 201)
        let (_, fetched) = try await provider.send(.get, path: "customers/3")
        #expect(String(decoding: fetched, as: UTF8.self).contains("New ApS"))
    }

    @Test(arguments: [
        (MockTransport.Response(status: 200, headerFields: [.contentType: "text/html"], body: Data("<html><body>Login</body></html>".utf8)), AuthError.Code.malformedResponse),
        (MockTransport.Response(status: 200, headerFields: [.contentType: "text/plain"], body: Data("{}".utf8)), .malformedResponse),
        (MockTransport.Response.json(200, "[1,2"), .malformedResponse),
        (MockTransport.Response.json(200, "[]"), .malformedResponse),
        (MockTransport.Response(status: 502, headerFields: [.contentType: "text/html"], body: Data("<!DOCTYPE html><html>Bad gateway</html>".utf8)), .serviceUnavailable),
        (MockTransport.Response.json(429, #"{"message":"slow down"}"#, headerFields: [.retryAfter: "30"]), .rateLimited),
        (MockTransport.Response.json(415, #"{"message":"json only"}"#), .invalidRequest),
        (MockTransport.Response(status: 404), .unexpectedStatus),
    ])
    func badAnswersToSelfAreTyped(response: MockTransport.Response, code: AuthError.Code) async throws {
        let provider = try EconomicProvider(credentials: .demo, transport: MockTransport(responses: [response]))
        let error = try await #require(throws: AuthError.self) { try await provider.validate() }
        #expect(error.code == code)
        if code == .rateLimited { #expect(error.retryAfter == .seconds(30)) }
        #expect(!provider.isRejected)
    }

    @Test func hugeBodyIsRefused() async throws {
        var configuration = EconomicProvider.Configuration()
        configuration.maxResponseBytes = 1024
        let big = "{\"agreementNumber\":1,\"pad\":\"" + String(repeating: "x", count: 4096) + "\"}"
        let provider = try EconomicProvider(credentials: .demo, transport: MockTransport.ok(json: big), configuration: configuration)
        await #expect(throws: AuthError(.responseTooLarge)) { try await provider.validate() }
    }

    @Test func credentialsGoOnlyToSecureURLs() async throws {
        var configuration = EconomicProvider.Configuration()
        configuration.restBaseURL = try url("http://restapi.example.com")
        #expect(throws: AuthError(.insecureURL)) {
            try EconomicProvider(credentials: .demo, transport: MockTransport(), configuration: configuration)
        }
        let provider = try EconomicProvider(credentials: .demo, transport: MockTransport())
        await #expect(throws: AuthError(.insecureURL)) {
            try await provider.authorized(HTTPRequest(url: url("http://evil.example.com/self")))
        }
    }

    /// The clients send what `authorizeIfReady` authorized without a check of their own
    /// (`requestTargetCheck` is `.byProvider`), so the provider's check is all there is: nothing reaches the
    /// transport for a target outside the audience, by either client form.
    @Test(arguments: [("http", "restapi.e-conomic.com", "/self"), ("https", "evil.example.com", "/self"),
                      ("https", "restapi.e-conomic.com:1@evil.example.com", "/self"), ("https", "restapi.e-conomic.com.evil.example.com", "/self"),
                      ("https", "restapi.e-conomic.comx", "/self"), ("https", "restapi.e-conomic.com", ".evil.example.com/self"),
                      ("https", "restapi.e-conomic.com", "@evil.example.com/self")])
    func theClientsRelyOnItsCheck(_ scheme: String, _ authority: String, _ path: String) async throws {
        #expect(EconomicProvider.requestTargetCheck == .byProvider)
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = try EconomicProvider(credentials: .demo, transport: mock)
        let request = HTTPRequest(method: .get, scheme: scheme, authority: authority, path: path)
        await #expect(throws: AuthError.self) { try await AuthorizingTransport(base: mock, provider: provider).reply(request) }
        await #expect(throws: AuthError.self) { _ = try await provider.client(over: mock).send(request, body: nil) }
        #expect(mock.requestCount == 0)
    }

    @Test(arguments: ["", " grant", "gr\nant", "a\tb"])
    func malformedTokensAreRefused(token: String) {
        #expect(throws: AuthError(.invalidCredentialFormat)) {
            try EconomicProvider(credentials: EconomicCredentials(appSecretToken: Secret("app"), agreementGrantToken: Secret(token)), transport: MockTransport())
        }
    }

    @Test func replaceGrantRejectsMalformedTokenAndKeepsTheOld() async throws {
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let provider = try makeProvider(grant: grant)
        await #expect(throws: AuthError(.invalidCredentialFormat)) { try await provider.replaceGrant(Secret("")) }
        #expect(provider.credentials.agreementGrantToken == grant)
    }

    @Test func credentialsNeverPrint() {
        let credentials = EconomicCredentials(appSecretToken: Secret("APP-SECRET-VALUE"), agreementGrantToken: Secret("GRANT-VALUE"))
        let texts = [credentials.description, "\(credentials)", String(reflecting: credentials)]
        for text in texts {
            #expect(!text.contains("APP-SECRET-VALUE"))
            #expect(!text.contains("GRANT-VALUE"))
        }
    }

    @Test func concurrentAuthorizeSeesOneConsistentPair() async throws {
        let provider = try makeProvider()
        let grant = provider.credentials.agreementGrantToken.revealed
        try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<200 {
                group.addTask { try await provider.authorized(HTTPRequest(url: url("https://restapi.e-conomic.com/self"))).headerFields[.economicAgreementGrantToken] }
            }
            for try await value in group { #expect(value == grant) }
        }
    }
}

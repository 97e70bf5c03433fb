#if Hummingbird
import AuthCore
import AuthSandboxServer
import AuthTesting
import EconomicAuth
import EconomicAuthTesting
import Foundation
import HTTPTypes
import ProfitAuth
import ProfitAuthTesting
import ProfixOAuth
import ProfixOAuthTesting
import Testing
import TestSupport

/// Every provider flow over real loopback sockets against the sandbox server, through each
/// transport this build has (URLSession, and AsyncHTTPClient with its trait).
@Suite(.serialized) struct SandboxServerEndToEndTests {
    @Test(arguments: TransportKind.all) func profitOTPOnboardingRESTAndSOAPCalls(_ kind: TransportKind) async throws {
        let server = try await SandboxServer.start()
        defer { Task { await server.stop() } }
        let transport = kind.make()
        let environment = try ProfitEnvironment(restBaseURL: server.profitURL.appendingPathComponent("ProfitRestServices"),
                                                soapBaseURL: server.profitURL.appendingPathComponent("profitservices"))
        let store = InMemoryTokenStore()
        let provider = ProfitProvider(environment: environment, keys: ProfitSandbox.demoKeys, transport: transport, store: store,
                                      key: TokenKey(provider: "profit", account: "DavidB"))
        for channel in [ProfitProvider.Channel.rest, .soap] {
            try await provider.requestOTP(userId: "DavidB", over: channel)
            let code = try #require(server.profit.latestCode(for: "DavidB"))
            _ = try await provider.redeemOTP(code, userId: "DavidB", over: channel)
        }
        let client = provider.client(over: transport)
        let (rest, restBody) = try await client.fetch(HTTPRequest(url: try environment.restURL("connectors/Profit_Debtors?skip=0&take=10")))
        #expect(rest.status == .ok)
        #expect(!restBody.isEmpty)
        let envelope = SOAPMessage.envelope(operation: "GetVersionInfo", namespace: "urn:Afas.Profit.Services", parameters: [])
        let soapRequest = SOAPMessage.request(url: try environment.soapURL("appconnectorversioninfo.asmx"),
                                              action: "urn:Afas.Profit.Services/GetVersionInfo", envelope: envelope)
        let (soap, soapBody) = try await client.fetch(soapRequest.head, body: soapRequest.body)
        #expect(soap.status == .ok)
        #expect(try SOAPMessage(parsing: soapBody).text(of: "GetVersionInfoResult") != nil)
        // The sandbox saw the token on the wire, byte for byte (it answers 401 otherwise).
        #expect(server.profit.activeTokenCount == 2)
        try await provider.deleteToken()
        await #expect(throws: AuthError.self) { _ = try await client.fetch(HTTPRequest(url: try environment.restURL("ProfitVersion"))) }
    }

    @Test(arguments: TransportKind.all) func profixEveryGrantARefreshAndABrowserRedirect(_ kind: TransportKind) async throws {
        let clock = TestClock()
        let server = try await SandboxServer.start(profix: ProfixSandbox(now: clock.now))
        defer { Task { await server.stop() } }
        let transport = kind.make()
        let region = try ProfixRegistration.Region.custom(server.profixURL)
        let redirect = try #require(URL(string: "https://app.example.com/profix/callback"))
        let codeClient = ProfixRegistration(clientID: "e2e-code", clientSecret: Secret("e2e-code-secret"), redirectURI: redirect, region: region)
        let serviceClient = ProfixRegistration(clientID: "e2e-service", clientSecret: Secret("e2e-service-secret"), region: region)
        let passwordClient = ProfixRegistration(clientID: "e2e-password", clientSecret: Secret("e2e-password-secret"), region: region)
        server.profix.registerClient(id: codeClient.clientID, secret: codeClient.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        server.profix.registerClient(id: serviceClient.clientID, secret: serviceClient.clientSecret, grant: .clientCredentials)
        server.profix.registerClient(id: passwordClient.clientID, secret: passwordClient.clientSecret, grant: .password)
        server.profix.addUser(username: "ann", password: Secret("pw-ann"))

        // Authorization code: the "browser" opens the authorization page over HTTP and is sent
        // back to the app's redirect URI (another origin, so the transport returns the 302).
        let provider = ProfixProvider(client: codeClient, transport: transport, now: clock.now)
        let pending = try ProfixAuthorizationRequest(client: codeClient)
        let (page, _) = try await transport.send(HTTPRequest(url: pending.url))
        #expect(page.status.code == 302)
        let location = try #require(page.headerFields[.location].flatMap(URL.init(string:)))
        #expect(location.host == "app.example.com")
        let first = try await provider.exchange(callbackURL: location, for: pending)

        let api = server.profixURL.appendingPathComponent("api/v1/workorders")
        let client = provider.client(over: transport)
        #expect(try await client.fetch(HTTPRequest(url: api)).0.status == .ok)
        clock.advance(by: .seconds(600))
        #expect(try await client.fetch(HTTPRequest(url: api)).0.status == .ok)
        let second = try #require(try await provider.credential())
        #expect(second.refreshToken != first.refreshToken)
        #expect(server.profix.counters.refreshes == 1)

        let service = ProfixProvider(client: serviceClient, transport: transport, now: clock.now)
        _ = try await service.requestClientCredentialsToken()
        #expect(try await service.client(over: transport).fetch(HTTPRequest(url: api)).0.status == .ok)

        let user = ProfixProvider(client: passwordClient, transport: transport, now: clock.now)
        _ = try await user.logIn(username: "ann", password: Secret("pw-ann"))
        #expect(try await user.client(over: transport).fetch(HTTPRequest(url: api)).0.status == .ok)
    }

    /// 1,000 concurrent requests on an expired token: one token call, every request answered.
    @Test(arguments: TransportKind.all) func aStormOfAThousandRequestsMakesOneTokenCall(_ kind: TransportKind) async throws {
        let clock = TestClock()
        let server = try await SandboxServer.start(profix: ProfixSandbox(now: clock.now))
        defer { Task { await server.stop() } }
        let transport = kind.make()
        let registration = ProfixRegistration(clientID: "storm", clientSecret: Secret("storm-secret"), region: try .custom(server.profixURL))
        server.profix.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .password)
        server.profix.addUser(username: "ann", password: Secret("pw-ann"))
        let provider = ProfixProvider(client: registration, transport: transport, now: clock.now)
        _ = try await provider.logIn(username: "ann", password: Secret("pw-ann"))
        let before = server.profix.counters.tokenRequests
        clock.advance(by: .seconds(600))
        let client = provider.client(over: transport)
        let api = server.profixURL.appendingPathComponent("api/v1/workorders")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1_000 { group.addTask { try await client.fetch(HTTPRequest(url: api)).0.status.code } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 1_000)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(server.profix.counters.tokenRequests - before == 1)
        #expect(server.profix.counters.refreshes == 1)
    }

    @Test(arguments: TransportKind.all) func economicGrantPageRESTAndSOAPSession(_ kind: TransportKind) async throws {
        let server = try await SandboxServer.start()
        defer { Task { await server.stop() } }
        let transport = kind.make()
        let redirect = try #require(URL(string: "https://app.example.com/economic/callback"))
        let request = EconomicGrantRequest(
            appPublicToken: server.economic.appPublicToken,
            requestAccessURL: server.economicURL.appendingPathComponent("secure/api1/requestaccess.aspx"),
            locale: .english, redirectURL: redirect, parameters: [.init("UserInMySystem", "123")],
            state: EconomicGrantRequest.randomState()
        )
        server.economic.grantingAgreement = EconomicSandbox.defaultAgreementNumber
        let (page, _) = try await transport.send(HTTPRequest(url: try request.url()))
        #expect(page.status.code == 302)
        let location = try #require(page.headerFields[.location].flatMap(URL.init(string:)))
        let callback = try EconomicGrantCallback(url: location, expecting: request)
        #expect(callback.value(for: "UserInMySystem") == "123")

        let app = EconomicApp(appSecretToken: server.economic.appSecretToken, transport: transport,
                              providerConfiguration: .init(restBaseURL: server.economicURL),
                              sessionConfiguration: .init(endpoint: server.economicURL.appendingPathComponent("secure/api1/EconomicWebService.asmx")))
        let provider = try app.provider(grantToken: callback.agreementGrantToken)
        let agreement = try await provider.validate()
        #expect(agreement.agreementNumber == EconomicSandbox.defaultAgreementNumber)
        #expect(try await provider.send(.get, path: "customers").0.status == .ok)

        let session = try app.session(grantToken: callback.agreementGrantToken)
        let number = try await session.call("Agreement_GetNumber")
        #expect(number.text(of: "Agreement_GetNumberResult") == "\(EconomicSandbox.defaultAgreementNumber)")
        server.economic.expireSessions()
        _ = try await session.call("Company_GetName")
        #expect(server.economic.connectCount == 2)   // the session cookie went over HTTP and back
        try await session.disconnect()
    }
}
#endif

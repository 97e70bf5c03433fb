import ArgumentParser
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
import Synchronization

/// `accounting-auth demo`: every flow over real loopback sockets against the sandbox server.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run every flow end to end against the built-in sandboxes (no network, no credentials).",
        discussion: "The sandboxes are served over HTTP on 127.0.0.1 and every request goes over a real socket, through URLSession or, with --transport ahc, AsyncHTTPClient. Secrets are printed redacted."
    )

    enum Part: String, ExpressibleByArgument, CaseIterable {
        case core, profit, profix, economic
    }

    @Argument(help: "The parts to run (default all): core, profit, profix, economic.") var parts: [Part] = []
    @OptionGroup var transport: TransportOptions

    func run() async throws {
        try await reporting {
            let console = Console()
            let time = Mutex(Date())
            let now: @Sendable () -> Date = { time.withLock { $0 } }
            let server = try await SandboxServer.start(profix: ProfixSandbox(now: now))
            let transport = self.transport.make()
            console.print("Sandboxes on 127.0.0.1: Profit \(server.profitURL.absoluteString), Profix-it \(server.profixURL.absoluteString), e-conomic \(server.economicURL.absoluteString); transport: \(self.transport.transport.rawValue)")
            do {
                for part in parts.isEmpty ? Part.allCases : parts {
                    switch part {
                    case .core: try await Self.core(console: console)
                    case .profit: try await Self.profit(server: server, transport: transport, console: console)
                    case .profix: try await Self.profix(server: server, transport: transport, advance: { seconds in time.withLock { $0 = $0.addingTimeInterval(seconds) } }, now: now, console: console)
                    case .economic: try await Self.economic(server: server, transport: transport, console: console)
                    }
                }
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
            console.print("\nDemo finished: every step above ran over loopback sockets against the built-in sandboxes.")
        }
    }

    // MARK: - AuthCore

    static func core(console: Console) async throws {
        console.print("\n== AuthCore ==")

        console.step("A Secret never prints its value")
        let secret = Secret("s3cr3t-value-that-must-not-leak")
        console.detail("interpolated: \(secret); debug: \(String(reflecting: secret)); bytes: \(secret.byteCount)")

        console.step("The HTTPS guard refuses to send credentials over plain HTTP to a remote host")
        for text in ["https://api.example.com/x", "http://127.0.0.1:8080/x", "http://[::1]:8080/x", "http://api.example.com/x"] {
            guard let url = URL(string: text) else { continue }
            do {
                try SecureURLPolicy.check(url)
                console.detail("\(text) → allowed")
            } catch {
                console.detail("\(text) → \(error.code)")
            }
        }

        console.step("AuthorizingTransport: a rejected token is refreshed once and the request retried")
        let current = Mutex("token-1")
        let service = MockTransport { request in
            let expected = "Bearer " + current.withLock { $0 }
            return request.headerFields[.authorization] == expected ? .json(200, #"{"ok":true}"#) : .json(401, #"{"error":"expired"}"#)
        }
        let events = Mutex<[AuthEvent]>([])
        let client = AuthorizingTransport(base: service, provider: RotatingDemoProvider(),
                                          observer: AuthEventObserver { event in events.withLock { $0.append(event) } })
        current.withLock { $0 = "token-2" }   // the service moved on; the provider still holds token-1
        guard let url = URL(string: "https://api.example.com/resource") else { return }
        let (response, body) = try await client.send(HTTPRequest(url: url))
        console.detail("requests sent: \(service.requestCount); final status: \(response.status.code); body: \(String(decoding: body, as: UTF8.self))")
        for event in events.withLock({ $0 }) { console.detail("event: \(event)") }

        console.step("A token store keeps credentials in a private folder, written atomically")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accounting-auth-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try FileTokenStore(directory: folder)
        let key = TokenKey(provider: "demo", account: "acme")
        try await store.save(StoredCredential(accessToken: Secret("abc"), refreshToken: Secret("def")), for: key)
        console.detail("saved and reloaded: \(try await store.load(key).map { "\($0)" } ?? "nothing")")
    }

    // MARK: - AFAS Profit

    static func profit(server: SandboxServer, transport: any HTTPTransport, console: Console) async throws {
        console.print("\n== AFAS Profit ==")
        let sandbox = server.profit
        let environment = try ProfitEnvironment(restBaseURL: server.profitURL.appendingPathComponent("ProfitRestServices"),
                                                soapBaseURL: server.profitURL.appendingPathComponent("profitservices"))
        let store = InMemoryTokenStore()
        let key = TokenKey(provider: "profit", account: "DavidB")
        let provider = ProfitProvider(environment: environment, keys: ProfitSandbox.demoKeys, transport: transport, store: store, key: key)

        console.step("Request an activation code: POST \(URLDescription(try environment.restURL("OtpRequest")).text)")
        try await provider.requestOTP(userId: "DavidB")
        console.detail("Profit answered with an empty body; the app now shows \"Check your e-mail\" and waits for the user.")

        console.step("Read the sandbox outbox (the user's e-mail)")
        guard let mail = sandbox.outbox.last else { throw AuthError(.malformedResponse, message: "the sandbox sent no e-mail") }
        console.detail("to \(mail.address) for user \(mail.userId): activation code <redacted> (\(mail.code.byteCount) digits)")

        console.step("Redeem the code: POST \(URLDescription(try environment.restURL("OtpValidation")).text)")
        let token = try await provider.redeemOTP(mail.code, userId: mail.userId)
        console.detail("got \(token); stored under \(provider.key); header value: AfasToken <redacted>")

        console.step("An authorized REST call: GET connectors/Profit_Debtors")
        let client = provider.client(over: transport)
        let (rest, restBody) = try await client.fetch(HTTPRequest(url: try environment.restURL("connectors/Profit_Debtors?skip=0&take=10")))
        console.detail("HTTP \(rest.status.code): \(String(decoding: restBody, as: UTF8.self))")

        console.step("An authorized SOAP call: GetVersionInfo on appconnectorversioninfo.asmx (AfasToken header)")
        let envelope = SOAPMessage.envelope(operation: "GetVersionInfo", namespace: "urn:Afas.Profit.Services", parameters: [])
        let request = soapRequest(url: try environment.soapURL("appconnectorversioninfo.asmx"), action: "urn:Afas.Profit.Services/GetVersionInfo")
        let (soap, soapBody) = try await client.fetch(request, body: envelope)
        console.detail("HTTP \(soap.status.code): GetVersionInfoResult = \(try SOAPMessage(parsing: soapBody).text(of: "GetVersionInfoResult") ?? "-")")

        console.step("Token info: GET metainfo")
        let info = try await provider.tokenInfo()
        console.detail("expires: \(info.expiresAt.map { "\($0)" } ?? "never (the app connector has no validity period)")")

        console.step("A second app instance loads the same token from the store")
        let other = ProfitProvider(environment: environment, transport: transport, store: store, key: key)
        let otherClient = other.client(over: transport)
        let versionURL = try environment.restURL("ProfitVersion")
        console.detail("GET ProfitVersion → HTTP \(try await otherClient.fetch(HTTPRequest(url: versionURL)).0.status.code)")

        console.step("Revoke the token: SOAP DeleteToken on tokenconnector.asmx, then remove it locally")
        try await provider.deleteToken()
        console.detail("active tokens in the sandbox: \(sandbox.activeTokenCount); stored: \(try await store.load(key) == nil ? "nothing" : "still there")")

        console.step("The second instance still holds the revoked token and calls again")
        do {
            _ = try await otherClient.fetch(HTTPRequest(url: versionURL))
            console.detail("unexpected: the call succeeded")
        } catch let error as AuthError {
            console.detail("typed error: \(error)")
            console.detail("error.code == .revoked: \(error.code == .revoked); retried: no (nothing to refresh)")
        }
    }

    // MARK: - Profix-it

    static func profix(server: SandboxServer, transport: any HTTPTransport, advance: @escaping @Sendable (TimeInterval) -> Void,
                       now: @escaping @Sendable () -> Date, console: Console) async throws {
        console.print("\n== Profix-it OAuth2 ==")
        let sandbox = server.profix
        let region = try ProfixRegistration.Region.custom(server.profixURL)
        guard let redirect = URL(string: "https://app.example.com/profix/callback") else { return }
        let codeClient = ProfixRegistration(clientID: "b81cc4de-d192-400e-bcb4-09254394c52a", clientSecret: Secret("demo-code-secret"), redirectURI: redirect, region: region)
        let serviceClient = ProfixRegistration(clientID: "0d6f6a39-0000-4000-8000-000000000001", clientSecret: Secret("demo-service-secret"), region: region)
        let passwordClient = ProfixRegistration(clientID: "5e0c1d2b-0000-4000-8000-000000000002", clientSecret: Secret("demo-password-secret"), region: region)
        sandbox.registerClient(id: codeClient.clientID, secret: codeClient.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        sandbox.registerClient(id: serviceClient.clientID, secret: serviceClient.clientSecret, grant: .clientCredentials)
        sandbox.registerClient(id: passwordClient.clientID, secret: passwordClient.clientSecret, grant: .password)
        sandbox.addUser(username: "planner@example.com", password: Secret("first-password"), userID: "123", mustChangePassword: true)
        let observer = AuthEventObserver { event in
            // Token calls and store writes are many; show the events a reader learns from.
            if event.kind != .tokenCall && event.kind != .credentialStored { console.detail("event: \(event)") }
        }
        let configuration = ProfixProvider.Configuration(retryPolicy: RetryPolicy(maxAttempts: 3, sleep: { _ in }))
        let apiURL = server.profixURL.appendingPathComponent("api/v1/workorders")

        console.step("Authorization code: the browser opens the authorization page and is sent back with a code")
        let store = InMemoryTokenStore()
        let provider = ProfixProvider(client: codeClient, transport: transport, store: store,
                                      key: TokenKey(provider: "profix", account: "demo-code"),
                                      configuration: configuration, observer: observer, now: now)
        let pending = try ProfixAuthorizationRequest(client: codeClient)
        console.detail("authorize at: \(URLDescription(pending.url).text)?client_id=…&redirect_uri=…&state=<redacted>")
        let (page, _) = try await transport.send(HTTPRequest(url: pending.url))
        guard let location = page.headerFields[.location], let callback = URL(string: location) else {
            throw AuthError(.malformedResponse, message: "the authorization page did not redirect")
        }
        console.detail("HTTP \(page.status.code) → \(URLDescription(callback).text)?code=<redacted> (another origin: the transport returned the redirect)")
        let first = try await provider.exchange(callbackURL: callback, for: pending)
        console.detail("tokens stored: \(first)")

        console.step("An authorized API call")
        let api = provider.client(over: transport)
        let (response, body) = try await api.fetch(HTTPRequest(url: apiURL))
        console.detail("HTTP \(response.status.code) \(String(decoding: body, as: UTF8.self))")

        console.step("Ten minutes later: 100 concurrent calls share one refresh, and the refresh token rotates")
        advance(600)
        let before = sandbox.counters.refreshes
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await api.fetch(HTTPRequest(url: apiURL)).0.status.code } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let second = try await provider.credential()
        console.detail("\(statuses.filter { $0 == 200 }.count) × HTTP 200; /token refreshes: \(sandbox.counters.refreshes - before)")
        if let old = first.refreshToken {
            console.detail("old refresh token still accepted by the service: \(sandbox.accepts(refreshToken: old))")
        }
        console.detail("the new pair was saved before use: \(try await store.load(provider.key) == second)")

        console.step("A revoked refresh token: the provider asks for re-authorization instead of looping, and remembers it")
        sandbox.revokeRefreshTokens()
        advance(600)
        do {
            _ = try await api.send(HTTPRequest(url: apiURL))
        } catch let error as AuthError {
            console.detail("→ \(error.code); stored pair kept for inspection, marked refused: \(try await store.load(provider.key)?.refreshRefused == true)")
        }

        console.step("Client credentials: an access token only, re-acquired when it expires")
        let service = ProfixProvider(client: serviceClient, transport: transport, configuration: configuration, observer: observer, now: now)
        console.detail("\(try await service.requestClientCredentialsToken())")
        advance(600)
        _ = try await service.client(over: transport).fetch(HTTPRequest(url: apiURL))
        console.detail("client-credentials grants so far: \(sandbox.counters.clientCredentialsGrants); refreshes used: none")

        console.step("Password grant with a demanded password change")
        let user = ProfixProvider(client: passwordClient, transport: transport, configuration: configuration, observer: observer, now: now)
        let outcome = try await user.logIn(username: "planner@example.com", password: Secret("first-password"))
        if case .passwordChangeRequired(let userID) = outcome {
            console.detail("outcome: password change required for user id \(userID)")
            do {
                try await user.changePassword(userID: userID, currentPassword: Secret("wrong"), newPassword: Secret("second-password"))
            } catch let error as AuthError {
                console.detail("wrong current password → \(error.code): \(error.serverMessage ?? "")")
            }
            try await user.changePassword(userID: userID, currentPassword: Secret("first-password"), newPassword: Secret("second-password"))
            console.detail("password changed")
            if case .authorized(let expiresAt) = try await user.logIn(username: "planner@example.com", password: Secret("second-password")) {
                console.detail("logged in again with the new password; token expires \(expiresAt.map { "\($0)" } ?? "never")")
            }
        }
    }

    // MARK: - e-conomic

    static func economic(server: SandboxServer, transport: any HTTPTransport, console: Console) async throws {
        console.print("\n== e-conomic ==")
        let sandbox = server.economic
        guard let redirect = URL(string: "https://app.example.com/economic/callback") else { return }

        console.step("Build the grant link (requestURL + locale + redirectUrl encoded once, with our own parameters)")
        let request = EconomicGrantRequest(
            appPublicToken: sandbox.appPublicToken,
            requestAccessURL: server.economicURL.appendingPathComponent("secure/api1/requestaccess.aspx"),
            locale: .english, redirectURL: redirect,
            parameters: [.init("UserInMySystem", "123"), .init("note", "a&b=c d")],
            state: EconomicGrantRequest.randomState()
        )
        let link = try request.url()
        console.detail("link: \(URLDescription(link).text)?appPublicToken=…&locale=en-US&redirectUrl=…")

        console.step("The administrator approves; the grant page redirects back with token=")
        let (page, _) = try await transport.send(HTTPRequest(url: link))
        guard let location = page.headerFields[.location], let callbackURL = URL(string: location) else {
            throw AuthError(.malformedResponse, provider: "economic", message: "the grant page did not redirect")
        }
        console.detail("HTTP \(page.status.code) → \(URLDescription(callbackURL).text)?…&token=<redacted>")

        console.step("Capture the AgreementGrantToken from the callback (address, parameters and state checked)")
        let callback = try EconomicGrantCallback(url: callbackURL, expecting: request)
        console.detail("token: \(callback.agreementGrantToken); parameters: \(callback.parameters.map(\.description).joined(separator: ", "))")

        console.step("REST: GET /self with X-AppSecretToken and X-AgreementGrantToken")
        let events = Mutex<[AuthEvent]>([])
        let app = EconomicApp(appSecretToken: sandbox.appSecretToken, transport: transport,
                              providerConfiguration: .init(restBaseURL: server.economicURL),
                              sessionConfiguration: .init(endpoint: server.economicURL.appendingPathComponent("secure/api1/EconomicWebService.asmx")),
                              observer: AuthEventObserver { event in events.withLock { $0.append(event) } })
        let provider = try app.provider(grantToken: callback.agreementGrantToken)
        let agreement = try await provider.validate()
        console.detail("agreement \(agreement.agreementNumber.map(String.init) ?? "-"): \(agreement.company?.name ?? "-"), currency \(agreement.baseCurrency ?? "-")")
        let (customers, customersBody) = try await provider.send(.get, path: "customers")
        console.detail("GET /customers → HTTP \(customers.status.code), \(customersBody.count) bytes")

        console.step("SOAP: ConnectWithToken sets session cookies; later calls replay them")
        let session = try app.session(grantToken: callback.agreementGrantToken)
        let number = try await session.call("Agreement_GetNumber")
        console.detail("Agreement_GetNumber → \(number.text(of: "Agreement_GetNumberResult") ?? "-"); cookies sent: <redacted>; ConnectWithToken calls: \(sandbox.connectCount)")

        console.step("The session expires; 100 concurrent calls reconnect exactly once")
        sandbox.expireSessions()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { _ = try await session.call("Company_GetName") } }
            try await group.waitForAll()
        }
        console.detail("ConnectWithToken calls now: \(sandbox.connectCount) (one initial + one reconnect)")
        for event in events.withLock({ $0 }) where event.kind == .sessionEstablished { console.detail("event: \(event)") }
        try await session.disconnect()

        console.step("The customer revokes the grant: REST and SOAP report it typed")
        sandbox.revokeGrant(callback.agreementGrantToken)
        do {
            _ = try await provider.validate()
        } catch let error as AuthError {
            console.detail("REST: \(error.code) (HTTP \(error.status.map(String.init) ?? "-"))")
        }
        do {
            _ = try await session.call("Agreement_GetNumber")
        } catch let error as AuthError {
            console.detail("SOAP: \(error.code)")
        }
    }
}

/// A provider that holds `token-1` and moves to `token-2` when asked to recover.
private actor RotatingDemoProvider: CredentialProvider {
    private var token = "token-1"

    func authorize(_ request: inout HTTPRequest) async throws {
        request.headerFields[.authorization] = "Bearer \(token)"
    }

    func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        token = "token-2"
        return true
    }
}

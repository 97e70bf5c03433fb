import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
import ProfixOAuth
import Testing

/// The code of `Docs/ProfixOAuth.md`, compiled and run against the sandbox. Keep in sync.
@Suite struct DocumentationExamples {
    actor Mirror {
        var kept: [StoredCredential] = []
        func keep(_ credential: StoredCredential) { kept.append(credential) }
    }

    @Test func guideRunsFromZeroToAnAuthorizedCall() async throws {
        let environment = ["PROFIX_CLIENT_SECRET": "n3G7KAhcv8OH"]
        let time = TestClock()
        let clock = time.now
        let tokenFolder = FileManager.default.temporaryDirectory.appendingPathComponent("profix-docs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tokenFolder) }
        let mirror = Mirror()

        // 1.
        let client = ProfixRegistration(
            clientID: "b81cc4de-d192-400e-bcb4-09254394c52a",
            clientSecret: Secret(environment["PROFIX_CLIENT_SECRET"] ?? ""),
            redirectURI: URL(string: "https://app.example.com/profix/callback"),
            region: .nl
        )

        // 7. (set up first so the guide's calls have a service to talk to)
        let sandbox = ProfixSandbox(now: clock)
        sandbox.registerClient(id: client.clientID, secret: client.clientSecret, grant: .authorizationCode,
                               redirectURI: client.redirectURI)
        let transport = sandbox

        // 2.
        let store = try FileTokenStore(directory: tokenFolder)
        let provider = ProfixProvider(
            client: client,
            transport: transport,
            store: store,
            key: TokenKey(provider: "profix", account: "customer-42"),
            observer: AuthEventObserver { event in print(event) },
            now: clock,
            onCredentialChange: { credential in if let credential { await mirror.keep(credential) } }
        )

        // 3. Authorization code
        let pending = try ProfixAuthorizationRequest(client: client)
        let callback = try sandbox.approve(authorizationURL: pending.url)
        try await provider.exchange(callbackURL: callback, for: pending)

        // 4.
        let api = AuthorizingTransport(base: transport, provider: provider)
        let response = try await api.reply(HTTPRequest(url: URL(string: "https://api.profix-it.nl/api/v1/workorders")!))
        #expect(response.status == 200)

        // 5.
        time.advance(600)
        let request = HTTPRequest(url: URL(string: "https://api.profix-it.nl/api/v1/workorders")!)
        do {
            _ = try await api.send(request)
        } catch let error as AuthError where error.code == .reauthorizationRequired {
            Issue.record("the refresh should have worked")
        }
        #expect(sandbox.counters.refreshes == 1)
        #expect(await mirror.kept.count == 2)

        // 6.
        time.advance(600)
        try await provider.refresh()
        #expect(sandbox.counters.refreshes == 2)

        // 7. fault injection and inspection
        sandbox.enqueueTokenReply(.json(503, "{}"))
        #expect(sandbox.counters.refreshes == 2)
    }

    @Test func guideOtherGrants() async throws {
        let time = TestClock()
        let sandbox = ProfixSandbox(now: time.now)
        let serviceClient = ProfixRegistration(clientID: "svc", clientSecret: Secret("svc-secret"), region: .be)
        let userClient = ProfixRegistration(clientID: "usr", clientSecret: Secret("usr-secret"))
        sandbox.registerClient(id: "svc", secret: Secret("svc-secret"), grant: .clientCredentials)
        sandbox.registerClient(id: "usr", secret: Secret("usr-secret"), grant: .password)
        sandbox.addUser(username: "planner@example.com", password: Secret("first-password"), mustChangePassword: true)
        let serviceProvider = ProfixProvider(client: serviceClient, transport: sandbox, now: time.now)
        let userProvider = ProfixProvider(client: userClient, transport: sandbox, now: time.now)

        try await serviceProvider.requestClientCredentialsToken()

        switch try await userProvider.logIn(username: "planner@example.com", password: Secret("first-password")) {
        case .authorized:
            break
        case .passwordChangeRequired(let userID):
            try await userProvider.changePassword(userID: userID, currentPassword: Secret("first-password"),
                                                  newPassword: Secret("second-password"))
            _ = try await userProvider.logIn(username: "planner@example.com", password: Secret("second-password"))
        }
        #expect(sandbox.counters.passwordGrants == 1)
        #expect(sandbox.counters.clientCredentialsGrants == 1)
        #expect(try await userProvider.credential() != nil)
    }
}

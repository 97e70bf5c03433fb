import AuthCore
import AuthTesting
import Foundation
import HTTPTypes
import ProfixOAuth
import ProfixOAuthTesting
import Testing

/// Gaps a strict run found: a refused refresh is remembered in the store, `unauthorized_client`
/// reads as what it is, and a redirect URI never sends the code over plain HTTP to another machine.
@Suite struct ProfixRefusalMemoryTests {
    static let api = URL(string: "https://api.profix-it.nl/api/v1/workorders")!
    static let key = TokenKey(provider: "profix", account: "ann")

    /// A sandbox with a password client and the user `ann`, on a clock the test moves.
    struct Rig {
        let clock = TestClock()
        let sandbox: ProfixSandbox
        let registration = ProfixRegistration(clientID: "memory", clientSecret: Secret("memory-secret"))
        let store = InMemoryTokenStore()

        init() {
            sandbox = ProfixSandbox(now: clock.now)
            sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .password)
            sandbox.addUser(username: "ann", password: Secret("pw-ann"))
        }

        /// A provider on the rig's store, over `transport` (default the sandbox).
        func provider(over transport: (any HTTPTransport)? = nil) -> ProfixProvider {
            ProfixProvider(client: registration, transport: transport ?? sandbox, store: store, key: ProfixRefusalMemoryTests.key, now: clock.now)
        }
    }

    /// The next process (a new provider on the same store) starts in "re-authorization
    /// required" and does not present the dead refresh token again; a new grant clears the mark.
    @Test func aRefusedRefreshIsRememberedByTheNextProvider() async throws {
        let rig = Rig()
        let (clock, sandbox, store, key) = (rig.clock, rig.sandbox, rig.store, Self.key)
        let first = rig.provider()
        _ = try await first.logIn(username: "ann", password: Secret("pw-ann"))
        sandbox.revokeRefreshTokens()
        clock.advance(by: .seconds(600))
        let refused = await #expect(throws: AuthError.self) { _ = try await first.refresh() }
        #expect(refused?.code == .reauthorizationRequired)
        let stored = try #require(try await store.load(key))
        #expect(stored.refreshRefused)
        #expect(stored.refreshToken != nil)   // kept for inspection, not lost

        let calls = sandbox.counters.tokenRequests
        let next = rig.provider()
        var request = HTTPRequest(url: Self.api)
        let error = await #expect(throws: AuthError.self) { try await next.authorize(&request) }
        #expect(error?.code == .reauthorizationRequired)
        await #expect(throws: AuthError.self) { _ = try await next.refresh() }
        #expect(sandbox.counters.tokenRequests == calls)
        #expect(try await next.credential() == nil)

        _ = try await next.logIn(username: "ann", password: Secret("pw-ann"))
        #expect(try await store.load(key)?.refreshRefused == false)
        try await next.authorize(&request)
        #expect(request.headerFields[.authorization]?.hasPrefix("Bearer ") == true)
    }

    /// A transient failure is not a refusal: nothing is marked.
    @Test func aTransientFailureMarksNothing() async throws {
        let rig = Rig()
        let failing = FaultInjectingTransport(base: rig.sandbox)
        let provider = rig.provider(over: failing)
        _ = try await provider.logIn(username: "ann", password: Secret("pw-ann"))
        failing.inject(.status(503, retryAfter: nil), times: 10)
        rig.clock.advance(by: .seconds(600))
        await #expect(throws: AuthError.self) { _ = try await provider.refresh() }
        #expect(try await rig.store.load(Self.key)?.refreshRefused == false)
    }

    /// `unauthorized_client` is the client's registration not allowing the grant: a
    /// configuration problem, described as such (not as a wrong secret or redirect mismatch).
    @Test func unauthorizedClientIsAConfigurationProblem() async throws {
        let sandbox = ProfixSandbox()
        let registration = ProfixRegistration(clientID: "wrong-grant", clientSecret: Secret("wrong-grant-secret"))
        sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .clientCredentials)
        let provider = ProfixProvider(client: registration, transport: sandbox)
        let error = await #expect(throws: AuthError.self) { _ = try await provider.logIn(username: "ann", password: Secret("pw")) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.serverCode == "unauthorized_client")
        #expect(error?.serverMessage?.contains("grant type") == true)
        #expect(error?.serverMessage?.contains("redirect") == false)
    }

    /// The code comes back on the redirect URI: plain HTTP only to this machine.
    @Test(arguments: ["http://evil.example/cb", "http://192.168.1.20/cb"])
    func aPlainHTTPRedirectURIToAnotherMachineIsRefused(_ text: String) throws {
        let registration = ProfixRegistration(clientID: "c", clientSecret: Secret("s"), redirectURI: URL(string: text))
        let error = #expect(throws: AuthError.self) { try ProfixAuthorizationRequest(client: registration) }
        #expect(error?.code == .insecureURL)
        for allowed in ["https://app.example.com/cb", "http://127.0.0.1:8080/cb", "http://localhost/cb", "com.example.app:/oauth"] {
            #expect(throws: Never.self) { try ProfixAuthorizationRequest(client: ProfixRegistration(clientID: "c", clientSecret: Secret("s"), redirectURI: URL(string: allowed))) }
        }
    }
}

extension Optional where Wrapped == StoredCredential {
    /// Whether this is `other`, kept for inspection and marked as refused (nothing else changed).
    func isRefusedCopy(of other: StoredCredential?) -> Bool {
        guard let self, let other, self.refreshRefused else { return false }
        var unmarked = self
        unmarked.attributes[StoredCredential.refreshRefusedAttribute] = nil
        return unmarked == other
    }
}

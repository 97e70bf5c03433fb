import AuthCore
import AuthTesting
import Foundation
import HTTPTypes
import ProfixOAuth
import ProfixOAuthTesting
import Testing

/// `authorizeIfReady`, the synchronous path the authorizing clients try first: it adds a valid
/// cached token, and leaves loading and refreshing to the awaited path.
@Suite struct ProfixFastPathTests {
    let clock = TestClock()

    @Test func readyOnlyWithAValidLoadedToken() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        var request = HTTPRequest(url: Fixture.apiURL)
        #expect(try provider.authorizeIfReady(&request) == false)      // nothing granted yet
        #expect(request.headerFields[.authorization] == nil)

        try await Fixture.authorize(provider, sandbox: sandbox)
        let token = try #require(try await provider.credential()?.accessToken.revealed)
        #expect(try provider.authorizeIfReady(&request))
        #expect(request.headerFields[.authorization] == "Bearer \(token)")

        // A second provider on the same store has not loaded it yet: the awaited path loads it.
        let other = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        var fresh = HTTPRequest(url: Fixture.apiURL)
        #expect(try other.authorizeIfReady(&fresh) == false)
        try await other.authorize(&fresh)
        #expect(fresh.headerFields[.authorization] == "Bearer \(token)")
        var again = HTTPRequest(url: Fixture.apiURL)
        #expect(try other.authorizeIfReady(&again))
    }

    @Test func aDueTokenIsNotReadyAndTheClientRefreshesIt() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let old = try #require(try await provider.credential()?.accessToken)
        clock.advance(by: .seconds(600))
        var request = HTTPRequest(url: Fixture.apiURL)
        #expect(try provider.authorizeIfReady(&request) == false)
        #expect(request.headerFields[.authorization] == nil)
        let response = try await provider.client(over: sandbox).send(HTTPRequest(url: Fixture.apiURL), body: nil)
        #expect(response.0.status == .ok)
        #expect(sandbox.counters.refreshes == 1)
        #expect(try await provider.credential()?.accessToken != old)
    }

    @Test func itChecksTheURLBeforeAddingAnything() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        var plain = HTTPRequest(method: .get, scheme: "http", authority: "api.profix-it.nl", path: "/api/v1/workorders")
        #expect { try provider.authorizeIfReady(&plain) } throws: { ($0 as? AuthError)?.code == .insecureURL }
        var elsewhere = HTTPRequest(method: .get, scheme: "https", authority: "api.example.com", path: "/x")
        #expect { try provider.authorizeIfReady(&elsewhere) } throws: { ($0 as? AuthError)?.code == .untrustedHost }
        #expect(plain.headerFields[.authorization] == nil && elsewhere.headerFields[.authorization] == nil)
        // The API host before a colon, another host after the `@`: the token would go there.
        var disguised = HTTPRequest(method: .get, scheme: "https", authority: "api.profix-it.nl:1@evil.example.com", path: "/x")
        #expect { try provider.authorizeIfReady(&disguised) } throws: { ($0 as? AuthError)?.code == .untrustedHost }
        await #expect(throws: AuthError.self) { try await provider.authorize(&disguised) }
        #expect(disguised.headerFields[.authorization] == nil)
    }

    /// The clients send what `authorizeIfReady` authorized without a check of their own
    /// (`requestTargetCheck` is `.byProvider`), so the provider's check is all there is: nothing reaches the
    /// transport for a target outside the audience, by either client form.
    @Test(arguments: [("http", "api.profix-it.nl", "/x"), ("https", "evil.example.com", "/x"), ("https", "api.profix-it.nl:1@evil.example.com", "/x"),
                      ("https", "api.profix-it.nl.evil.example.com", "/x"), ("https", "api.profix-it.nlx", "/x"),
                      ("https", "api.profix-it.nl", ".evil.example.com/x"), ("https", "api.profix-it.nl", "@evil.example.com/x")])
    func theClientsRelyOnItsCheck(_ scheme: String, _ authority: String, _ path: String) async throws {
        #expect(ProfixProvider.requestTargetCheck == .byProvider)
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let mock = MockTransport(responses: [.json(200, "{}")])
        let request = HTTPRequest(method: .get, scheme: scheme, authority: authority, path: path)
        await #expect(throws: AuthError.self) { try await AuthorizingTransport(base: mock, provider: provider).reply(request) }
        await #expect(throws: AuthError.self) { _ = try await provider.client(over: mock).send(request, body: nil) }
        #expect(mock.requestCount == 0)
    }
}

/// A store whose reads, once armed, wait until released, and give up when their task is
/// cancelled (as `FileTokenStore` does while it waits for another process's lock). A held read
/// returns what the store held when it began.
final class HeldLoadStore: TokenStore {
    let inner = InMemoryTokenStore()
    private let state = Locked((loads: 0, armed: true, released: false))
    var loads: Int { state.withLock { $0.loads } }
    func arm() { state.withLock { $0 = (0, true, false) } }
    func disarm() { state.withLock { $0.armed = false } }
    func release() { state.withLock { $0.released = true } }

    func load(_ key: TokenKey) async throws -> StoredCredential? {
        let value = try await inner.load(key)
        guard state.withLock({ $0.loads += 1; return $0.armed }) else { return value }
        while !state.withLock({ $0.released }) { try await Task.sleep(for: .milliseconds(1)) }
        return value
    }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws { try await inner.save(credential, for: key) }
    func remove(_ key: TokenKey) async throws { try await inner.remove(key) }
}

@Suite struct ProfixFirstLoadTests {
    /// The first request's store read is shared by the requests that arrive while it runs; when
    /// the first request is cancelled (its client went away), the others still get the token.
    @Test func aCancelledFirstCallerDoesNotFailTheCallersThatJoinedItsRead() async throws {
        let store = HeldLoadStore()
        let key = TokenKey(provider: ProfixProvider.providerName, account: "held")
        try await store.inner.save(StoredCredential(accessToken: Secret("held-access-token"), refreshToken: Secret("held-refresh"),
                                                    expiresAt: Date().addingTimeInterval(3_600)), for: key)
        let provider = ProfixProvider(client: ProfixRegistration(clientID: "client", clientSecret: Secret("secret")),
                                      transport: MockTransport(), store: store, key: key)
        let request = HTTPRequest(url: Fixture.apiURL)
        let first = Task { try await provider.authorized(request) }
        while store.loads == 0 { await Task.yield() }
        let second = Task { try await provider.authorized(request) }
        try await Task.sleep(for: .milliseconds(50))   // the second joins the read in flight
        first.cancel()
        try await Task.sleep(for: .milliseconds(20))
        store.release()
        _ = await first.result
        let authorized = try await second.value
        #expect(authorized.headerFields[.authorization] == "Bearer held-access-token")
        #expect(store.loads == 1)
    }

    /// A caller that joins a store read begun before a sign-out must not adopt what that read
    /// returns: the credential was removed after it was read.
    @Test func aReadBegunBeforeASignOutIsNotAdoptedAfterIt() async throws {
        let store = HeldLoadStore()
        store.disarm()
        let key = TokenKey(provider: ProfixProvider.providerName, account: "stale")
        let provider = ProfixProvider(client: ProfixRegistration(clientID: "client", clientSecret: Secret("secret")),
                                      transport: MockTransport(), store: store, key: key)
        let request = HTTPRequest(url: Fixture.apiURL)
        await #expect(throws: AuthError(.notAuthenticated)) { try await provider.authorized(request) }   // loaded: empty
        // Another instance stores a credential; a request starts reading it (held)...
        try await store.inner.save(StoredCredential(accessToken: Secret("stale-access-token"), refreshToken: Secret("stale-refresh"),
                                                    expiresAt: Date().addingTimeInterval(3_600)), for: key)
        store.arm()
        let first = Task { try await provider.authorized(request) }
        while store.loads == 0 { await Task.yield() }
        // ...and this instance signs out meanwhile, then another request joins the read in flight.
        try await provider.signOut()
        let second = Task { try await provider.authorized(request) }
        try await Task.sleep(for: .milliseconds(50))
        store.release()
        _ = await first.result
        await #expect(throws: AuthError(.notAuthenticated)) { try await second.value }
        #expect(try await provider.credential() == nil)
    }
}

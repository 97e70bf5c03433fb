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

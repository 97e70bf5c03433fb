import AuthCore
import AuthTesting
import Foundation
import HTTPTypes
@testable import ProfixOAuth
import ProfixOAuthTesting
import Testing
import TestSupport

/// Providers made by one `ProfixApp`: one shared copy of what tenants have in common, and each
/// tenant's own token, refresh and store entry.
@Suite struct ProfixAppTests {
    let clock = TestClock()

    private func app(_ sandbox: ProfixSandbox, store: any TokenStore, changes: Recorder<String>) -> ProfixApp {
        ProfixApp(client: Fixture.passwordClient, transport: sandbox, store: store,
                  configuration: ProfixProvider.Configuration(retryPolicy: noSleepRetry), now: clock.now,
                  onCredentialChange: { key, credential in changes.append("\(key.account):\(credential == nil ? "removed" : "saved")") })
    }

    @Test func tenantsOfOneAppKeepTheirOwnTokens() async throws {
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let changes = Recorder<String>()
        let app = app(sandbox, store: store, changes: changes)
        let first = app.provider(key: TokenKey(provider: "profix", account: "first"))
        let second = app.provider(key: TokenKey(provider: "profix", account: "second"))
        #expect(first.shared === second.shared)
        #expect(first.key.account == "first" && second.key.account == "second")

        for provider in [first, second] {
            _ = try await provider.logIn(username: "support@example.com", password: Secret("correct horse"))
        }
        let firstToken = try #require(try await first.credential()?.accessToken.revealed)
        let secondToken = try #require(try await second.credential()?.accessToken.revealed)
        #expect(firstToken != secondToken)
        #expect(try await store.load(first.key)?.accessToken.revealed == firstToken)
        #expect(try await store.load(second.key)?.accessToken.revealed == secondToken)
        let mock = MockTransport(responses: [.json(200, "{}"), .json(200, "{}")])
        for provider in [first, second] {
            _ = try await AuthorizingTransport(base: mock, provider: provider).send(HTTPRequest(url: Fixture.apiURL), body: nil)
        }
        #expect(mock.requests.map { $0.headerFields[.authorization] } == ["Bearer \(firstToken)", "Bearer \(secondToken)"])

        // Each tenant refreshes its own token once; the app's callback names the key.
        clock.advance(by: .seconds(600))
        for provider in [first, second] {
            let (response, _) = try await AuthorizingTransport(base: sandbox, provider: provider).send(HTTPRequest(url: Fixture.apiURL), body: nil)
            #expect(response.status == .ok)
        }
        #expect(sandbox.counters.refreshes == 2)
        #expect(try await first.credential()?.accessToken.revealed != firstToken)
        try await first.signOut()
        #expect(try await store.load(first.key) == nil)
        #expect(try await second.credential() != nil)
        #expect(changes.values == ["first:saved", "second:saved", "first:saved", "second:saved", "first:removed"])
    }

    /// A provider made alone keeps the same behaviour: its callback gets the credential only.
    @Test func aProviderMadeAloneHasItsOwnSharedPart() async throws {
        let sandbox = Fixture.sandbox(clock)
        let changes = Recorder<Bool>()
        let alone = Fixture.provider(Fixture.passwordClient, sandbox: sandbox, clock: clock, onCredentialChange: { changes.append($0 != nil) })
        let other = Fixture.provider(Fixture.passwordClient, sandbox: sandbox, clock: clock)
        #expect(alone.shared !== other.shared)
        _ = try await alone.logIn(username: "support@example.com", password: Secret("correct horse"))
        #expect(changes.values == [true])
    }
}

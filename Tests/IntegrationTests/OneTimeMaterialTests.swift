import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import Foundation
import EconomicAuthTesting
import ProfitAuth
import ProfixOAuth
import TestSupport
import Testing

/// Nothing that works once (an authorization code, an activation code, a rotating refresh token)
/// is spent into a store that cannot keep what it buys.
@Suite(.enabled(if: Immutability.isAvailable, "needs chattr +i for a store that cannot write"))
struct OneTimeMaterialTests {
    private func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("one-time-\(UUID().uuidString)")
    }

    @Test func anAuthorizationCodeIsNotExchangedIntoAStoreThatCannotWrite() async throws {
        let directory = folder()
        let sandbox = ProfixSandbox()
        let redirect = try #require(URL(string: "https://app.example.com/cb"))
        let client = ProfixRegistration(clientID: "app", clientSecret: Secret("app-secret-1"), redirectURI: redirect)
        sandbox.registerClient(id: client.clientID, secret: client.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        let provider = ProfixProvider(client: client, transport: sandbox, store: try FileTokenStore(directory: directory))
        let pending = try ProfixAuthorizationRequest(client: client)
        let callback = try sandbox.approve(authorizationURL: pending.url)

        #expect(Immutability.freeze(directory))
        await #expect(throws: AuthError(.storeFailure)) { try await provider.exchange(callbackURL: callback, for: pending) }
        #expect(sandbox.counters.tokenRequests == 0)   // the code was never sent

        Immutability.restore(directory)
        try await provider.exchange(callbackURL: callback, for: pending)   // and still works
        #expect(sandbox.counters.codeExchanges == 1)
    }

    @Test func aRefreshTokenIsNotSpentIntoAStoreThatCannotWrite() async throws {
        let directory = folder()
        let now = Locked(Date(timeIntervalSince1970: 1_800_000_000))
        let clock: @Sendable () -> Date = { now.withLock { $0 } }
        let sandbox = ProfixSandbox(now: clock)
        let client = ProfixRegistration(clientID: "user-app", clientSecret: Secret("user-app-secret"))
        sandbox.registerClient(id: client.clientID, secret: client.clientSecret, grant: .password)
        sandbox.addUser(username: "ann@example.com", password: Secret("pw-ann-123"))
        let store = try FileTokenStore(directory: directory)
        let provider = ProfixProvider(client: client, transport: sandbox, store: store, now: clock)
        _ = try await provider.logIn(username: "ann@example.com", password: Secret("pw-ann-123"))
        let before = try #require(try await store.load(provider.key))

        now.withLock { $0 = $0.addingTimeInterval(600) }
        #expect(Immutability.freeze(directory))
        let api = try #require(URL(string: "https://api.profix-it.nl/api/v1/workorders"))
        await #expect(throws: AuthError(.storeFailure)) { _ = try await provider.authorized(HTTPRequest(url: api)) }
        #expect(sandbox.counters.refreshes == 0)
        #expect(sandbox.accepts(refreshToken: try #require(before.refreshToken)))

        Immutability.restore(directory)
        _ = try await provider.authorized(HTTPRequest(url: api))
        #expect(sandbox.counters.refreshes == 1)
        #expect(try await store.load(provider.key) != before)
    }

    @Test func anActivationCodeIsNotRedeemedIntoAStoreThatCannotWrite() async throws {
        let directory = folder()
        let apiKey = Secret("A1B2C3D4E5F60718293A4B5C6D7E8F90")
        let environmentKey = Secret("F0E1D2C3B4A5968778695A4B3C2D1E0F")
        let sandbox = ProfitSandbox(apiKey: apiKey, environmentKey: environmentKey, users: ["DavidB": "david@example.com"])
        let provider = ProfitProvider(environment: try ProfitEnvironment(number: "12345"),
                                      keys: .init(apiKey: apiKey, environmentKey: environmentKey), transport: sandbox,
                                      store: try FileTokenStore(directory: directory), key: TokenKey(provider: "profit", account: "DavidB"))
        try await provider.requestOTP(userId: "DavidB")
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        let callsBefore = sandbox.calls.count

        #expect(Immutability.freeze(directory))
        await #expect(throws: AuthError(.storeFailure)) { try await provider.redeemOTP(code, userId: "DavidB") }
        #expect(sandbox.calls.count == callsBefore)

        Immutability.restore(directory)
        try await provider.redeemOTP(code, userId: "DavidB")
        #expect(try await provider.hasToken())
    }
}

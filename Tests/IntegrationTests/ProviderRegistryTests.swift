import AuthCore
import AuthTesting
import EconomicAuthTesting
import ProfixOAuthTesting
import EconomicAuth
import Foundation
import ProfitAuthTesting
import HTTPTypes
import ProfixOAuth
import Testing

/// One provider per tenant: shared, bounded, and never the owner of a credential.
@Suite struct ProviderRegistryTests {
    final class Clock: Sendable {
        private let current = Locked(Date(timeIntervalSince1970: 1_800_000_000))
        var now: @Sendable () -> Date { { self.current.withLock { $0 } } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test func concurrentCallersShareOneProviderPerTenant() async throws {
        let made = Locked(0)
        let sandbox = EconomicSandbox()
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let app = EconomicApp(appSecretToken: sandbox.appSecretToken, transport: sandbox)
        let registry = ProviderRegistry<Int, EconomicProvider> { _ in
            made.withLock { $0 += 1 }
            return try app.provider(grantToken: grant)
        }
        let identities = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
            for _ in 0..<1_000 { group.addTask { ObjectIdentifier(try registry.provider(for: 7)) } }
            return try await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
        }
        #expect(identities.count == 1)
        #expect(made.withLock { $0 } == 1)
    }

    /// A tenant's state (here a rejected grant) lives as long as its provider.
    @Test func perTenantStateIsKeptWhileTheProviderLives() async throws {
        let sandbox = EconomicSandbox()
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let app = EconomicApp(appSecretToken: sandbox.appSecretToken, transport: sandbox)
        let registry = ProviderRegistry<Int, EconomicProvider> { _ in try app.provider(grantToken: grant) }
        sandbox.revokeGrant(grant)
        await #expect(throws: AuthError.self) { _ = try await registry.provider(for: 1).validate() }
        #expect(try registry.provider(for: 1).isRejected)
        #expect(try !registry.provider(for: 2).isRejected)
    }

    @Test func theLeastRecentlyUsedAreForgottenPastTheLimit() throws {
        let registry = ProviderRegistry<Int, EconomicProvider>(configuration: .init(maximumCount: 100, idleTimeout: nil)) { _ in
            try EconomicProvider(credentials: .demo, transport: MockTransport())
        }
        let kept = try registry.provider(for: 0)
        for tenant in 1...1_000 {
            _ = try registry.provider(for: tenant)
            _ = try registry.provider(for: 0)   // tenant 0 stays in use
        }
        #expect(registry.count <= 100)
        #expect(registry.contains(0) && registry.contains(1_000))
        #expect(!registry.contains(1))
        #expect(try registry.provider(for: 0) === kept)
    }

    /// Uses are ordered exactly even when every one happens at the same instant.
    @Test func theLeastRecentlyUsedAreForgottenWhenTheClockStandsStill() throws {
        let clock = Clock()
        let registry = ProviderRegistry<Int, EconomicProvider>(configuration: .init(maximumCount: 100, idleTimeout: nil), now: clock.now) { _ in
            try EconomicProvider(credentials: .demo, transport: MockTransport())
        }
        let kept = try registry.provider(for: 0)
        for tenant in 1...1_000 {
            _ = try registry.provider(for: tenant)
            _ = try registry.provider(for: 0)
        }
        #expect(registry.count <= 100)
        #expect(registry.contains(0) && registry.contains(1_000) && registry.contains(999))
        #expect(!registry.contains(1))
        #expect(try registry.provider(for: 0) === kept)
    }

    /// After the clock is set back, idle times go on from where they were: a provider left idle
    /// for longer than the timeout since is forgotten, not kept until the clock catches up.
    @Test func idleTimesGoOnAfterTheClockIsSetBack() throws {
        let clock = Clock()
        let registry = ProviderRegistry<String, EconomicProvider>(configuration: .init(idleTimeout: .seconds(600)), now: clock.now) { _ in
            try EconomicProvider(credentials: .demo, transport: MockTransport())
        }
        clock.advance(1_000)
        let first = try registry.provider(for: "a")
        _ = try registry.provider(for: "b")
        clock.advance(-1_000)
        _ = try registry.provider(for: "b")
        clock.advance(300)
        _ = try registry.provider(for: "b")   // "a": 300 s idle
        #expect(try registry.provider(for: "a") === first)
        clock.advance(700)
        _ = try registry.provider(for: "b")   // "a": 700 s idle, though the clock reads its last use's time
        #expect(!registry.contains("a"))
        #expect(registry.contains("b"))
    }

    @Test func idleProvidersAreForgotten() throws {
        let clock = Clock()
        let registry = ProviderRegistry<String, EconomicProvider>(configuration: .init(idleTimeout: .seconds(600)), now: clock.now) { _ in
            try EconomicProvider(credentials: .demo, transport: MockTransport())
        }
        let first = try registry.provider(for: "a")
        _ = try registry.provider(for: "b")
        clock.advance(400)
        _ = try registry.provider(for: "b")
        clock.advance(400)
        _ = try registry.provider(for: "b")   // a is 800 s idle, b 400 s
        #expect(!registry.contains("a"))
        #expect(registry.contains("b"))
        #expect(try registry.provider(for: "a") !== first)
    }

    /// On the system clock (no clock given, the registry reads the kernel's coarse clock) idle
    /// times pass as they do on the precise one: a provider idle for longer than the timeout is
    /// forgotten, one in use is kept.
    @Test func idleProvidersAreForgottenOnTheSystemClock() async throws {
        let registry = ProviderRegistry<String, EconomicProvider>(configuration: .init(idleTimeout: .milliseconds(200))) { _ in
            try EconomicProvider(credentials: .demo, transport: MockTransport())
        }
        let first = try registry.provider(for: "a")
        #expect(try registry.provider(for: "a") === first)
        try await Task.sleep(for: .milliseconds(600))
        _ = try registry.provider(for: "b")   // a sweep is due (every 50 ms): a is 600 ms idle
        #expect(!registry.contains("a"))
        #expect(registry.contains("b"))
    }

    /// Forgetting a Profix user's provider loses no credential: the next provider loads the pair
    /// from the store and calls the API without a new grant.
    @Test func forgettingAProviderNeverDropsItsCredential() async throws {
        let sandbox = ProfixSandbox()
        let registration = ProfixRegistration(clientID: "svc", clientSecret: Secret("svc-secret"))
        sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .clientCredentials)
        let store = InMemoryTokenStore()
        let registry = ProviderRegistry<String, ProfixProvider>(configuration: .init(maximumCount: 2)) { user in
            ProfixProvider(client: registration, transport: sandbox, store: store, key: TokenKey(provider: "profix", account: user))
        }
        for user in ["ann", "bob", "cy"] { try await registry.provider(for: user).requestClientCredentialsToken() }
        #expect(!registry.contains("ann"))
        let api = try #require(URL(string: "https://api.profix-it.nl/api/v1/workorders"))
        let (response, _) = try await registry.provider(for: "ann").client(over: sandbox).send(HTTPRequest(url: api))
        #expect(response.status == .ok)
        #expect(sandbox.counters.clientCredentialsGrants == 3)
    }
}

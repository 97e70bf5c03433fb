import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
@testable import ProfixOAuth
import Testing

/// Providers that share one store (stand-ins for processes or app instances) are never stranded
/// by each other: they rotate once between them, and a provider that fell behind adopts what the
/// others stored instead of presenting a dead refresh token.
@Suite struct ProfixSharedStoreTests {
    let clock = TestClock()

    private func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("profix-shared-\(UUID().uuidString)")
    }

    private func call(_ provider: ProfixProvider, _ sandbox: ProfixSandbox) async throws -> Int {
        try await AuthorizingTransport(base: sandbox, provider: provider).reply(HTTPRequest(url: Fixture.apiURL)).status
    }

    /// Both tokens expire at the same moment in every round and both providers call at once:
    /// under the folder's lock one rotates and the other adopts, so every round costs exactly
    /// one refresh and nobody ever presents a dead refresh token.
    @Test func twoProvidersExpiringTogetherNeverNeedReauthorization() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock)
        let events = EventCollector()
        let a = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory), observer: events.observer)
        let b = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory), observer: events.observer)
        try await Fixture.authorize(a, sandbox: sandbox)
        #expect(try await call(b, sandbox) == 200)

        let rounds = 40
        for _ in 0..<rounds {
            clock.advance(600)
            async let first = call(a, sandbox)
            async let second = call(b, sandbox)
            #expect(try await [first, second] == [200, 200])
        }
        #expect(sandbox.counters.refreshes == rounds)
        #expect(sandbox.counters.tokenErrors == 0)
        #expect(await !a.requiresReauthorization)
        #expect(await !b.requiresReauthorization)
        #expect(!events.all.contains { $0.kind == .reauthorizationRequired })
    }

    /// B loads the pair and sleeps; A rotates three times; the stored pair expires too. When B
    /// wakes it refreshes with the stored refresh token, not with the dead one it remembers.
    @Test func longIdleProviderRefreshesWithTheStoredRefreshToken() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock)
        let a = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory))
        let b = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory))
        try await Fixture.authorize(a, sandbox: sandbox)
        let remembered = try #require(try await b.credential())

        for _ in 0..<3 {
            clock.advance(600)
            #expect(try await call(a, sandbox) == 200)
        }
        #expect(sandbox.counters.refreshes == 3)
        #expect(!sandbox.accepts(refreshToken: try #require(remembered.refreshToken)))

        clock.advance(3_600)   // the pair A stored has expired as well
        #expect(try await call(b, sandbox) == 200)
        #expect(sandbox.counters.refreshes == 4)
        #expect(sandbox.counters.tokenErrors == 0)
        #expect(await !b.requiresReauthorization)
    }

    /// B's refresh is refused (its grant was revoked), so B needs re-authorization; then the
    /// user signs in again through A. B adopts the new stored pair on its next call.
    @Test func providerNeedingReauthorizationAdoptsANewerStoredPair() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock)
        let a = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory))
        let b = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory))
        try await Fixture.authorize(a, sandbox: sandbox)
        _ = try await b.credential()

        sandbox.revokeRefreshTokens()
        clock.advance(600)
        await #expect(throws: AuthError(.reauthorizationRequired)) { _ = try await call(b, sandbox) }
        #expect(await b.requiresReauthorization)
        let refusals = sandbox.counters.tokenErrors

        // Still refused while nothing new is stored, and without another /token call.
        await #expect(throws: AuthError(.reauthorizationRequired)) { _ = try await call(b, sandbox) }
        #expect(sandbox.counters.tokenErrors == refusals)

        try await Fixture.authorize(a, sandbox: sandbox)
        #expect(try await call(b, sandbox) == 200)
        #expect(await !b.requiresReauthorization)
        #expect(try await b.credential() == a.credential())
    }

    /// Readers take the cached header without any lock but the snapshot's while another task
    /// keeps rotating the pair; under ThreadSanitizer (`.ci/run`) this shows the fast path and
    /// the rotation share no unsynchronised state. Every request still succeeds.
    @Test func lockFreeReadersDuringRotations() async throws {
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let rotations = 30
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [Int] = []
                    for _ in 0..<150 { seen.append(try await call(provider, sandbox)) }
                    return seen
                }
            }
            group.addTask {
                for _ in 0..<rotations { try await provider.refresh() }
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 600)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(sandbox.counters.refreshes >= rotations)
        #expect(sandbox.counters.tokenErrors == 0)
    }

    /// A store without a lock (only load, save and remove) shared by two instances: B reads the
    /// pair just before A's rotation lands, so B's refresh presents a refresh token that A just
    /// spent. B reads the store again, adopts A's pair, and is not logged out.
    @Test func refusedRefreshAdoptsThePairAnotherInstanceStoredMeanwhile() async throws {
        let sandbox = Fixture.sandbox(clock)
        let shared = InMemoryTokenStore()
        let a = Fixture.provider(sandbox: sandbox, clock: clock, store: UnlockedStore(base: shared))
        let bStore = UnlockedStore(base: shared)
        let b = Fixture.provider(sandbox: sandbox, clock: clock, store: bStore)
        try await Fixture.authorize(a, sandbox: sandbox)
        let before = try #require(try await b.credential())
        try await a.refresh()

        clock.advance(600)
        bStore.serveOnce(before)   // B's next read is the pair as it was before A's rotation
        #expect(try await call(b, sandbox) == 200)
        #expect(sandbox.counters.tokenErrors == 1)   // the one spent refresh token B presented
        #expect(await !b.requiresReauthorization)
    }
}

/// A store with only load, save and remove (so `update` is the protocol's unlocked default),
/// whose next load can be made to return an older credential, as a read racing another
/// instance's write would.
private final class UnlockedStore: TokenStore {
    let base: InMemoryTokenStore
    private let stale = Locked<StoredCredential?>(nil)
    init(base: InMemoryTokenStore) { self.base = base }
    func serveOnce(_ credential: StoredCredential) { stale.withLock { $0 = credential } }
    func load(_ key: TokenKey) async throws -> StoredCredential? {
        if let old = stale.withLock({ value -> StoredCredential? in defer { value = nil }; return value }) { return old }
        return try await base.load(key)
    }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws { try await base.save(credential, for: key) }
    func remove(_ key: TokenKey) async throws { try await base.remove(key) }
}

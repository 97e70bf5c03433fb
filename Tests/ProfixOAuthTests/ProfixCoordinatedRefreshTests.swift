import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing

/// Two providers sharing one `FileTokenStore` folder stand in for two processes.
@Suite struct ProfixCoordinatedRefreshTests {
    let clock = TestClock()

    private func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("profix-coordination-\(UUID().uuidString)")
    }

    @Test func secondProviderAdoptsThePairTheFirstRotated() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock)
        let storeA = try FileTokenStore(directory: directory)
        let storeB = try FileTokenStore(directory: directory)
        let a = Fixture.provider(sandbox: sandbox, clock: clock, store: storeA)
        try await Fixture.authorize(a, sandbox: sandbox)
        let b = Fixture.provider(sandbox: sandbox, clock: clock, store: storeB)
        let original = try await b.credential()   // B holds the same pair in memory

        clock.advance(600)
        let rotated = try await a.refresh()
        #expect(rotated != original)
        #expect(sandbox.counters.refreshes == 1)

        // B's in-memory refresh token is dead; coordinating adopts A's pair without a /token call.
        let adopted = try await b.refresh()
        #expect(adopted == rotated)
        #expect(sandbox.counters.refreshes == 1)
        #expect(try await AuthorizingTransport(base: sandbox, provider: b).reply(HTTPRequest(url: Fixture.apiURL)).status == 200)
    }

    /// What the profix-worker processes rely on: a coordinated refresh of a still-valid pair is a
    /// forced rotation, unless another provider rotated since this one last looked; then the
    /// newer pair is adopted and nothing is sent.
    @Test func forcedCoordinatedRefreshRotatesUnlessAnotherRotatedSinceLastLook() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock)
        let storeA = try FileTokenStore(directory: directory)
        let storeB = try FileTokenStore(directory: directory)
        let a = Fixture.provider(sandbox: sandbox, clock: clock, store: storeA)
        try await Fixture.authorize(a, sandbox: sandbox)
        let b = Fixture.provider(sandbox: sandbox, clock: clock, store: storeB)
        let original = try #require(try await b.credential())

        // Nobody else rotated and the token is valid: A rotates anyway.
        let first = try await a.refresh()
        #expect(first.refreshToken != original.refreshToken)
        #expect(sandbox.counters.refreshes == 1)

        // B last looked at the original pair: it adopts A's rotation instead of rotating.
        #expect(try await b.refresh() == first)
        #expect(sandbox.counters.refreshes == 1)

        // Now B is up to date, so its next forced refresh rotates, and A then adopts that.
        let second = try await b.refresh()
        #expect(second.refreshToken != first.refreshToken)
        #expect(sandbox.counters.refreshes == 2)
        #expect(try await a.refresh() == second)
        #expect(sandbox.counters.refreshes == 2)
        #expect(sandbox.counters.tokenErrors == 0)
        #expect(try await storeA.load(a.key) == second)
    }

    @Test func concurrentCoordinatedRefreshesRotateOnce() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock) { $0.tokenLatency = .milliseconds(5) }
        let configuration = ProfixProvider.Configuration(retryPolicy: noSleepRetry)
        let first = Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory), configuration: configuration)
        try await Fixture.authorize(first, sandbox: sandbox)
        var providers = [first]
        for _ in 0..<4 {
            providers.append(Fixture.provider(sandbox: sandbox, clock: clock, store: try FileTokenStore(directory: directory), configuration: configuration))
        }
        clock.advance(600)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for provider in providers {
                for _ in 0..<20 {
                    group.addTask {
                        try await AuthorizingTransport(base: sandbox, provider: provider).reply(HTTPRequest(url: Fixture.apiURL)).status
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 100)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(sandbox.counters.refreshes == 1)
        #expect(sandbox.counters.tokenErrors == 0)
    }

    @Test func rejectedCoordinatedRefreshRequiresReauthorization() async throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = Fixture.sandbox(clock)
        let store = try FileTokenStore(directory: directory)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let stored = try await store.load(provider.key)
        sandbox.revokeRefreshTokens()
        await #expect(throws: AuthError(.reauthorizationRequired)) { try await provider.refresh() }
        #expect(try await store.load(provider.key).isRefusedCopy(of: stored))
    }
}

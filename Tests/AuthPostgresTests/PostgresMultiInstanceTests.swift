#if PostgreSQL
import AuthCore
import AuthPostgres
import Foundation
import HTTPTypes
import PostgresNIO
import ProfixOAuth
import ProfixOAuthTesting
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Eight app instances (OS processes, each with its own connection pool) share one Profix-it
/// credential in PostgreSQL and force rotations against one sandbox over loopback HTTP.
@Suite(.serialized, .enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipReason)))
struct PostgresMultiInstanceTests {
    static let instances = 8
    static let rotationsPerInstance = 25

    @Test func eightInstancesRotateOneRefreshTokenWithoutLosingAPair() async throws {
        try await PostgresTestServer.withDatabase { client, name in
            let store = PostgresTokenStore(client: client)
            try await store.migrate()
            let rig = try RotationRig()
            defer { rig.server.stop() }
            let key = try await rig.seed(store)

            let (summaries, seconds) = try await rig.run(workers: Self.instances, rotations: Self.rotationsPerInstance,
                                                   storeArgument: PostgresTestServer.url(database: name))
            rig.expectOneUnbrokenChain(summaries, workers: Self.instances, rotations: Self.rotationsPerInstance,
                                       stored: try await store.load(key))
            let rotations = Self.instances * Self.rotationsPerInstance
            #expect(rotations >= 200)
            let adopted = summaries.reduce(0) { $0 + ($1["adopted"] ?? 0) }
            print(String(format: "PostgresMultiInstanceTests: %d instances, %d rotations (%d adopted pairs) in %.2f s: %.1f coordinated refreshes/s",
                         Self.instances, rotations, adopted, seconds, Double(rotations) / seconds))
        }
    }

    /// An instance killed (SIGKILL) while it holds a credential's lock: the server ends its
    /// connection and releases the lock, so the others wait far less than the lock timeout.
    @Test func aKilledInstanceHoldingTheLockDelaysOthersLessThanTheLockTimeout() async throws {
        try await PostgresTestServer.withDatabase { client, name in
            let lockTimeout = Duration.seconds(20)
            let store = PostgresTokenStore(client: client, configuration: .init(lockTimeout: lockTimeout))
            try await store.migrate()
            try await store.save(StoredCredential(accessToken: Secret("kill-test")), for: TokenKey(provider: "profix", account: "victim"))
            let worker = try #require(helperExecutable("profix-worker"))
            let process = Process()
            process.executableURL = worker
            process.arguments = ["hold-lock", PostgresTestServer.url(database: name), "victim"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            // Wait until it holds the lock.
            let reader = output.fileHandleForReading
            let line = await offThePool { reader.availableData }
            #expect(String(decoding: line, as: UTF8.self).contains("holding"))

            let clock = ContinuousClock()
            let start = clock.now
            let waiter = Task { try await store.update(TokenKey(provider: "profix", account: "victim")) { current in current } }
            try await Task.sleep(for: .milliseconds(300))
            kill(process.processIdentifier, SIGKILL)
            let killedAt = clock.now
            await offThePool { process.waitUntilExit() }
            _ = try await waiter.value
            let delayAfterKill = clock.now - killedAt
            #expect(clock.now - start < lockTimeout)
            #expect(delayAfterKill < .seconds(5))
            print("PostgresMultiInstanceTests: a SIGKILLed lock holder delayed the next update by \(delayAfterKill) after the kill (lock timeout \(lockTimeout))")
        }
    }

    /// What coordination costs: a forced refresh through the PostgreSQL store's lock, against one
    /// kept in memory, both over loopback HTTP. Recorded, not asserted.
    @Test func theAddedLatencyOfACoordinatedRefresh() async throws {
        try await PostgresTestServer.withDatabase { client, _ in
            let store = PostgresTokenStore(client: client)
            try await store.migrate()
            let rig = try RotationRig()
            defer { rig.server.stop() }
            func measure(_ store: any TokenStore) async throws -> Duration {
                let provider = ProfixProvider(client: rig.client, transport: URLSessionTransport(), store: store)
                let pending = try ProfixAuthorizationRequest(client: rig.client)
                try await provider.exchange(callbackURL: try rig.sandbox.approve(authorizationURL: pending.url), for: pending)
                let clock = ContinuousClock()
                let start = clock.now
                for _ in 0..<40 { try await provider.refresh() }
                return (clock.now - start) / 40
            }
            let memory = try await measure(InMemoryTokenStore())
            let postgres = try await measure(store)
            print("PostgresMultiInstanceTests: a forced refresh takes \(memory) with an in-memory store, \(postgres) through PostgreSQL (+\(postgres - memory))")
            #expect(rig.sandbox.counters.tokenErrors == 0)
        }
    }
}
#endif

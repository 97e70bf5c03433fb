#if PostgreSQL
import AuthCore
import AuthTesting
@testable import AuthPostgres
import Crypto
import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import ProfixOAuth
import ProfixOAuthTesting
import Testing
import TestSupport

let sample = StoredCredential(accessToken: Secret("pg-access-ABC"), refreshToken: Secret("pg-refresh-DEF"),
                              expiresAt: Date(timeIntervalSince1970: 1_800_000_600), issuedAt: Date(timeIntervalSince1970: 1_800_000_000),
                              attributes: ["grant": "authorization_code"])

@Suite(.serialized, .enabled(if: PostgresTestServer.isAvailable, Comment(rawValue: PostgresTestServer.skipReason)))
struct PostgresTokenStoreTests {
    let key = TokenKey(provider: "profix", account: "Zoe\u{0308}")

    @Test func migratesOnceAndRoundTrips() async throws {
        try await PostgresTestServer.withDatabase { client, _ in
            let store = PostgresTokenStore(client: client)
            // Several instances starting together take turns; the schema is recorded once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await store.migrate() } }
                try await group.waitForAll()
            }
            let versions = try await client.query("SELECT version FROM accounting_auth_schema")
            var recorded: [Int] = []
            for try await version in versions.decode(Int.self) { recorded.append(version) }
            #expect(recorded == [PostgresTokenStore.schemaVersion])

            #expect(try await store.load(key) == nil)
            try await store.save(sample, for: key)
            #expect(try await store.load(TokenKey(provider: "profix", account: "Zo\u{00EB}")) == sample)   // NFC
            // An unchanged credential writes nothing; a change bumps the version.
            try await store.update(key) { current in current }
            #expect(try await rowVersion(client) == 1)
            var changed = sample
            changed.accessToken = Secret("pg-access-XYZ")
            try await store.update(key) { _ in changed }
            #expect(try await rowVersion(client) == 2)
            #expect(try await store.load(key) == changed)
            try await store.update(key) { _ in nil }
            #expect(try await store.load(key) == nil)
            try await store.checkWritable(key)
        }
    }

    @Test func encryptionSealsTheRowAndBindsItToItsKey() async throws {
        try await PostgresTestServer.withDatabase { client, _ in
            let secret = SymmetricKey(size: .bits256)
            let store = PostgresTokenStore(client: client, configuration: .init(encryptionKey: secret))
            try await store.migrate()
            try await store.save(sample, for: key)
            let rows = try await client.query("SELECT credential, encrypted FROM accounting_auth_credentials")
            for try await (blob, encrypted) in rows.decode((Data, Bool).self) {
                #expect(encrypted)
                #expect(!String(decoding: blob, as: UTF8.self).contains("pg-access-ABC"))
            }
            #expect(try await store.load(key) == sample)
            // Another key, or no key, cannot open it; it is reported, not replaced.
            let other = PostgresTokenStore(client: client, configuration: .init(encryptionKey: SymmetricKey(size: .bits256)))
            await #expect(throws: AuthError(.storeCorrupt)) { _ = try await other.load(key) }
            await #expect(throws: AuthError(.storeCorrupt)) { _ = try await PostgresTokenStore(client: client).load(key) }
            // A row moved to another account does not open either (the key is authenticated data).
            try await drain(client.query("UPDATE accounting_auth_credentials SET account = 'mallory'"))
            await #expect(throws: AuthError(.storeCorrupt)) { _ = try await store.load(TokenKey(provider: "profix", account: "mallory")) }
        }
    }

    /// Two instances (two clients, two connection pools) update one credential 40 times in all,
    /// each read-modify-write suspended in the middle: the row lock makes them take turns.
    @Test func concurrentUpdatesFromTwoInstancesLoseNothing() async throws {
        try await PostgresTestServer.withDatabase { first, name in
            let second = PostgresTestServer.client(database: name)
            let secondTask = Task { await second.run() }
            defer { secondTask.cancel() }
            let stores = [PostgresTokenStore(client: first), PostgresTokenStore(client: second)]
            try await stores[0].migrate()
            let key = self.key
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    let store = stores[index % 2]
                    group.addTask {
                        try await store.update(key) { current in
                            let count = Int(current?.attributes["count"] ?? "0") ?? 0
                            try await Task.sleep(for: .milliseconds(2))
                            return StoredCredential(accessToken: Secret("t"), attributes: ["count": String(count + 1)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await stores[1].load(key)?.attributes["count"] == "40")
        }
    }

    @Test func aLockWaitEndsAtTheLockTimeout() async throws {
        try await PostgresTestServer.withDatabase { client, _ in
            let store = PostgresTokenStore(client: client, configuration: .init(lockTimeout: .milliseconds(400)))
            try await store.migrate()
            let key = self.key
            let holding = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await store.update(key) { current -> (StoredCredential?, Void) in
                    holding.continuation.yield()
                    for await _ in release.stream { break }
                    return (current, ())
                }
            }
            for await _ in holding.stream { break }
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: AuthError.self) { try await store.update(key) { current in current } }
            #expect(error?.code == .storeFailure)
            #expect(error?.serverCode == "55P03")
            #expect(clock.now - start >= .milliseconds(350))
            release.continuation.yield()
            try await holder.value
        }
    }

    @Test func aReadOnlyDatabaseIsFoundBeforeAnythingIsSpent() async throws {
        try await PostgresTestServer.withDatabase { client, name in
            let store = PostgresTokenStore(client: client)
            try await store.migrate()
            try await drain(client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) SET default_transaction_read_only = on")))
            let fresh = PostgresTestServer.client(database: name)
            let task = Task { await fresh.run() }
            defer { task.cancel() }
            let readOnly = PostgresTokenStore(client: fresh)
            await #expect(throws: AuthError(.storeFailure)) { try await readOnly.checkWritable(key) }
            #expect(try await readOnly.load(key) == nil)   // reading still works
        }
    }

    /// The store is unavailable at the moment a refresh writes the rotated pair (another session
    /// holds the row locked past the refresh's lock timeout): the write fails, the pair is saved
    /// again once the row is free, and nothing is lost.
    @Test func aStoreOutageMidRefreshLosesNoCredential() async throws {
        try await PostgresTestServer.withDatabase { client, name in
            let store = PostgresTokenStore(client: client, configuration: .init(lockTimeout: .milliseconds(300)))
            try await store.migrate()
            let clock = TestClock()
            var configuration = ProfixSandbox.Configuration()
            configuration.tokenLatency = .milliseconds(500)
            let sandbox = ProfixSandbox(configuration: configuration, now: clock.now)
            let registration = ProfixRegistration(clientID: "pg-svc", clientSecret: Secret("pg-svc-secret"))
            sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .password)
            sandbox.addUser(username: "ann", password: Secret("pw-ann"))
            let provider = ProfixProvider(client: registration, transport: sandbox, store: store, now: clock.now)
            _ = try await provider.logIn(username: "ann", password: Secret("pw-ann"))
            let before = try #require(try await store.load(provider.key))

            // While the token call is under way, another session locks the credential's row for
            // 700 ms, so the refresh's write waits past its lock timeout and fails.
            let blocker = PostgresTestServer.client(database: name)
            let blockerTask = Task { await blocker.run() }
            defer { blockerTask.cancel() }
            let refresh = Task { try await provider.refresh() }
            try await Task.sleep(for: .milliseconds(150))
            try await blocker.withTransaction(logger: Logger(label: "tests")) { connection in
                for try await _ in try await connection.query(
                    "SELECT 1 FROM accounting_auth_credentials WHERE provider = 'profix' AND account = 'default' FOR UPDATE",
                    logger: Logger(label: "tests")) {}
                try await Task.sleep(for: .milliseconds(700))
            }
            let outcome = await refresh.result
            let current = try #require(try await provider.credential())
            let stored = try #require(try await store.load(provider.key))
            #expect(current != before)
            #expect(sandbox.counters.refreshes == 1)
            #expect(sandbox.accepts(refreshToken: try #require(current.refreshToken)))
            // The write inside the lock timed out; the retried save kept the rotated pair.
            #expect(throws: Never.self) { try outcome.get() }
            #expect(stored == current)
        }
    }
}

func drain(_ rows: PostgresRowSequence) async throws {
    for try await _ in rows {}
}

private func rowVersion(_ client: PostgresClient) async throws -> Int {
    let rows = try await client.query("SELECT version FROM accounting_auth_credentials")
    for try await version in rows.decode(Int.self) { return version }
    return 0
}
#endif

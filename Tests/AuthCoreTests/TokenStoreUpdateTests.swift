import AuthCore
import Foundation
import Testing

/// A store with only the three required methods, so `update` is the protocol's default.
private final class PlainStore: TokenStore {
    let base = InMemoryTokenStore()
    let saves = Locked(0)
    let removals = Locked(0)
    func load(_ key: TokenKey) async throws -> StoredCredential? { try await base.load(key) }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        saves.withLock { $0 += 1 }
        try await base.save(credential, for: key)
    }
    func remove(_ key: TokenKey) async throws {
        removals.withLock { $0 += 1 }
        try await base.remove(key)
    }
}

private struct Refused: Error {}

/// The coordinated read-modify-write every provider refreshes through.
@Suite struct TokenStoreUpdateTests {
    let key = TokenKey(provider: "profix", account: "acme")

    private func counter(_ value: Int) -> StoredCredential {
        StoredCredential(accessToken: Secret("token-\(value)"), attributes: ["count": String(value)])
    }

    @Test func defaultUpdateSavesChangesRemovesNilAndWritesNothingOtherwise() async throws {
        let store = PlainStore()
        #expect(!store.coordinatesUpdates)
        let result = try await store.update(key) { current -> (StoredCredential?, String) in
            #expect(current == nil)
            return (sampleCredential, "created")
        }
        #expect(result == "created")
        #expect(try await store.load(key) == sampleCredential)
        #expect(store.saves.withLock { $0 } == 1)

        // Returning what it was given writes nothing.
        _ = try await store.update(key) { current -> (StoredCredential?, Void) in (current, ()) }
        #expect(store.saves.withLock { $0 } == 1)

        // Throwing writes nothing.
        await #expect(throws: Refused.self) {
            _ = try await store.update(key) { _ -> (StoredCredential?, Void) in throw Refused() }
        }
        #expect(try await store.load(key) == sampleCredential)

        // nil removes.
        _ = try await store.update(key) { _ -> (StoredCredential?, Void) in (nil, ()) }
        #expect(try await store.load(key) == nil)
        #expect(store.removals.withLock { $0 } == 1)
    }

    @Test func storesThatLockSaySo() throws {
        #expect(InMemoryTokenStore().coordinatesUpdates)
        #expect(try FileTokenStore(directory: temporaryFolder()).coordinatesUpdates)
    }

    /// 60 tasks each read a counter, suspend (as a refresh waits on the network), and write it
    /// back plus one. Without the per-key lock most increments are lost.
    @Test func inMemoryUpdatesOfOneKeyRunOneAtATime() async throws {
        let store = InMemoryTokenStore()
        try await store.save(counter(0), for: key)
        let key = self.key
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<60 {
                group.addTask {
                    _ = try? await store.update(key) { current -> (StoredCredential?, Void) in
                        let value = Int(current?.attributes["count"] ?? "0") ?? 0
                        try await Task.sleep(for: .milliseconds(1))
                        return (self.counter(value + 1), ())
                    }
                }
            }
        }
        #expect(try await store.load(key)?.attributes["count"] == "60")
    }

    @Test func inMemoryUpdatesOfDifferentKeysDoNotWaitForEachOther() async throws {
        let store = InMemoryTokenStore()
        let other = TokenKey(provider: "profix", account: "other")
        let entered = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        let slow = Task {
            try await store.update(key) { _ -> (StoredCredential?, Void) in
                entered.continuation.yield()
                for await _ in release.stream { break }
                return (sampleCredential, ())
            }
        }
        for await _ in entered.stream { break }
        // The first key's lock is held; another key is updated at once.
        try await store.update(other) { _ -> (StoredCredential?, Void) in (sampleCredential, ()) }
        #expect(try await store.load(other) == sampleCredential)
        release.continuation.yield()
        try await slow.value
        #expect(try await store.load(key) == sampleCredential)
    }
}

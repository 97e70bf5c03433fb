public import AuthCore
import AuthTesting

/// A store whose writes yield a seeded random number of times first, so that writes started
/// together finish in a shuffled order.
public final class ShufflingStore: TokenStore {
    public let inner = InMemoryTokenStore()
    private let generator: Locked<SplitMix64>
    private let count = Locked(0)
    public var writes: Int { count.withLock { $0 } }

    public init(seed: UInt64) { generator = Locked(SplitMix64(seed: seed)) }

    private func shuffle() async {
        count.withLock { $0 += 1 }
        let yields = generator.withLock { Int($0.next() % 6) }
        for _ in 0..<yields { await Task.yield() }
    }

    public func load(_ key: TokenKey) async throws -> StoredCredential? { try await inner.load(key) }
    public func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        await shuffle()
        try await inner.save(credential, for: key)
    }
    public func remove(_ key: TokenKey) async throws {
        await shuffle()
        try await inner.remove(key)
    }
}

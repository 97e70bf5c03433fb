
/// A ``TokenStore`` that keeps credentials in memory for the life of the process.
///
/// For tests, short-lived tools, and apps that persist credentials themselves by observing
/// their provider.
public final class InMemoryTokenStore: TokenStore {
    private let credentials: Locked<[TokenKey: StoredCredential]>
    private let updates = KeyedAsyncLock<TokenKey>()

    /// Creates a store, optionally with credentials already in it.
    public init(_ initial: [TokenKey: StoredCredential] = [:]) {
        credentials = Locked(initial)
    }

    /// The credential stored under `key`, or `nil`.
    public func load(_ key: TokenKey) async throws -> StoredCredential? {
        credentials.withLock { $0[key] }
    }

    /// Stores `credential` under `key`.
    public func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        credentials.withLock { $0[key] = credential }
    }

    /// Removes the credential stored under `key`.
    public func remove(_ key: TokenKey) async throws {
        _ = credentials.withLock { $0.removeValue(forKey: key) }
    }

    /// Runs `body` on the credential under `key` while holding that key's lock, so providers
    /// that share this store in one process refresh one at a time; saves what `body` returns.
    ///
    /// Plain ``load(_:)`` and ``save(_:for:)`` calls do not wait for the lock.
    public func update<Result: Sendable>(
        _ key: TokenKey,
        _ body: (StoredCredential?) async throws -> (StoredCredential?, Result)
    ) async throws -> Result {
        try await updates.withLock(key) {
            let current = credentials.withLock { $0[key] }
            let (next, result) = try await body(current)
            credentials.withLock { $0[key] = next }
            return result
        }
    }

    /// `true`: providers sharing this instance coordinate through ``update(_:_:)``.
    public var coordinatesUpdates: Bool { true }

    /// Every key that holds a credential.
    public var keys: [TokenKey] {
        credentials.withLock { Array($0.keys) }
    }
}

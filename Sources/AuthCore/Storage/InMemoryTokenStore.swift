
/// A ``TokenStore`` that keeps credentials in memory for the life of the process.
///
/// For tests, short-lived tools, and apps that persist credentials themselves by observing
/// their provider.
public final class InMemoryTokenStore: TokenStore {
    private let credentials: Locked<[TokenKey: StoredCredential]>

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

    /// Every key that holds a credential.
    public var keys: [TokenKey] {
        credentials.withLock { Array($0.keys) }
    }
}

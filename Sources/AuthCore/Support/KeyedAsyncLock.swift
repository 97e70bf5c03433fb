/// An asynchronous mutual-exclusion lock per key: waiting suspends the task (no thread blocks),
/// and waiters get the lock in the order they asked.
package final class KeyedAsyncLock<Key: Hashable & Sendable>: Sendable {
    /// A key present means held; its array holds the waiters.
    private let state = Locked<[Key: [CheckedContinuation<Void, Never>]]>([:])

    package init() {}

    /// Runs `body` while holding the lock for `key`.
    package func withLock<T>(_ key: Key, _ body: () async throws -> T) async rethrows -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: Key) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let owned = state.withLock { held -> Bool in
                guard held[key] != nil else {
                    held[key] = []
                    return true
                }
                held[key, default: []].append(continuation)
                return false
            }
            if owned { continuation.resume() }
        }
    }

    private func release(_ key: Key) {
        let next = state.withLock { held -> CheckedContinuation<Void, Never>? in
            guard var waiters = held[key], !waiters.isEmpty else {
                held[key] = nil
                return nil
            }
            let first = waiters.removeFirst()
            held[key] = waiters
            return first
        }
        next?.resume()
    }
}

#if AUTH_TSAN_LOCKS
#if canImport(Glibc)
public import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif
#else
public import Synchronization
#endif

/// A value behind a lock, shared by reference.
///
/// Normal builds use `Synchronization.Mutex`. Builds with `-D AUTH_TSAN_LOCKS` (the Thread
/// Sanitizer run in `.ci/run`) use a `pthread_mutex_t` instead, because ThreadSanitizer sees
/// through pthread mutexes but not through `Mutex` on Linux (the standard library is not
/// instrumented, so every access under a `Mutex` would be reported as a race).
///
/// Spelled `Locked` inside the package. The class is public, with no public member, only because
/// the compiler does not inline or specialize the members of a `package` type in another module:
/// as a `package` class every read of a provider's cached credential looked up type metadata.
public final class _Locked<Value: Sendable>: Sendable {
    #if AUTH_TSAN_LOCKS
    // Safe: `value` is read and written only while `mutex` is held.
    @usableFromInline nonisolated(unsafe) var value: Value
    @usableFromInline nonisolated(unsafe) let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init(_ value: Value) {
        self.value = value
        self.mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable
    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
    #else
    @usableFromInline let mutex: Mutex<Value>

    package init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    @inlinable
    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        try mutex.withLock { (value: inout Value) throws(Failure) -> Result in try body(&value) }
    }
    #endif
}

/// A value behind a lock, shared by reference (see ``_Locked``).
package typealias Locked<Value: Sendable> = _Locked<Value>

#if AUTH_TSAN_LOCKS
/// A value behind a lock, kept inside its owner: in ThreadSanitizer builds a ``Locked`` (a
/// reference, with a pthread mutex the sanitizer understands).
package typealias InlineLocked<Value: Sendable> = _Locked<Value>
#else
/// A value behind a lock, kept inside its owner (a stored `let` of a class or actor): a
/// `Synchronization.Mutex`, without the separate object a ``Locked`` is. For the state every idle
/// provider keeps, where an object per lock adds up over many tenants.
package typealias InlineLocked<Value: Sendable> = Mutex<Value>
#endif

extension _Locked: CustomReflectable, CustomStringConvertible {
    /// Shows nothing of the guarded value: it may hold credentials (pre-encoded header values).
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .class) }
    /// `Locked(<hidden>)`.
    public var description: String { "Locked(<hidden>)" }
}

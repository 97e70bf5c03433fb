import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-credential `flock`s: a non-blocking attempt, retried with a growing pause (0.2 to 10 ms)
/// until ``FileTokenStore/Configuration/lockTimeout``, so a waiter never holds a thread.
extension FileTokenStore {
    func withExclusiveLock<T>(for key: TokenKey, _ body: () throws -> T) async throws -> T {
        let fd = try await exclusiveLock(for: key)
        defer { releaseLock(fd) }
        return try body()
    }

    func exclusiveLock(for key: TokenKey) async throws -> Int32 {
        // Creating the lock file is the only way it appears: `exclusive` always creates it.
        guard let fd = try await acquireLock(for: key, exclusive: true) else {
            throw AuthError(.storeFailure, message: "cannot create the lock file for \(key)")
        }
        return fd
    }

    /// Locks `key`'s own lock file (`<file>.lock`), so a long `update` of one credential (a
    /// coordinated refresh waiting on the network) never holds up the others. A shared lock does
    /// not create the file: `nil` means there is none (nobody ever wrote the key).
    func acquireLock(for key: TokenKey, exclusive: Bool) async throws -> Int32? {
        let lockPath = directory.appendingPathComponent(key.fileName + ".lock").path
        let flags = exclusive ? (O_RDWR | O_CREAT) : O_RDONLY
        let fd = open(lockPath, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        if fd < 0 {
            if !exclusive && errno == ENOENT { return nil }
            if errno == ELOOP { throw AuthError(.storeFailure, message: "the lock file for \(key) is a symbolic link; refusing to use it") }
            throw Self.failure("cannot open the lock file for \(key)", errno: errno)
        }
        do {
            try Self.requireRegularFileOfOurs(fd, what: "the lock file for \(key)")
        } catch {
            close(fd)
            throw AuthError(.storeFailure, message: error.serverMessage ?? "the lock file is not usable")
        }
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.lockTimeout)
        var pause = Duration.microseconds(200)
        while flock(fd, operation) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR else {
                close(fd)
                throw Self.failure("cannot lock the store", errno: error)
            }
            if clock.now >= deadline {
                close(fd)
                throw AuthError(.storeFailure, message: "timed out waiting for the store's lock")
            }
            do {
                try await Task.sleep(for: pause)
            } catch {
                close(fd)
                throw AuthError(.cancelled, message: "cancelled while waiting for the store's lock")
            }
            pause = min(pause * 2, .milliseconds(10))
        }
        return fd
    }

    func releaseLock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}

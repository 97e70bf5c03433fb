public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``TokenStore`` that keeps each credential in its own JSON file in a private folder.
///
/// - The folder is created with mode `0700` and every file with `0600`.
/// - A save writes a temporary file, flushes it to disk (`fsync`), renames it over the old file
///   and flushes the folder, so a crash leaves either the old or the new credential, never a torn
///   file.
/// - Every operation holds an advisory lock (`flock` on the credential's own `<file>.lock`):
///   several processes may share the folder without interleaving or losing writes, and a long
///   ``update(_:_:)`` of one credential does not hold up the others. Waiting for the lock never blocks
///   a Swift concurrency thread; it polls with a short back-off, up to ``Configuration/lockTimeout``.
/// - Temporary files left by a process that died mid-save are removed by the next save or
///   removal of that credential (under its lock, so a live writer's file is never touched).
/// - A file that cannot be decoded is reported as ``AuthError/Code/storeCorrupt`` and left as it
///   is for inspection; it is never silently replaced by a load.
///
/// ```swift
/// let store = try FileTokenStore(directory: URL(fileURLWithPath: "/var/lib/myapp/tokens"))
/// try await store.save(credential, for: TokenKey(provider: "profix", account: "acme"))
/// ```
public final class FileTokenStore: TokenStore {
    /// Options for the store.
    public struct Configuration: Sendable {
        /// How long an operation waits for another process to release the lock. Default 30 s.
        public var lockTimeout: Duration = .seconds(30)
        /// Creates the default configuration.
        public init() {}
    }

    /// The folder that holds the files.
    public let directory: URL
    private let configuration: Configuration

    /// Opens (and if needed creates, with mode `0700`) the store's folder.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/storeFailure`` when the folder cannot be
    ///   created or is not a folder.
    public init(directory: URL, configuration: Configuration = .init()) throws(AuthError) {
        self.directory = directory.standardizedFileURL
        self.configuration = configuration
        try Self.ensureDirectory(self.directory.path)
    }

    /// Removes the temporary files of `key` left by a process that died mid-save (they may hold a
    /// credential). Call only while holding the key's exclusive lock: every writer holds it while
    /// its temporary file exists, so any temporary file seen then is abandoned.
    private func removeAbandonedTemporaryFiles(of key: TokenKey) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        let prefix = key.fileName + ".tmp-"
        for name in names where name.hasPrefix(prefix) {
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    /// The credential stored under `key`, or `nil`.
    ///
    /// - Throws: ``AuthError/Code/storeCorrupt`` for a file that cannot be decoded (left as it
    ///   is), ``AuthError/Code/storeFailure`` when it cannot be read or the lock not taken.
    public func load(_ key: TokenKey) async throws -> StoredCredential? {
        try await withLock(for: key, exclusive: false) { try self.readCredential(key) }
    }

    /// Stores `credential` under `key` atomically and durably.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when it cannot be written.
    public func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        try await withLock(for: key, exclusive: true) { try self.writeCredential(credential, for: key) }
    }

    /// Removes the credential stored under `key` (and any abandoned temporary file of it).
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when it cannot be removed.
    public func remove(_ key: TokenKey) async throws {
        try await withLock(for: key, exclusive: true) {
            self.removeAbandonedTemporaryFiles(of: key)
            let path = self.path(for: key)
            if unlink(path) != 0 && errno != ENOENT {
                throw Self.failure("cannot remove \(key)", errno: errno)
            }
            self.syncDirectory()
        }
    }

    /// Reads the credential, runs `body` and writes what it returns, all while holding the
    /// credential's exclusive lock, so no other process or task changes it in between.
    ///
    /// This is how several processes that share one rotating refresh token coordinate: read the
    /// pair under the lock, and refresh only when nobody else already did. The lock covers this
    /// key only; other keys stay available. `body` must not call this store for the same key (it
    /// would wait for its own lock until ``Configuration/lockTimeout``).
    ///
    /// - Returns: What `body` returned.
    /// - Throws: what `body` throws (nothing is written then), or the errors of ``load(_:)``
    ///   and ``save(_:for:)``.
    public func update<Result: Sendable>(
        _ key: TokenKey,
        _ body: (StoredCredential?) async throws -> (StoredCredential?, Result)
    ) async throws -> Result {
        let fd = try await acquireLock(for: key, exclusive: true)
        defer { releaseLock(fd) }
        let current = try readCredential(key)
        let (next, result) = try await body(current)
        if let next {
            if next != current || current == nil { try writeCredential(next, for: key) }
        } else if current != nil {
            if unlink(path(for: key)) != 0 && errno != ENOENT {
                throw Self.failure("cannot remove \(key)", errno: errno)
            }
            syncDirectory()
        }
        return result
    }

    /// `true`: the lock is an `flock` that every process sharing the folder respects.
    public var coordinatesUpdates: Bool { true }

    // MARK: - Files

    func path(for key: TokenKey) -> String {
        directory.appendingPathComponent(key.fileName).path
    }

    private func readCredential(_ key: TokenKey) throws -> StoredCredential? {
        let path = path(for: key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Self.failure("cannot open the credential for \(key)", errno: errno)
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot read the credential for \(key)", errno: errno)
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if data.count > 1 << 20 {
                throw AuthError(.storeCorrupt, message: "the credential file for \(key) is larger than 1 MiB")
            }
        }
        do {
            return try JSONDecoder.store.decode(StoredCredential.self, from: data)
        } catch {
            throw AuthError(.storeCorrupt, message: "the credential file for \(key) cannot be decoded; it was left untouched")
        }
    }

    private func writeCredential(_ credential: StoredCredential, for key: TokenKey) throws {
        let data: Data
        do {
            data = try JSONEncoder.store.encode(credential)
        } catch {
            throw AuthError(.storeFailure, message: "cannot encode the credential for \(key)")
        }
        let target = path(for: key)
        removeAbandonedTemporaryFiles(of: key)
        let temporary = target + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw Self.failure("cannot create a temporary file for \(key)", errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw Self.failure("cannot write the credential for \(key)", errno: errno)
                    }
                    offset += n
                }
            }
            if fsync(fd) != 0 { throw Self.failure("cannot flush the credential for \(key)", errno: errno) }
        }
        if rename(temporary, target) != 0 {
            throw Self.failure("cannot replace the credential for \(key)", errno: errno)
        }
        ok = true
        syncDirectory()
    }

    private func syncDirectory() {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    // MARK: - Locking

    private func withLock<T>(for key: TokenKey, exclusive: Bool, _ body: () throws -> T) async throws -> T {
        let fd = try await acquireLock(for: key, exclusive: exclusive)
        defer { releaseLock(fd) }
        return try body()
    }

    /// Locks `key`'s own lock file (`<file>.lock`), so a long `update` of one credential (a
    /// coordinated refresh waiting on the network) never holds up the others.
    private func acquireLock(for key: TokenKey, exclusive: Bool) async throws -> Int32 {
        let lockPath = directory.appendingPathComponent(key.fileName + ".lock").path
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw Self.failure("cannot open the store's lock file", errno: errno) }
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

    private func releaseLock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }

    private static func ensureDirectory(_ path: String) throws(AuthError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw AuthError(.storeFailure, message: "the token store path is not a folder")
            }
            return
        }
        // Create missing parents with 0700 too; then tighten against the umask.
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, stat(parent, &info) != 0 {
            try ensureDirectory(parent)
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw failure("cannot create the token store folder", errno: errno)
        }
        _ = chmod(path, 0o700)
    }

    private static func failure(_ message: String, errno code: Int32) -> AuthError {
        let reason = String(cString: strerror(code))
        return AuthError(.storeFailure, message: "\(message): \(reason)")
    }
}

extension JSONEncoder {
    static var store: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }
}

extension JSONDecoder {
    static var store: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}

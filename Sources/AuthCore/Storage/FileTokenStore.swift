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
/// - **A private folder, by construction.** The folder is created with mode `0700`. An existing
///   folder must be a real folder (not a symbolic link) owned by the current user; one that
///   others may read or write is tightened to `0700` when it is opened. A folder owned by another
///   user is refused: whoever owns it could replace the credentials.
/// - **Only regular files.** Credential and lock files are opened with `O_NOFOLLOW` and
///   `O_NONBLOCK` and checked to be regular files owned by the current user: a symbolic link
///   planted in the folder is never followed and a FIFO never blocks a load.
/// - **Atomic and durable saves.** A save writes a temporary file (`0600`), flushes it (`fsync`),
///   renames it over the old file and flushes the folder, so a crash leaves either the old or
///   the new credential, never a torn file.
/// - **Locks per credential.** Writes hold an exclusive `flock` on the credential's own
///   `<file>.lock`; loads take a shared lock when that file exists and never create a file, so a
///   read-only store can still be read. Waiting never blocks a Swift concurrency thread: it polls
///   with a short back-off, up to ``Configuration/lockTimeout``.
/// - **Nothing lost.** Temporary files left by a process that died mid-save are removed by the
///   next save or removal of that credential. A file that cannot be decoded is reported as
///   ``AuthError/Code/storeCorrupt`` and left as it is.
///
/// ```swift
/// let store = try FileTokenStore(directory: URL(fileURLWithPath: "/var/lib/myapp/tokens"))
/// try await store.save(credential, for: TokenKey(provider: "profix", account: "acme"))
/// ```
public final class FileTokenStore: TokenStore {
    /// Options for the store.
    public struct Configuration: Sendable {
        /// How long an operation waits for another process to release a credential's lock.
        ///
        /// Default 120 s: longer than the longest coordinated refresh with the default settings
        /// (three token requests of at most 30 s each plus back-off, about 100 s), so a process
        /// waiting for another's refresh does not give up while that refresh can still succeed.
        public var lockTimeout: Duration = .seconds(120)

        /// Creates a configuration; every parameter has the documented default.
        public init(lockTimeout: Duration = .seconds(120)) {
            self.lockTimeout = lockTimeout
        }
    }

    /// The system calls a save depends on for durability; tests record them.
    struct Syscalls: Sendable {
        enum Target: Sendable { case file, folder }
        var fsync: @Sendable (Int32, Target) -> Int32
        var rename: @Sendable (String, String) -> Int32

        static let system = Syscalls(fsync: { fd, _ in systemFsync(fd) }, rename: { systemRename($0, $1) })
    }

    /// The folder that holds the files.
    public let directory: URL
    let configuration: Configuration
    private let syscalls: Syscalls

    /// Opens (and if needed creates, with mode `0700`) the store's folder.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when the folder cannot be created, is not a
    ///   folder, is a symbolic link, or belongs to another user.
    public convenience init(directory: URL, configuration: Configuration = .init()) throws(AuthError) {
        try self.init(directory: directory, configuration: configuration, syscalls: .system)
    }

    init(directory: URL, configuration: Configuration, syscalls: Syscalls) throws(AuthError) {
        self.directory = directory.standardizedFileURL
        self.configuration = configuration
        self.syscalls = syscalls
        try Self.ensurePrivateDirectory(self.directory.path)
    }

    // MARK: - TokenStore

    /// The credential stored under `key`, or `nil`.
    ///
    /// Creates no file: without a lock file (nobody ever wrote the key) it reads without a lock.
    ///
    /// - Throws: ``AuthError/Code/storeCorrupt`` for a file that cannot be decoded or is not a
    ///   regular file of the current user (left as it is), ``AuthError/Code/storeFailure`` when it
    ///   cannot be read or the lock not taken.
    public func load(_ key: TokenKey) async throws -> StoredCredential? {
        guard let fd = try await acquireLock(for: key, exclusive: false) else { return try readCredential(key) }
        defer { releaseLock(fd) }
        return try readCredential(key)
    }

    /// Stores `credential` under `key` atomically and durably.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when it cannot be written.
    public func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        try await withExclusiveLock(for: key) { try self.writeCredential(credential, for: key) }
    }

    /// Removes the credential stored under `key` (and any abandoned temporary file of it).
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when it cannot be removed.
    public func remove(_ key: TokenKey) async throws {
        try await withExclusiveLock(for: key) { try self.removeCredential(key) }
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
        let fd = try await exclusiveLock(for: key)
        defer { releaseLock(fd) }
        let current = try readCredential(key)
        let (next, result) = try await body(current)
        if let next {
            if next != current || current == nil { try writeCredential(next, for: key) }
        } else if current != nil {
            try removeCredential(key)
        }
        return result
    }

    /// `true`: the lock is an `flock` that every process sharing the folder respects.
    public var coordinatesUpdates: Bool { true }

    /// Creates and removes a file with the name a save of `key` would write first, so a
    /// read-only, full or foreign folder is found before a one-time code or token is spent.
    ///
    /// - Throws: ``AuthError/Code/storeFailure``.
    public func checkWritable(_ key: TokenKey) async throws {
        try Self.ensurePrivateDirectory(directory.path)
        let probe = temporaryPath(for: key)
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 { throw Self.failure("the token store cannot save \(key)", errno: errno) }
        let written = "{}".utf8.withContiguousStorageIfAvailable { write(fd, $0.baseAddress, $0.count) } ?? -1
        let error = errno
        close(fd)
        unlink(probe)
        if written < 0 { throw Self.failure("the token store cannot save \(key)", errno: error) }
    }

    // MARK: - Files

    func path(for key: TokenKey) -> String {
        directory.appendingPathComponent(key.fileName).path
    }

    private func temporaryPath(for key: TokenKey) -> String {
        path(for: key) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Opens an existing file for reading without following a link or blocking on a FIFO, and
    /// checks that it is a regular file of ours. Returns `nil` when there is no such file.
    private func openRegularFile(_ path: String, what: String) throws(AuthError) -> Int32? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw AuthError(.storeCorrupt, message: "\(what) is a symbolic link; it was left untouched") }
            throw Self.failure("cannot open \(what)", errno: errno)
        }
        do {
            try Self.requireRegularFileOfOurs(fd, what: what)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private func readCredential(_ key: TokenKey) throws -> StoredCredential? {
        let what = "the credential file for \(key)"
        var opened = try openRegularFile(path(for: key), what: what)
        if opened == nil, key.legacyFileName != key.fileName {
            opened = try openRegularFile(directory.appendingPathComponent(key.legacyFileName).path, what: what)
        }
        guard let fd = opened else { return nil }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot read \(what)", errno: errno)
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if data.count > 1 << 20 {
                throw AuthError(.storeCorrupt, message: "\(what) is larger than 1 MiB")
            }
        }
        do {
            return try JSONDecoder.store.decode(StoredCredential.self, from: data)
        } catch {
            throw AuthError(.storeCorrupt, message: "\(what) cannot be decoded; it was left untouched")
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
        let temporary = temporaryPath(for: key)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
            if syscalls.fsync(fd, .file) != 0 { throw Self.failure("cannot flush the credential for \(key)", errno: errno) }
        }
        if syscalls.rename(temporary, target) != 0 {
            throw Self.failure("cannot replace the credential for \(key)", errno: errno)
        }
        ok = true
        removeLegacyFile(of: key)
        syncDirectory()
    }

    private func removeCredential(_ key: TokenKey) throws {
        removeAbandonedTemporaryFiles(of: key)
        if unlink(path(for: key)) != 0 && errno != ENOENT {
            throw Self.failure("cannot remove \(key)", errno: errno)
        }
        removeLegacyFile(of: key)
        syncDirectory()
    }

    private func removeLegacyFile(of key: TokenKey) {
        guard key.legacyFileName != key.fileName else { return }
        unlink(directory.appendingPathComponent(key.legacyFileName).path)
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

    private func syncDirectory() {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = syscalls.fsync(fd, .folder)
        close(fd)
    }

    // MARK: - Checks

    static func requireRegularFileOfOurs(_ fd: Int32, what: String) throws(AuthError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot inspect \(what)", errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw AuthError(.storeCorrupt, message: "\(what) is not a regular file; it was left untouched")
        }
        guard info.st_uid == geteuid() else {
            throw AuthError(.storeCorrupt, message: "\(what) belongs to another user; it was left untouched")
        }
    }

    /// Creates the folder (and missing parents) with `0700`, or checks an existing one: a real
    /// folder of the current user, tightened to `0700`.
    static func ensurePrivateDirectory(_ path: String) throws(AuthError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) != S_IFLNK else {
                throw AuthError(.storeFailure, message: "the token store folder is a symbolic link; refusing to use it")
            }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw AuthError(.storeFailure, message: "the token store path is not a folder")
            }
            guard info.st_uid == geteuid() else {
                throw AuthError(.storeFailure, message: "the token store folder belongs to another user; refusing to use it")
            }
            if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
                throw failure("cannot make the token store folder private", errno: errno)
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, stat(parent, &info) != 0 {
            try ensurePrivateDirectory(parent)
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw failure("cannot create the token store folder", errno: errno)
        }
        // mkdir applied the umask; and a folder that appeared meanwhile is checked like any other.
        try ensurePrivateDirectory(path)
    }

    static func failure(_ message: String, errno code: Int32) -> AuthError {
        let reason = String(cString: strerror(code))
        return AuthError(.storeFailure, message: "\(message): \(reason)")
    }
}

private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }

/// How stores write a credential: sorted JSON, dates as seconds since 1970.
package enum StoreCoding {
    package static var encoder: JSONEncoder { .store }
    package static var decoder: JSONDecoder { .store }
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

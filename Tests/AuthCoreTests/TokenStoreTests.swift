import AuthCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

func temporaryFolder(_ name: String = #function) -> URL {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("aa-tests-\(UUID().uuidString)")
        .appendingPathComponent("tokens")
}

func permissions(of path: String) -> mode_t {
    var info = stat()
    stat(path, &info)
    return info.st_mode & 0o777
}

let sampleCredential = StoredCredential(
    accessToken: Secret("access-123"),
    refreshToken: Secret("refresh-456"),
    expiresAt: Date(timeIntervalSince1970: 1_800_000_000.25),
    issuedAt: Date(timeIntervalSince1970: 1_799_999_400.5),
    attributes: ["grant": "authorization_code", "user": "42"]
)

@Suite struct InMemoryTokenStoreTests {
    @Test func savesLoadsAndRemoves() async throws {
        let store = InMemoryTokenStore()
        let key = TokenKey(provider: "profix", account: "a")
        #expect(try await store.load(key) == nil)
        try await store.save(sampleCredential, for: key)
        #expect(try await store.load(key) == sampleCredential)
        try await store.remove(key)
        try await store.remove(key)
        #expect(try await store.load(key) == nil)
    }
}

@Suite struct FileTokenStoreTests {
    @Test func survivesAReopen() async throws {
        let folder = temporaryFolder()
        let key = TokenKey(provider: "profix", account: "customer 42/ü")
        do {
            let store = try FileTokenStore(directory: folder)
            try await store.save(sampleCredential, for: key)
        }
        let reopened = try FileTokenStore(directory: folder)
        #expect(try await reopened.load(key) == sampleCredential)
        #expect(try await reopened.load(key)?.expiresAt == sampleCredential.expiresAt)
        #expect(try await reopened.load(TokenKey(provider: "profix", account: "other")) == nil)
    }

    @Test func folderIs0700AndFilesAre0600() async throws {
        let folder = temporaryFolder()
        let previous = umask(0o000)   // the store must not rely on the umask
        defer { umask(previous) }
        let store = try FileTokenStore(directory: folder)
        let key = TokenKey(provider: "economic", account: "a")
        try await store.save(sampleCredential, for: key)
        #expect(permissions(of: folder.path) == 0o700)
        let file = folder.appendingPathComponent(key.fileName).path
        #expect(permissions(of: file) == 0o600)
        #expect(permissions(of: folder.appendingPathComponent(key.fileName + ".lock").path) == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func corruptFileIsATypedErrorAndIsLeftAlone() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        let key = TokenKey(provider: "profit", account: "a")
        let path = folder.appendingPathComponent(key.fileName)
        let garbage = Data("{\"accessToken\": \"tru".utf8)
        try garbage.write(to: path)
        let error = await #expect(throws: AuthError.self) { try await store.load(key) }
        #expect(error?.code == .storeCorrupt)
        #expect(try Data(contentsOf: path) == garbage)
        // An update refuses to run on top of a corrupt file as well.
        await #expect(throws: AuthError.self) { _ = try await store.update(key) { _ in sampleCredential } }
        #expect(try Data(contentsOf: path) == garbage)
    }

    @Test func somethingOtherThanAFileIsCorruptAndLeftAlone() async throws {
        // A folder where the file should be is not a credential; it is reported and kept.
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        let key = TokenKey(provider: "profit", account: "a")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(key.fileName), withIntermediateDirectories: false)
        let error = await #expect(throws: AuthError.self) { try await store.load(key) }
        #expect(error?.code == .storeCorrupt)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(key.fileName).path))
    }

    @Test func pathThatIsAFileIsRefused() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: folder)
        let error = #expect(throws: AuthError.self) { try FileTokenStore(directory: folder) }
        #expect(error?.code == .storeFailure)
    }

    @Test func removeAndUpdate() async throws {
        let store = try FileTokenStore(directory: temporaryFolder())
        let key = TokenKey(provider: "profix", account: "a")
        let created = try await store.update(key) { current in
            #expect(current == nil)
            return sampleCredential
        }
        #expect(created == sampleCredential)
        #expect(try await store.load(key) == sampleCredential)
        _ = try await store.update(key) { _ in nil }
        #expect(try await store.load(key) == nil)
        try await store.remove(key)
    }

    @Test func concurrentUpdatesInOneProcessLoseNothing() async throws {
        let store = try FileTokenStore(directory: temporaryFolder())
        let key = TokenKey(provider: "hammer", account: "shared")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    _ = try await store.update(key) { current in
                        let value = Int(current?.attributes["counter"] ?? "0") ?? 0
                        return StoredCredential(accessToken: Secret("x"), attributes: ["counter": String(value + 1)])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.load(key)?.attributes["counter"] == "50")
    }

    @Test func twoProcessesHammeringOneStoreLoseNoWrite() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        let hammer = try #require(helperExecutable("store-hammer"))
        let count = 200
        let processes = try ["p1", "p2"].map { worker -> Process in
            let process = Process()
            process.executableURL = hammer
            process.arguments = ["increment", folder.path, worker, String(count)]
            try process.run()
            return process
        }
        for process in processes {
            await offThePool { process.waitUntilExit() }
            #expect(process.terminationStatus == 0)
        }
        let shared = try #require(try await store.load(TokenKey(provider: "hammer", account: "shared")))
        #expect(shared.attributes["counter"] == String(2 * count))
        for worker in ["p1", "p2"] {
            let own = try await store.load(TokenKey(provider: "hammer", account: worker))
            #expect(own?.attributes["step"] == String(count))
            #expect(own?.accessToken == Secret("\(worker)-\(count)"))
        }
    }
}

@Suite struct FileTokenStoreLockScopeTests {
    /// A long update of one credential (a coordinated refresh on the network) does not block others.
    @Test func aLongUpdateOfOneKeyDoesNotHoldUpAnother() async throws {
        let store = try FileTokenStore(directory: temporaryFolder())
        let slow = TokenKey(provider: "profix", account: "slow")
        let other = TokenKey(provider: "profix", account: "other")
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let updating = Task {
            try await store.update(slow) { _ in
                startedContinuation.yield()
                for await _ in release { break }   // hold the lock until told
                return sampleCredential
            }
        }
        for await _ in started { break }
        // While `slow` is locked, `other` can be saved and loaded.
        try await store.save(sampleCredential, for: other)
        #expect(try await store.load(other) == sampleCredential)
        releaseContinuation.yield()
        _ = try await updating.value
        #expect(try await store.load(slow) == sampleCredential)
    }
}

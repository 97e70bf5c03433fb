@testable import AuthCore
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A store folder that is safe by construction: what another local user, a planted link or a
/// FIFO can do to it.
@Suite struct FileTokenStoreSafetyTests {
    let key = TokenKey(provider: "profix", account: "acme")

    @Test func aPrecreatedOpenFolderIsMadePrivate() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o777)
        _ = try FileTokenStore(directory: folder)
        #expect(permissions(of: folder.path) == 0o700)
    }

    @Test(.enabled(if: OtherUser.isAvailable, "needs root and setpriv to act as another user"))
    func anotherUserCannotPlantOrReplaceACredential() async throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o777)
        chmod(folder.deletingLastPathComponent().path, 0o755)
        let store = try FileTokenStore(directory: folder)
        try await store.save(sampleCredential, for: key)
        let file = folder.appendingPathComponent(key.fileName).path
        #expect(OtherUser.run("echo '{}' > '\(folder.path)/planted.json'") != 0)
        #expect(OtherUser.run("rm -f '\(file)'") != 0 || FileManager.default.fileExists(atPath: file))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("planted.json").path))
        #expect(try await store.load(key) == sampleCredential)
    }

    @Test func aFolderOfAnotherUserIsRefused() throws {
        guard geteuid() == 0 else { return }   // only root can give a folder away
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chown(folder.path, OtherUser.uid, OtherUser.uid)
        #expect(throws: AuthError(.storeFailure)) { try FileTokenStore(directory: folder) }
    }

    @Test func aSymlinkedFolderIsRefused() throws {
        let real = temporaryFolder()
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        let link = real.deletingLastPathComponent().appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        #expect(throws: AuthError(.storeFailure)) { try FileTokenStore(directory: link) }
    }

    @Test func aSymlinkedCredentialIsNotFollowedAndItsTargetNotTouched() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        // A credential someone else chose, outside the folder: following the link would inject it.
        let target = folder.deletingLastPathComponent().appendingPathComponent("elsewhere.json")
        let planted = try JSONEncoder.store.encode(StoredCredential(accessToken: Secret("planted-token")))
        try planted.write(to: target)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(key.fileName), withDestinationURL: target)
        await #expect(throws: AuthError(.storeCorrupt)) { _ = try await store.load(key) }
        try await store.save(sampleCredential, for: key)   // replaces the link, not its target
        #expect(try Data(contentsOf: target) == planted)
        #expect(try await store.load(key) == sampleCredential)
    }

    @Test func aSymlinkedLockIsRefusedAndCreatesNothingWhereItPoints() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        let victim = folder.deletingLastPathComponent().appendingPathComponent("victim")
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(key.fileName + ".lock"), withDestinationURL: victim)
        await #expect(throws: AuthError(.storeFailure)) { try await store.save(sampleCredential, for: key) }
        await #expect(throws: AuthError(.storeFailure)) { _ = try await store.load(key) }
        #expect(!FileManager.default.fileExists(atPath: victim.path))
    }

    @Test func aFIFOInPlaceOfTheCredentialDoesNotBlockALoad() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        let fifo = folder.appendingPathComponent(key.fileName).path
        #expect(mkfifo(fifo, 0o600) == 0)
        let outcome = await withTaskGroup(of: String.self) { group in
            group.addTask {
                do { _ = try await store.load(key); return "loaded" } catch let error as AuthError { return error.code.description } catch { return "other" }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return "blocked"
            }
            let first = await group.next() ?? "none"
            if first == "blocked" {
                // Unblock a reader stuck in open(2) so the test process can end.
                let writer = open(fifo, O_WRONLY | O_NONBLOCK)
                if writer >= 0 { close(writer) }
            }
            group.cancelAll()
            return first
        }
        #expect(outcome == AuthError.Code.storeCorrupt.description)
    }

    @Test func loadsCreateNoFile() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        #expect(try await store.load(key) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)

        // A credential written without a lock file (copied in by hand, say) is read without one.
        let file = folder.appendingPathComponent(key.fileName)
        try JSONEncoder.store.encode(sampleCredential).write(to: file)
        chmod(file.path, 0o600)
        #expect(try await store.load(key) == sampleCredential)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [key.fileName])
    }

    @Test(.enabled(if: Immutability.isAvailable, "needs chattr +i"))
    func anImmutableStoreCanBeReadButSaysItCannotWrite() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        try await store.save(sampleCredential, for: key)
        #expect(Immutability.freeze(folder))
        defer { Immutability.restore(folder) }
        #expect(try await store.load(key) == sampleCredential)
        await #expect(throws: AuthError(.storeFailure)) { try await store.checkWritable(key) }
        await #expect(throws: AuthError(.storeFailure)) { try await store.save(sampleCredential, for: TokenKey(provider: "profix", account: "other")) }
    }
}

/// Keys name one credential however they are spelled, and every key has a file name.
@Suite struct TokenKeyTests {
    @Test func nfcAndNfdSpellingsAreOneKeyAndOneFile() async throws {
        let composed = TokenKey(provider: "profix", account: "Zo\u{00EB}")
        let decomposed = TokenKey(provider: "profix", account: "Zoe\u{0308}")
        #expect(composed == decomposed)
        #expect(composed.fileName == decomposed.fileName)
        let store = try FileTokenStore(directory: temporaryFolder())
        try await store.save(sampleCredential, for: decomposed)
        #expect(try await store.load(composed) == sampleCredential)
        let decoded = try JSONDecoder().decode(TokenKey.self, from: Data(#"{"provider":"profix","account":"Zoe\u0308"}"#.utf8))
        #expect(decoded == composed)
    }

    @Test func namesThatDifferOnlyInCaseNeverShareAFileOnACaseInsensitiveDisk() {
        let names = ["Acme", "acme", "ACME", "aCmE", "Zz", "zZ", ".5a", "Z"]
        let files = names.map { TokenKey(provider: "profix", account: $0).fileName.lowercased() }
        #expect(Set(files).count == names.count)
        for file in files { #expect(file == file.lowercased()) }
    }

    @Test(arguments: [1, 100, 224, 238, 255, 1_000, 10_000])
    func keysOfAnyLengthSaveAndLoad(_ length: Int) async throws {
        let key = TokenKey(provider: "profix", account: String(repeating: "é", count: length))
        #expect(key.fileName.utf8.count <= 150)
        let store = try FileTokenStore(directory: temporaryFolder())
        try await store.checkWritable(key)
        try await store.save(sampleCredential, for: key)
        #expect(try await store.load(key) == sampleCredential)
        let other = TokenKey(provider: "profix", account: String(repeating: "é", count: length) + "x")
        #expect(other.fileName != key.fileName)
    }

    @Test func aCredentialSavedUnderTheEarlierFileNameIsStillRead() async throws {
        let folder = temporaryFolder()
        let store = try FileTokenStore(directory: folder)
        let key = TokenKey(provider: "profix", account: "Acme Corp")
        #expect(key.legacyFileName != key.fileName)
        let legacy = folder.appendingPathComponent(key.legacyFileName)
        try JSONEncoder.store.encode(sampleCredential).write(to: legacy)
        #expect(try await store.load(key) == sampleCredential)
        try await store.save(sampleCredential, for: key)   // moves it to the current name
        #expect(!FileManager.default.fileExists(atPath: legacy.path))
        #expect(try await store.load(key) == sampleCredential)
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

/// A save is durable: the file is flushed before the rename, and the folder after it.
@Suite struct FileTokenStoreDurabilityTests {
    @Test func aSaveFlushesTheFileThenRenamesThenFlushesTheFolder() async throws {
        let calls = Locked<[String]>([])
        let syscalls = FileTokenStore.Syscalls(
            fsync: { fd, target in
                calls.withLock { $0.append(target == .file ? "fsync file" : "fsync folder") }
                return fsync(fd)
            },
            rename: { from, to in
                calls.withLock { $0.append("rename") }
                return rename(from, to)
            })
        let store = try FileTokenStore(directory: temporaryFolder(), configuration: .init(), syscalls: syscalls)
        try await store.save(sampleCredential, for: TokenKey(provider: "profix", account: "acme"))
        #expect(calls.withLock { $0 } == ["fsync file", "rename", "fsync folder"])
    }
}

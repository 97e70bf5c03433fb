import AuthCore
import AuthTesting
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A process that saves in a loop is killed with SIGKILL at random moments; after each kill the
/// store must hold a complete credential (old or new), never a torn file.
@Suite struct CrashSafetyTests {
    static let kills = 200

    @Test func fileTokenStoreSurvivesSIGKILLMidSave() async throws {
        let hammer = try #require(helperExecutable("store-hammer"))
        let folder = temporaryFolder()
        let key = TokenKey(provider: "hammer", account: "crash")
        let path = folder.appendingPathComponent(key.fileName).path
        var generator = SplitMix64(seed: 20261125)
        var highest = 0
        var survived = 0
        for _ in 0..<Self.kills {
            let process = Process()
            process.executableURL = hammer
            process.arguments = ["save-loop", folder.path]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Wait for its first complete save of this run, then let it save for 0–15 ms more.
            let started = Date()
            while !FileManager.default.fileExists(atPath: path), Date().timeIntervalSince(started) < 10 {
                try await Task.sleep(for: .milliseconds(1))
            }
            try await Task.sleep(for: .microseconds(Int64(generator.next() % 15_000)))
            kill(process.processIdentifier, SIGKILL)
            await offThePool { process.waitUntilExit() }
            #expect(process.terminationReason == .uncaughtSignal)

            let store = try FileTokenStore(directory: folder)
            let credential = try #require(try await store.load(key))
            let sequence = try #require(Int(credential.attributes["sequence"] ?? ""))
            #expect(credential.accessToken == Secret("access-\(sequence)-" + String(repeating: "a", count: 2048)))
            #expect(credential.refreshToken == Secret("refresh-\(sequence)"))
            #expect(credential.expiresAt == Date(timeIntervalSince1970: TimeInterval(sequence)))
            highest = max(highest, sequence)
            survived += 1
            // Each run restarts at 1; remove the file so the next run's first save is awaited again.
            try await store.remove(key)
        }
        #expect(survived == Self.kills)
        #expect(highest >= 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "abandoned temporary files are removed when a store opens")
    }
}

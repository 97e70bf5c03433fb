import AuthCore
import Foundation
import Testing

/// The built `accounting-auth`, run as a process with a clean environment and a fresh token store.
struct Tool {
    let status: Int32
    let stdout: String
    let stderr: String
    let store: URL

    /// The executable SwiftPM built next to the test bundle.
    static var executable: URL? {
        var candidates: [URL] = []
        if let bundle = Bundle.main.executableURL {
            var folder = bundle.deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(folder.appendingPathComponent("accounting-auth"))
                folder = folder.deletingLastPathComponent()
            }
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("accounting-auth"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs the tool and waits for it without blocking a thread of the cooperative pool.
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, store: URL? = nil) async throws -> Tool {
        let executable = try #require(executable)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = store ?? folder.appendingPathComponent("store")
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": folder.path, "ACCOUNTING_AUTH_STORE": store.path]
            .merging(environment) { $1 }
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let (ended, finish) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            finish.yield(finished.terminationStatus)
            finish.finish()
        }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        var status: Int32 = -1
        for await code in ended { status = code }
        return Tool(status: status,
                    stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                    stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                    store: store)
    }

    /// What the run stored for `provider`/`account`.
    func stored(provider: String, account: String = "default") async throws -> StoredCredential? {
        guard FileManager.default.fileExists(atPath: store.path) else { return nil }
        return try await FileTokenStore(directory: store).load(TokenKey(provider: provider, account: account))
    }

    /// Whether any of `secrets` shows in the output.
    func shows(any secrets: [String]) -> Bool {
        secrets.contains { stdout.contains($0) || stderr.contains($0) }
    }
}

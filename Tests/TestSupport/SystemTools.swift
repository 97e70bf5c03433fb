public import Foundation
public import AuthCore
public import AuthTesting
public import HTTPTypes
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program and returns its exit status (`-1` when it cannot start).
@discardableResult
public func runProgram(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

/// Folders made immutable with `chattr +i` (root on ext4 and similar): nothing can be created in
/// them, even by root, which is how tests get a store that cannot write.
public enum Immutability {
    /// Whether `chattr +i` works here (checked once on a scratch folder).
    public static let isAvailable: Bool = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("immutability-probe-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)) != nil else { return false }
        defer {
            runProgram("/usr/bin/chattr", ["-i", folder.path])
            try? FileManager.default.removeItem(at: folder)
        }
        guard runProgram("/usr/bin/chattr", ["+i", folder.path]) == 0 else { return false }
        return !FileManager.default.createFile(atPath: folder.appendingPathComponent("x").path, contents: Data())
    }()

    /// Makes `folder` immutable until `restore` is called.
    public static func freeze(_ folder: URL) -> Bool { runProgram("/usr/bin/chattr", ["+i", folder.path]) == 0 }
    /// Makes `folder` writable again.
    public static func restore(_ folder: URL) { runProgram("/usr/bin/chattr", ["-i", folder.path]) }
}

/// Running a command as another user (`nobody`), for tests of what another local user can do.
public enum OtherUser {
    /// `nobody`'s user id.
    public static let uid: UInt32 = 65534
    /// Whether this process can act as another user (it is root and `setpriv` exists).
    public static var isAvailable: Bool { geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") }

    /// Runs `/bin/sh -c script` as `nobody`; returns its exit status.
    public static func run(_ script: String) -> Int32 {
        runProgram("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/bin/sh", "-c", script])
    }
}

/// What a provider's `error(for:body:)` makes of a scripted answer.
public func typedError(_ mapper: (HTTPResponse, Data) -> AuthError?, _ response: MockTransport.Response) -> AuthError? {
    mapper(response.head, response.body)
}

extension CredentialProvider {
    /// The request (head and body) with credentials added, as the authorizing transports add them.
    package func authorized(_ request: OutgoingRequest) async throws -> OutgoingRequest {
        var copy = request
        try await authorize(&copy.head, body: &copy.body)
        return copy
    }

    /// ``CredentialProvider/recover(from:body:to:)`` with a scripted answer.
    package func recover(from response: MockTransport.Response, to request: HTTPRequest) async throws -> Bool {
        try await recover(from: response.head, body: response.body, to: request)
    }
}

extension HTTPTransport {
    /// Sends a scripted request (head and body) and returns the answer as one value.
    package func send(_ request: OutgoingRequest) async throws -> (HTTPResponse, Data) {
        try await send(request.head, body: request.body)
    }
}

extension Reply {
    /// The scripted answer as the package's parsers read it.
    package init(_ response: MockTransport.Response) {
        self.init(response.head, body: response.body)
    }
}

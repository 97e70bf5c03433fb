public import Foundation
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

public import Foundation
import AuthCore

/// A thread-safe list that closures in tests append to.
public final class Recorder<Element: Sendable>: Sendable {
    private let storage = Locked<[Element]>([])

    public init() {}

    public func append(_ element: Element) {
        storage.withLock { $0.append(element) }
    }

    public var values: [Element] { storage.withLock { $0 } }

    public var count: Int { storage.withLock { $0.count } }
}

/// Finds executables built next to the test bundle (helper processes, the command-line tool).
public enum TestExecutables {
    /// The URL of the executable `name`, or `nil` when it was not built.
    public static func find(_ name: String) -> URL? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            var folder = executable.deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(folder.appendingPathComponent(name))
                folder = folder.deletingLastPathComponent()
            }
        }
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0])
        candidates.append(argument0.deletingLastPathComponent().appendingPathComponent(name))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}

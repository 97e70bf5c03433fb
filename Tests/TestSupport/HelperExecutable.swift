public import Foundation

/// The path of a helper executable of this package (`store-hammer`, `profix-worker`), built
/// next to the test bundle; `nil` when it cannot be found.
///
/// SwiftPM puts every product of a build in one folder; the test bundle sits in it or a few
/// levels below, depending on the platform.
public func helperExecutable(_ name: String) -> URL? {
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

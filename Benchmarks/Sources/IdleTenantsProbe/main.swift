// Memory per idle tenant, measured without the allocation counter.
//
// package-benchmark's `MallocInterposer` puts a 16-byte header in front of every block that
// malloc, calloc or realloc hands out, counted or not, so the `memory/` benchmarks read 16 bytes
// more per object a tenant keeps than an app would. This probe does not link the benchmark harness: it measures the same scenarios with the
// system allocator as an app has it, each in a process of its own.
//
//     swift run -c release idle-tenants            # every scenario, 100,000 tenants
//     swift run -c release idle-tenants 3          # one scenario (index into the list), in this process
import Foundation
import IdleTenants

let arguments = CommandLine.arguments.dropFirst()
if let first = arguments.first, let index = Int(first), IdleTenants.all.indices.contains(index) {
    print(try await IdleTenants.all[index].bytesPerIdleTenant())
} else {
    print("resident bytes per idle tenant at 100,000 tenants (system allocator, one process per scenario)")
    for (index, scenario) in IdleTenants.all.enumerated() {
        let child = Process()
        child.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = [String(index)]
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        let figure = text.trimmingCharacters(in: .whitespacesAndNewlines)
        print("\(scenario): \(child.terminationStatus == 0 ? figure : "failed (\(child.terminationStatus))")")
    }
}

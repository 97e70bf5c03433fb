// Instructions per authorized request, counted by valgrind's callgrind: the same figure on any
// host and under any load, where the request benchmarks' times move from one machine to the next
// (session 7's host ran the floor in 202 ns, session 8's in 129 ns).
//
//     swift run -c release request-instructions            # every scenario (needs valgrind)
//     swift run -c release request-instructions profix 1000  # one scenario's loop, uncounted
//     swift run -c release request-instructions --times      # times, every scenario interleaved (no valgrind)
//
// Each scenario runs twice under callgrind, with 1,000 and 21,000 requests after the same
// warm-up; the difference of the two totals over 20,000 is what one request costs, without the
// process's start, the fixtures and the warm-up. The requests are those of the `request.*`
// benchmarks (one task, no-op base transport, a cached valid token); `profix` reads the
// benchmarks' hand-moved clock, `profix-system-clock` the system clock.
import AuthCore
import Foundation
import HTTPTypes
import ProfixOAuth
import RequestFixtures
import Synchronization

/// Keeps a response from being optimized away.
@inline(never) func consume(_ value: (HTTPResponse, Data)) {
    if value.0.status.code == 0 { print("unreachable") }
}

func loop(_ transport: some HTTPTransport, _ request: HTTPRequest, count: Int) async throws {
    for _ in 0..<count { consume(try await transport.send(request, body: nil)) }
}

/// The requests of one scenario: a function that sends `count` of them, specialized for the
/// scenario's transport.
func requests(_ scenario: String, fixtures: Fixtures) throws -> @Sendable (Int) async throws -> Void {
    let oneTenantRegistry = ProviderRegistry<Int, ProfixProvider> { _ in fixtures.profix }
    func sending(_ transport: some HTTPTransport, _ request: HTTPRequest) -> @Sendable (Int) async throws -> Void {
        { count in try await loop(transport, request, count: count) }
    }
    switch scenario {
    case "noop-transport": return sending(fixtures.noop, fixtures.profixRequest)
    case "floor": return sending(fixtures.floor, fixtures.profixRequest)
    case "floor-runtime-token": return sending(fixtures.floorRuntimeToken, fixtures.profixRequest)
    case "floor-economic": return sending(fixtures.economicFloor, fixtures.economicRequest)
    case "profix": return sending(AuthorizingTransport(base: fixtures.noop, provider: fixtures.profix), fixtures.profixRequest)
    case "profix-system-clock": return sending(AuthorizingTransport(base: fixtures.noop, provider: fixtures.profixOnSystemClock), fixtures.profixRequest)
    case "profit": return sending(AuthorizingTransport(base: fixtures.noop, provider: fixtures.profit), fixtures.profitRequest)
    case "economic": return sending(AuthorizingTransport(base: fixtures.noop, provider: fixtures.economic), fixtures.economicRequest)
    case "profix-stored": return sending(fixtures.profix.client(over: fixtures.noop), fixtures.profixRequest)
    case "profit-stored": return sending(fixtures.profit.client(over: fixtures.noop), fixtures.profitRequest)
    case "economic-stored": return sending(fixtures.economic.client(over: fixtures.noop), fixtures.economicRequest)
    case "profix-registry": return sending(RegistryTransport(registry: oneTenantRegistry, tenant: 0), fixtures.profixRequest)
    default: throw ProbeError("unknown scenario \(scenario)")
    }
}

/// Runs `count` requests of one scenario after a warm-up of 100.
func run(_ scenario: String, count: Int, fixtures: Fixtures) async throws {
    let send = try requests(scenario, fixtures: fixtures)
    try await send(100)
    try await send(count)
}

/// Times per request, interleaved: 200 rounds, each sending 10,000 requests of every scenario in
/// turn, so that a slow stretch of a shared VM (neighbours, frequency) falls on every scenario
/// alike. Per scenario the median round; per ratio the median of the rounds' own ratios, each
/// between figures taken seconds apart.
func interleavedTimes(_ chosen: [String], fixtures: Fixtures) async throws {
    let names = ["noop-transport", "floor", "floor-runtime-token"] + chosen.filter { !["noop-transport", "floor", "floor-runtime-token"].contains($0) }
    let sends = try names.map { try requests($0, fixtures: fixtures) }
    for send in sends { try await send(10_000) }
    var rounds: [[Double]] = []
    let clock = ContinuousClock()
    for _ in 0..<200 {
        var round: [Double] = []
        for send in sends {
            let start = clock.now
            try await send(10_000)
            let elapsed = clock.now - start
            round.append(Double(elapsed.components.seconds) * 1e9 / 10_000 + Double(elapsed.components.attoseconds) / 1e9 / 10_000)
        }
        rounds.append(round)
    }
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
    print("ns per request, interleaved (200 rounds of 10,000 requests each): median round; added over the no-op transport;")
    print("ratio to the floor's added cost (literal token / token made at run time), median of the rounds' own ratios")
    for (index, name) in names.enumerated() {
        let total = median(rounds.map { $0[index] })
        let added = median(rounds.map { $0[index] - $0[0] })
        let literal = median(rounds.map { ($0[index] - $0[0]) / ($0[1] - $0[0]) })
        let runtime = median(rounds.map { ($0[index] - $0[0]) / ($0[2] - $0[0]) })
        print(name.padding(toLength: 22, withPad: " ", startingAt: 0),
              String(format: "%6.0f %6.0f   %.2f× / %.2f×", total, added, literal, runtime))
    }
}

struct ProbeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let scenarios = ["noop-transport", "floor", "floor-runtime-token", "floor-economic", "profix", "profix-system-clock", "profit", "economic",
                 "profix-stored", "profit-stored", "economic-stored", "profix-registry"]

/// What callgrind counted in a run of `scenario` with `count` requests.
struct Counts {
    /// Instructions executed.
    var instructions = 0
    /// Calls of `swift_retain` and `swift_release`: each is an atomic write of a reference count
    /// (but on immortal storage, a string literal's), which costs far more than an instruction
    /// (`swift_bridgeObjectRetain` on a string stored inline reaches neither).
    var referenceCountWrites = 0

    static func - (lhs: Counts, rhs: Counts) -> Counts {
        Counts(instructions: lhs.instructions - rhs.instructions, referenceCountWrites: lhs.referenceCountWrites - rhs.referenceCountWrites)
    }
}

func counts(_ scenario: String, count: Int) throws -> Counts {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("request-instructions-\(ProcessInfo.processInfo.processIdentifier).out")
    defer { try? FileManager.default.removeItem(at: output) }
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let executable = Bundle.main.executableURL?.path ?? CommandLine.arguments[0]
    child.arguments = ["valgrind", "--tool=callgrind", "--callgrind-out-file=\(output.path)", executable, scenario, String(count)]
    // Hashing seeded per process moves a few dictionary probes (~150 instructions a request in
    // two of the scenarios) from one run to the next.
    child.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_DETERMINISTIC_HASHING": "1"]) { _, new in new }
    child.standardError = FileHandle.nullDevice
    child.standardOutput = FileHandle.nullDevice
    try child.run()
    child.waitUntilExit()
    guard child.terminationStatus == 0 else { throw ProbeError("valgrind failed on \(scenario) (\(child.terminationStatus))") }
    return try parse(String(contentsOf: output, encoding: .utf8), scenario: scenario)
}

/// Reads callgrind's output: the `summary:` line, and the `calls=` lines under each `cfn=` (a
/// called function, named on first mention and by its number after that; `'2` marks a recursion).
func parse(_ text: String, scenario: String) throws -> Counts {
    var result = Counts()
    var names: [Substring: Substring] = [:]
    var countsCalls = false
    var foundSummary = false
    for line in text.split(separator: "\n") {
        if line.hasPrefix("summary:"), let figure = line.split(separator: " ").last.flatMap({ Int($0) }) {
            result.instructions = figure
            foundSummary = true
        } else if line.hasPrefix("cfn=(") || line.hasPrefix("fn=(") {
            let body = line.drop(while: { $0 != "(" }).dropFirst()
            guard let close = body.firstIndex(of: ")") else { continue }
            let id = body[..<close]
            let rest = body[body.index(after: close)...].drop(while: { $0 == " " })
            if !rest.isEmpty { names[id] = rest }
            if line.hasPrefix("cfn=") {
                let name = (names[id] ?? "").split(separator: "'").first ?? ""
                countsCalls = name == "swift_retain" || name == "swift_release"
            }
        } else if countsCalls, line.hasPrefix("calls="), let figure = Int(line.dropFirst(6).prefix(while: { $0 != " " })) {
            result.referenceCountWrites += figure
            countsCalls = false
        }
    }
    guard foundSummary else { throw ProbeError("no total in callgrind's output for \(scenario)") }
    return result
}

/// Runs `work` on the cooperative pool and blocks the main thread until it ends. The top level
/// has no `await`, so the main thread does not park in `dispatch_main`, whose `sigsuspend` on a
/// read-only signal mask crashes valgrind 3.19.
func blocking(_ work: @escaping @Sendable () async throws -> Void) throws {
    let outcome = Mutex<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let result = await Result(catching: work)
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    try outcome.withLock { $0 }?.get()
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Runs `work` with the fixtures, their tokens obtained (see ``blocking(_:)``).
func withPrimedFixtures(_ work: @escaping @Sendable (Fixtures) async throws -> Void) throws {
    try blocking {
        guard let fixtures = Fixtures.shared else { throw ProbeError("the fixtures could not be made") }
        try await fixtures.prime()
        try await work(fixtures)
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--times" {
    let chosen = Array(arguments.dropFirst())
    try withPrimedFixtures { try await interleavedTimes(chosen.isEmpty ? scenarios : chosen, fixtures: $0) }
} else if arguments.count == 2, let count = Int(arguments[1]) {
    try withPrimedFixtures { try await run(arguments[0], count: count, fixtures: $0) }
} else {
    let chosen = arguments.isEmpty ? scenarios : arguments
    print("per request (callgrind; 21,000 requests minus 1,000, over 20,000): instructions, calls of swift_retain and swift_release")
    var figures: [String: (instructions: Double, writes: Double)] = [:]
    for scenario in chosen {
        let difference = try counts(scenario, count: 21_000) - counts(scenario, count: 1_000)
        let figure = (Double(difference.instructions) / 20_000, Double(difference.referenceCountWrites) / 20_000)
        figures[scenario] = figure
        print(scenario.padding(toLength: 22, withPad: " ", startingAt: 0), String(format: "%8.0f %6.1f", figure.0, figure.1))
    }
    // The added cost over the no-op transport, and its ratio to each floor's.
    if let noop = figures["noop-transport"]?.instructions, let floor = figures["floor"]?.instructions,
       let runtime = figures["floor-runtime-token"]?.instructions {
        print("\ninstructions added over the no-op transport; ratio to the floor's (literal token / token made at run time)")
        for scenario in chosen where !scenario.hasPrefix("floor") && scenario != "noop-transport" {
            guard let figure = figures[scenario]?.instructions else { continue }
            let added = figure - noop
            let name = scenario.padding(toLength: 22, withPad: " ", startingAt: 0)
            // e-conomic sets three fields: its ratio is to the floor that sets the same three.
            if scenario.hasPrefix("economic"), let economicFloor = figures["floor-economic"]?.instructions {
                print(name, String(format: "%8.0f   %.2f× the e-conomic floor's", added, added / (economicFloor - noop)))
            } else {
                print(name, String(format: "%8.0f   %.2f× / %.2f×", added, added / (floor - noop), added / (runtime - noop)))
            }
        }
    }
}

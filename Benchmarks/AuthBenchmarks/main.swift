// Release-mode benchmarks of the SDK's hot paths. Run: `swift run -c release auth-benchmarks`.
// Each figure is the median of 5 runs; ratios compare approaches side by side on this machine.
import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import EconomicAuth
import Foundation
import ProfitAuth
import ProfixOAuth
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A provider that keeps its header in actor state: every call hops onto the actor.
actor ActorHopProvider: CredentialProvider {
    let header = "Bearer AAEAAGxWulSxg7ZT-MPQMWOqQmssMzGa0123456789"
    func authorize(_ request: inout HTTPRequest) async throws {
        request.headerFields[.authorization] = header
    }
}

struct Result {
    let name: String
    let nanosecondsPerOperation: Double
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Runs `body` `iterations` times on `tasks` concurrent tasks, 5 rounds; ns per operation.
func measure(_ name: String, iterations: Int, tasks: Int = 1, _ body: @escaping @Sendable () async throws -> Void) async throws -> Result {
    var rounds: [Double] = []
    for _ in 0..<5 {
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    for _ in 0..<(iterations / tasks) { try await body() }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        rounds.append(elapsed.timeInterval * 1e9 / Double(iterations))
    }
    return Result(name: name, nanosecondsPerOperation: median(rounds))
}

func format(_ results: [Result], baseline: Double) -> String {
    results.map { result in
        let ns = String(format: "%9.1f", result.nanosecondsPerOperation)
        let ratio = String(format: "%6.2f×", result.nanosecondsPerOperation / baseline)
        return "| \(result.name) | \(ns) ns | \(ratio) |"
    }.joined(separator: "\n")
}

func run() async throws {
    let url = URL(string: "https://api.profix-it.nl/api/v1/workorders")!
    let request = HTTPRequest(url: url)
    let n = 1_000_000

    // Providers with a valid cached token.
    let clock = Date(timeIntervalSince1970: 1_800_000_000)
    let sandbox = ProfixSandbox(now: { clock })
    let client = ProfixRegistration(clientID: "bench", clientSecret: Secret("bench-secret"))
    sandbox.registerClient(id: client.clientID, secret: client.clientSecret, grant: .clientCredentials)
    let profix = ProfixProvider(client: client, transport: sandbox, now: { clock })
    try await profix.requestClientCredentialsToken()

    let profitSandbox = ProfitSandbox(apiKey: Secret(String(repeating: "A", count: 32)), environmentKey: Secret(String(repeating: "B", count: 32)), users: ["u": "u@example.com"])
    let profit = ProfitProvider(environment: try ProfitEnvironment(number: "12345"), transport: profitSandbox, key: TokenKey(provider: "profit", account: "u"))
    try await profit.addToken(try profitSandbox.issueToken(for: "u"))
    let profitURL = try ProfitEnvironment(number: "12345").restURL("ProfitVersion")
    let profitRequest = HTTPRequest(url: profitURL)

    let economic = try EconomicProvider(credentials: EconomicCredentials(appSecretToken: Secret("app"), agreementGrantToken: Secret("grant")),
                                             transport: EconomicSandbox())
    let economicRequest = HTTPRequest(url: URL(string: "https://restapi.e-conomic.com/self")!)
    let hop = ActorHopProvider()

    print("\n## micro")
    let u = URL(string: "https://api.profix-it.nl/api/v1/workorders")!
    let r0 = try await measure("SecureURLPolicy.check", iterations: n) { try SecureURLPolicy.check(u) }
    let r1 = try await measure("url.host", iterations: n) { _ = u.host }
    let r2 = try await measure("url.absoluteString", iterations: n) { _ = u.absoluteString }
    let r3 = try await measure("headers set", iterations: n) { var r = request; r.headerFields[.authorization] = "Bearer x"; _ = r }
    let r4 = try await measure("Date()", iterations: n) { _ = Date() }
    print(format([r0, r1, r2, r3, r4], baseline: r0.nanosecondsPerOperation))
    print("## authorize() with a valid cached token (\(n) calls)\n")
    print("| provider | per call | vs actor hop |\n|---|---|---|")
    let hop1 = try await measure("actor hop (baseline), 1 task", iterations: n) { _ = try await hop.authorized(request) }
    let single = [
        hop1,
        try await measure("ProfixProvider, 1 task", iterations: n) { _ = try await profix.authorized(request) },
        try await measure("ProfitProvider, 1 task", iterations: n) { _ = try await profit.authorized(profitRequest) },
        try await measure("EconomicProvider, 1 task", iterations: n) { _ = try await economic.authorized(economicRequest) },
    ]
    print(format(single, baseline: hop1.nanosecondsPerOperation))
    let hop2 = try await measure("actor hop (baseline), 2 tasks", iterations: n, tasks: 2) { _ = try await hop.authorized(request) }
    let contended = [
        hop2,
        try await measure("ProfixProvider, 2 tasks", iterations: n, tasks: 2) { _ = try await profix.authorized(request) },
        try await measure("ProfitProvider, 2 tasks", iterations: n, tasks: 2) { _ = try await profit.authorized(profitRequest) },
        try await measure("EconomicProvider, 2 tasks", iterations: n, tasks: 2) { _ = try await economic.authorized(economicRequest) },
    ]
    print(format(contended, baseline: hop2.nanosecondsPerOperation))

    // SOAP parsing: the SDK's XMLScanner against Foundation's XMLParser on the same valid response.
    let soap = Data("""
    <?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body><GetTokenFromOTPResponse xmlns="urn:Afas.Profit.Services"><GetTokenFromOTPResult>&lt;token&gt;&lt;version&gt;1&lt;/version&gt;&lt;data&gt;0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF&lt;/data&gt;&lt;/token&gt;</GetTokenFromOTPResult></GetTokenFromOTPResponse></soap:Body></soap:Envelope>
    """.utf8)
    let m = 100_000
    print("\n## Parsing a SOAP response (\(soap.count) bytes, \(m) parses)\n")
    print("| parser | per parse | vs XMLParser |\n|---|---|---|")
    let foundation = try await measure("Foundation XMLParser (no delegate work)", iterations: m) {
        let parser = XMLParser(data: soap)
        _ = parser.parse()
    }
    let ours = try await measure("SOAPMessage(parsing:) (XMLScanner)", iterations: m) {
        _ = try SOAPMessage(parsing: soap).text(of: "GetTokenFromOTPResult")
    }
    print(format([foundation, ours], baseline: foundation.nanosecondsPerOperation))

    // FileTokenStore: durable saves (fsync) and loads.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("auth-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try FileTokenStore(directory: folder)
    let key = TokenKey(provider: "bench", account: "a")
    let credential = StoredCredential(accessToken: Secret(String(repeating: "a", count: 64)), refreshToken: Secret(String(repeating: "r", count: 64)),
                                      expiresAt: Date(), attributes: ["grant": "authorization_code"])
    let memory = InMemoryTokenStore()
    print("\n## Token stores (2,000 operations)\n")
    print("| operation | per operation | vs in-memory save |\n|---|---|---|")
    let memorySave = try await measure("InMemoryTokenStore.save", iterations: 2_000) { try await memory.save(credential, for: key) }
    let rows = [
        memorySave,
        try await measure("FileTokenStore.save (temp + fsync + rename + dir fsync)", iterations: 2_000) { try await store.save(credential, for: key) },
        try await measure("FileTokenStore.load", iterations: 2_000) { _ = try await store.load(key) },
    ]
    print(format(rows, baseline: memorySave.nanosecondsPerOperation))
}

/// Resident memory of this process, in bytes (Linux `/proc/self/statm`; 0 elsewhere). Each
/// provider is measured in a process of its own, so no figure lands in pages another one freed.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Memory per idle tenant: `tenants` providers made by a `ProviderRegistry`, each used for one
/// authorized request and then left idle. Credentials are put in the store before the baseline,
/// so the figure is what the registry and the providers keep, not the store.
func memoryPerIdleTenant(tenants: Int, only: String?) async throws {
    print("\n## Memory per idle tenant (\(tenants) tenants, one authorized request each)\n")
    print("| provider | resident bytes per tenant |\n|---|---|")
    let later = Date().addingTimeInterval(3_600)

    if only == nil || only == "profix" {
        let store = InMemoryTokenStore()
        for index in 0..<tenants {
            try await store.save(StoredCredential(accessToken: Secret("access-\(index)-AAEAAGxWulSxg7ZT-MPQMWOqQmssMzGa"),
                                                  refreshToken: Secret("refresh-\(index)"), expiresAt: later),
                                 for: TokenKey(provider: "profix", account: "t\(index)"))
        }
        let client = ProfixRegistration(clientID: "bench", clientSecret: Secret("bench-secret"))
        let registry = ProviderRegistry<Int, ProfixProvider>(configuration: .init(maximumCount: tenants, idleTimeout: nil)) { index in
            ProfixProvider(client: client, transport: MockTransport(), store: store, key: TokenKey(provider: "profix", account: "t\(index)"))
        }
        let request = HTTPRequest(url: URL(string: "https://api.profix-it.nl/api/v1/workorders")!)
        let before = residentBytes()
        for index in 0..<tenants { _ = try await registry.provider(for: index).authorized(request) }
        print("| ProfixProvider | \((residentBytes() - before) / tenants) |")
        withExtendedLifetime(registry) {}
    }

    if only == nil || only == "economic" {
        let grants = (0..<tenants).map { Secret("grant-\($0)-7d2c1a9e0b3f4a5d8c6e") }
        let app = Secret("app-secret-token-1f2e3d4c5b6a")
        let registry = ProviderRegistry<Int, EconomicProvider>(configuration: .init(maximumCount: tenants, idleTimeout: nil)) { index in
            try EconomicProvider(credentials: EconomicCredentials(appSecretToken: app, agreementGrantToken: grants[index]),
                                 transport: MockTransport())
        }
        let request = HTTPRequest(url: URL(string: "https://restapi.e-conomic.com/customers")!)
        let before = residentBytes()
        for index in 0..<tenants { _ = try await registry.provider(for: index).authorized(request) }
        print("| EconomicProvider | \((residentBytes() - before) / tenants) |")
        withExtendedLifetime(registry) {}
    }

    if only == nil || only == "profit" {
        let keys = ProfitProvider.AppConnectorKeys(apiKey: Secret(String(repeating: "A", count: 32)),
                                                   environmentKey: Secret(String(repeating: "B", count: 32)))
        let sandbox = ProfitSandbox(apiKey: keys.apiKey, environmentKey: keys.environmentKey, users: ["u": "u@example.com"])
        let environment = try ProfitEnvironment(number: "12345")
        let store = InMemoryTokenStore()
        let seeder = ProfitProvider(environment: environment, keys: keys, transport: sandbox, store: store, key: TokenKey(provider: "profit", account: "seed"))
        try await seeder.addToken(try sandbox.issueToken(for: "u"))
        guard let stored = try await store.load(seeder.key) else { return }
        for index in 0..<tenants { try await store.save(stored, for: TokenKey(provider: "profit", account: "t\(index)")) }
        let registry = ProviderRegistry<Int, ProfitProvider>(configuration: .init(maximumCount: tenants, idleTimeout: nil)) { index in
            ProfitProvider(environment: environment, keys: keys, transport: MockTransport(), store: store,
                           key: TokenKey(provider: "profit", account: "t\(index)"))
        }
        let request = HTTPRequest(url: try environment.restURL("ProfitVersion"))
        let before = residentBytes()
        for index in 0..<tenants { _ = try await registry.provider(for: index).authorized(request) }
        print("| ProfitProvider | \((residentBytes() - before) / tenants) |")
        withExtendedLifetime(registry) {}
    }
}

let done = DispatchSemaphore(value: 0)
Task.detached {
    do {
        // `--memory PROVIDER`: only the memory figure of one provider (profix, economic, profit).
        if let flag = CommandLine.arguments.firstIndex(of: "--memory") {
            let arguments = CommandLine.arguments
            try await memoryPerIdleTenant(tenants: 100_000, only: arguments.indices.contains(flag + 1) ? arguments[flag + 1] : nil)
            done.signal()
            return
        }
        try await run()
    } catch {
        print("benchmark failed: \(error)")
    }
    done.signal()
}
done.wait()

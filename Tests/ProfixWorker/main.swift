// profix-worker: one of several processes that share a token store holding one Profix-it
// credential, for ProfixMultiProcessTests and PostgresTokenStoreTests.
//
//   profix-worker <store folder | postgres://user@host:port/database> <base URL> <worker id> <rotations>
//   profix-worker hold-lock <postgres://…> <account>     (takes the credential's lock, prints
//                                                        "holding", then waits to be killed)
//
// The client id and secret come from PROFIX_WORKER_CLIENT_ID and PROFIX_WORKER_CLIENT_SECRET
// (never from arguments). The worker performs <rotations> forced rotations of the shared refresh
// token with `refresh()`: under the store's lock it either rotates the stored
// pair or, when another process rotated it since this worker last looked, adopts that pair (which
// does not count as a rotation). After every such step it makes one authorized API call. It prints
// one summary line on stdout and exits 0, or exits 1 at the first error (the summary still
// printed) and 64 for bad usage. Nothing secret is ever printed.
import AuthCore
import HTTPTypes
import Foundation
import ProfixOAuth
#if PostgreSQL
import AuthPostgres
import Logging
import PostgresNIO
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the worker counts; the observer writes from whatever task raised the event.
struct Tally: Sendable {
    var rotations = 0
    var adopted = 0
    var apiCalls = 0
    var refreshedEvents = 0
    var transientRetries = 0
    var storeFailures = 0
    var invalidGrants = 0
}

let arguments = CommandLine.arguments
let environment = ProcessInfo.processInfo.environment

/// The store named by the first argument: a folder, or a PostgreSQL database (built with the
/// PostgreSQL trait).
func openStore(_ argument: String) throws -> any TokenStore {
    guard argument.hasPrefix("postgres://") else { return try FileTokenStore(directory: URL(fileURLWithPath: argument)) }
    #if PostgreSQL
    guard let url = URL(string: argument), let host = url.host else { throw AuthError(.invalidConfiguration, message: "bad database URL") }
    let client = PostgresClient(
        configuration: .init(host: host, port: url.port ?? 5432, username: url.user ?? "postgres", password: nil,
                             database: String(url.path.dropFirst()), tls: .disable),
        backgroundLogger: Logger(label: "profix-worker"))
    Task { await client.run() }
    return PostgresTokenStore(client: client)
    #else
    throw AuthError(.invalidConfiguration, message: "profix-worker was built without the PostgreSQL trait")
    #endif
}

if arguments.count == 4, arguments[1] == "hold-lock" {
    // Takes the credential's lock and keeps it until the process is killed.
    let store = try openStore(arguments[2])
    _ = try await store.update(TokenKey(provider: "profix", account: arguments[3])) { current -> (StoredCredential?, Void) in
        FileHandle.standardOutput.write(Data("holding\n".utf8))
        try await Task.sleep(for: .seconds(3_600))
        return (current, ())
    }
    exit(0)
}

guard arguments.count == 5, let target = Int(arguments[4]), target >= 0, let baseURL = URL(string: arguments[2]),
      let clientID = environment["PROFIX_WORKER_CLIENT_ID"], let clientSecret = environment["PROFIX_WORKER_CLIENT_SECRET"] else {
    FileHandle.standardError.write(Data("usage: profix-worker <store folder> <base URL> <worker id> <rotations> (with PROFIX_WORKER_CLIENT_ID and PROFIX_WORKER_CLIENT_SECRET set)\n".utf8))
    exit(64)
}
let workerID = arguments[3]
let tally = Locked(Tally())

func summary(_ tally: Tally, failed: Bool) -> String {
    var line = "profix-worker id=\(workerID) rotations=\(tally.rotations) adopted=\(tally.adopted) api_calls=\(tally.apiCalls)"
    line += " invalid_grant=\(tally.invalidGrants) transient_retries=\(tally.transientRetries) store_failures=\(tally.storeFailures)"
    line += " errors=\(failed ? 1 : 0)"
    return line
}

func run() async throws {
    let store = try openStore(arguments[1])
    let client = ProfixRegistration(clientID: clientID, clientSecret: Secret(clientSecret), region: try .custom(baseURL))
    let observer = AuthEventObserver { event in
        tally.withLock { tally in
            switch event.kind {
            case .credentialRefreshed: tally.refreshedEvents += 1
            case .transientRetry: tally.transientRetries += 1
            case .storeFailed: tally.storeFailures += 1
            default: break
            }
        }
    }
    let transport = URLSessionTransport()
    let provider = ProfixProvider(
        client: client, transport: transport, store: store,
                observer: observer
    )
    let api = AuthorizingTransport(base: transport, provider: provider)
    let apiURL = baseURL.appendingPathComponent("api/v1/workorders")

    // Each step either rotates or adopts; an adoption means another worker rotated, and every
    // worker stops after its own `target` rotations, so the loop ends. The cap only guards
    // against a provider that neither rotates nor adopts.
    var steps = 0
    while tally.withLock({ $0.rotations }) < target {
        steps += 1
        guard steps <= 100 * target + 1_000 else {
            throw AuthError(.transportFailure, message: "no progress after \(steps - 1) coordinated refreshes")
        }
        let before = tally.withLock { $0.refreshedEvents }
        do {
            _ = try await provider.refresh()
        } catch let error as AuthError {
            if error.code == .reauthorizationRequired || error.code == .invalidGrant {
                tally.withLock { $0.invalidGrants += 1 }
            }
            throw error
        }
        tally.withLock { tally in
            if tally.refreshedEvents > before { tally.rotations += 1 } else { tally.adopted += 1 }
        }
        let (response, _) = try await api.send(HTTPRequest(url: apiURL))
        guard response.status == 200 else {
            throw AuthError(.transportFailure, status: response.status.code, message: "the API answered \(response.status.code)")
        }
        tally.withLock { $0.apiCalls += 1 }
    }
}

do {
    try await run()
    print(summary(tally.withLock { $0 }, failed: false))
    exit(0)
} catch {
    let description = (error as? AuthError)?.description ?? "\(type(of: error))"
    FileHandle.standardError.write(Data("profix-worker \(workerID): \(description)\n".utf8))
    print(summary(tally.withLock { $0 }, failed: true))
    exit(1)
}

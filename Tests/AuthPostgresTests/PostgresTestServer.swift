#if PostgreSQL
import AuthPostgres
import Foundation
import Logging
import PostgresNIO
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL server the tests use: the one `.ci/run` started (its port in
/// `ACCOUNTING_AUTH_POSTGRES_PORT`), or a throw-away cluster these tests start themselves when the
/// server binaries are installed. Without binaries the tests are skipped with that reason.
enum PostgresTestServer {
    enum State: Sendable {
        case running(port: Int)
        case unavailable(String)
    }

    static let state: State = {
        if let text = ProcessInfo.processInfo.environment["ACCOUNTING_AUTH_POSTGRES_PORT"], let port = Int(text) {
            return .running(port: port)
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/postgres-test-cluster.sh").path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accounting-auth-pg-\(getpid())").path
        let port = 55_000 + Int(getpid() % 5_000)
        guard runProgram(script, ["bin"]) == 0 else {
            return .unavailable("no PostgreSQL server binaries (initdb, pg_ctl) are installed: install Debian's postgresql package, or set ACCOUNTING_AUTH_POSTGRES_PORT")
        }
        guard runProgram(script, ["start", folder, String(port)]) == 0 else {
            return .unavailable("a throw-away PostgreSQL cluster could not be started with \(script)")
        }
        clusterToStop = (script, folder)
        atexit {
            if let (script, folder) = clusterToStop { _ = runProgram(script, ["stop", folder]) }
        }
        return .running(port: port)
    }()

    nonisolated(unsafe) private static var clusterToStop: (String, String)?

    static var isAvailable: Bool {
        if case .running = state { return true }
        return false
    }

    static var skipReason: String {
        if case .unavailable(let reason) = state { return reason }
        return ""
    }

    static var port: Int {
        if case .running(let port) = state { return port }
        return 5432
    }

    /// A URL that `profix-worker` understands.
    static func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    static func client(database: String) -> PostgresClient {
        PostgresClient(configuration: .init(host: "127.0.0.1", port: port, username: "postgres", password: nil, database: database, tls: .disable),
                       backgroundLogger: Logger(label: "tests"))
    }

    /// A new empty database; its client runs until `body` returns.
    static func withDatabase<T>(_ body: (PostgresClient, String) async throws -> T) async throws -> T {
        let name = "auth_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let admin = client(database: "postgres")
        let adminTask = Task { await admin.run() }
        defer { adminTask.cancel() }
        for try await _ in try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) {}
        let client = client(database: String(name))
        let task = Task { await client.run() }
        defer { task.cancel() }
        return try await body(client, String(name))
    }
}
#endif

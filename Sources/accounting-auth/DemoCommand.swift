import AuthCore
import HTTPTypes
import AuthTesting
import Foundation

/// `accounting-auth demo`: every flow against the built-in sandboxes.
enum DemoCommand {
    static let usage = """
    USAGE: accounting-auth demo [core|profit|profix|economic]

    Runs the SDK's flows end to end against in-process sandboxes: no network, no credentials.
    Without an argument every part runs. Secrets are printed redacted.
    """

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        await runReporting(console, usage: usage) {
            let parsed = try ParsedArguments(arguments, valueOptions: [])
            if parsed.wantsHelp {
                console.print(usage)
                return
            }
            let parts = parsed.positionals.isEmpty ? ["core", "profit", "profix", "economic"] : parsed.positionals
            for part in parts {
                switch part {
                case "core": try await core(console: console)
                case "profit": try await ProfitCommand.demo(console: console)
                case "profix": try await ProfixCommand.demo(console: console)
                case "economic": try await EconomicCommand.demo(console: console)
                default: throw UsageError("unknown demo part '\(part)'")
                }
            }
            console.print("\nDemo finished: every step above ran against the built-in sandboxes.")
        }
    }

    /// The AuthCore building blocks on their own.
    static func core(console: Console) async throws {
        console.print("== AuthCore ==")

        console.step("A Secret never prints its value")
        let secret = Secret("s3cr3t-value-that-must-not-leak")
        console.detail("interpolated: \(secret); debug: \(String(reflecting: secret)); bytes: \(secret.byteCount)")

        console.step("The HTTPS guard refuses to send credentials over plain HTTP to a remote host")
        for text in ["https://api.example.com/x", "http://127.0.0.1:8080/x", "http://api.example.com/x"] {
            if let url = URL(string: text) {
                do {
                    try SecureURLPolicy.check(url)
                    console.detail("\(text) → allowed")
                } catch {
                    console.detail("\(text) → \(error.code)")
                }
            }
        }

        console.step("AuthorizingTransport: a rejected token is refreshed once and the request retried")
        let current = Locked("token-1")
        let service = MockTransport { request in
            let expected = "Bearer " + current.withLock { $0 }
            return request.headerFields[.authorization] == expected ? .json(200, #"{"ok":true}"#) : .json(401, #"{"error":"expired"}"#)
        }
        let provider = RotatingDemoProvider()
        let events = Locked<[AuthEvent]>([])
        let client = AuthorizingTransport(
            base: service, provider: provider,
            observer: AuthEventObserver { event in events.withLock { $0.append(event) } }
        )
        current.withLock { $0 = "token-2" }   // the service moved on; the provider still holds token-1
        guard let url = URL(string: "https://api.example.com/resource") else { return }
        let response = try await client.reply(HTTPRequest(url: url))
        console.detail("requests sent: \(service.requestCount); final status: \(response.status); body: \(response.text)")
        for event in events.withLock({ $0 }) { console.detail("event: \(event)") }

        console.step("A token store keeps credentials in a private folder, written atomically")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accounting-auth-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try FileTokenStore(directory: folder)
        let key = TokenKey(provider: "demo", account: "acme")
        try await store.save(StoredCredential(accessToken: Secret("abc"), refreshToken: Secret("def")), for: key)
        let loaded = try await store.load(key)
        console.detail("saved and reloaded: \(loaded.map { "\($0)" } ?? "nothing")")
    }
}

/// A provider that holds `token-1` and moves to `token-2` when asked to recover.
private actor RotatingDemoProvider: CredentialProvider {
    private var token = "token-1"

    func authorize(_ request: inout HTTPRequest) async throws {
        request.headerFields[.authorization] = "Bearer \(token)"
    }

    func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        token = "token-2"
        return true
    }
}

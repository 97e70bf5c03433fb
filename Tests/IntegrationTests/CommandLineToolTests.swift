import AuthCore
import HTTPTypes
import Foundation
import EconomicAuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import Testing
import TestSupport

/// `accounting-auth` run as a process: what it prints, where, and what it stores.
@Suite(.serialized) struct CommandLineToolTests {
    // MARK: - economic capture

    static let grant = "GRANT0123456789abcdefXYZ"
    static let state = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

    @Test func captureFromAnArgumentWarnsAndChecksTheState() async throws {
        let run = try Tool.run(["economic", "capture", "https://app.example.com/cb?UserInMySystem=7&state=\(Self.state)&token=\(Self.grant)",
                                "--state", Self.state])
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning:"))
        #expect(run.stderr.contains("ps"))
        #expect(run.stderr.contains("standard input"))
        #expect(run.stdout.contains("state: matches"))
        #expect(run.stdout.contains("parameter UserInMySystem = 7"))
        #expect(!run.stdout.contains("parameter state"))
        let leaked = run.stdout.contains(Self.grant) || run.stderr.contains(Self.grant)   // not printed
        #expect(!leaked)
        let stored = try #require(try await run.stored(provider: "economic"))
        #expect(stored.accessToken == Secret(Self.grant))
        #expect(stored.attributes == ["parameter.UserInMySystem": "7"])
    }

    @Test(arguments: [[], ["-"]])
    func captureFromStandardInputDoesNotWarn(_ positional: [String]) async throws {
        let run = try Tool.run(["economic", "capture"] + positional + ["--state", Self.state],
                               stdin: "https://app.example.com/cb?state=\(Self.state)&token=\(Self.grant)\n")
        #expect(run.status == 0)
        #expect(!run.stderr.contains("warning:"))
        #expect(try await run.stored(provider: "economic")?.accessToken == Secret(Self.grant))
    }

    @Test(arguments: [
        "https://app.example.com/cb?state=ffffffffffffffffffffffffffffffff&token=\(grant)",   // another state
        "https://app.example.com/cb?token=\(grant)",                                          // none
        "https://app.example.com/cb?state=\(state)&state=\(state)&token=\(grant)",           // two
    ])
    func captureWithAWrongStateStoresNothing(_ callback: String) async throws {
        let run = try Tool.run(["economic", "capture", "--state", Self.state], stdin: callback + "\n")
        #expect(run.status == 1)
        #expect(run.stderr.contains("state_mismatch"))
        #expect(try await run.stored(provider: "economic") == nil)
        let leaked = run.stdout.contains(Self.grant) || run.stderr.contains(Self.grant)   // not printed
        #expect(!leaked)
    }

    // MARK: - profit otp-redeem

    static let tokenXML = "<token><version>1</version><data>\(String(repeating: "C3", count: 32))</data></token>"

    /// A Profit stand-in on loopback that answers `OtpValidation` with a token.
    static func profitServer() throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { request in
            guard request.target.hasSuffix("/OtpValidation") else { return .text(404, "not found") }
            return LoopbackHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")],
                                               body: Data(#"{"token":"\#(tokenXML)\r\n"}"#.utf8))
        }
    }

    static let profitKeys = ["AFAS_API_KEY": "AF2F0E3B9C8D4E5F60718293A4B5C6D7", "AFAS_ENVIRONMENT_KEY": "820DBB4C1E2F3A4B5C6D7E8F90A1B2C3"]

    @Test func otpRedeemWithTheCodeAsAnArgumentWarns() async throws {
        let server = try Self.profitServer()
        defer { server.stop() }
        let run = try Tool.run(["profit", "otp-redeem", "12345678", "--user", "DavidB",
                                "--base-url", server.baseURL.appendingPathComponent("ProfitRestServices").absoluteString],
                               environment: Self.profitKeys)
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning:"))
        #expect(run.stderr.contains("ps"))
        #expect(try await run.stored(provider: "profit", account: "DavidB")?.accessToken == Secret(Self.tokenXML))
        #expect(server.requests.count == 1)
    }

    @Test func otpRedeemWithTheCodeOnStandardInputDoesNotWarn() async throws {
        let server = try Self.profitServer()
        defer { server.stop() }
        let run = try Tool.run(["profit", "otp-redeem", "--user", "DavidB",
                                "--base-url", server.baseURL.appendingPathComponent("ProfitRestServices").absoluteString],
                               environment: Self.profitKeys, stdin: "12345678\n")
        #expect(run.status == 0)
        #expect(!run.stderr.contains("warning:"))
        #expect(try await run.stored(provider: "profit", account: "DavidB")?.accessToken == Secret(Self.tokenXML))
        let body = String(decoding: try #require(server.requests.first).body, as: UTF8.self)
        #expect(body.contains(#""otp":"12345678""#))
    }

    // MARK: - call: status and body first, then the typed error

    static func answering(_ status: Int, _ body: String) throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { _ in
            LoopbackHTTPServer.Response(status: status, headers: [("Content-Type", "application/json")], body: Data(body.utf8))
        }
    }

    @Test(arguments: [
        (401, #"{"externalMessage":"Ongeldige token","profitLogReference":"LOG-401"}"#, "revoked"),
        (403, #"{"externalMessage":"Toegang geweigerd: IP-adres niet toegestaan"}"#, "forbidden"),
        (500, #"{"externalMessage":"Veld ontbreekt","errorNumber":12}"#, "profit_functional_error"),
    ])
    func profitCallPrintsTheAnswerThenTheTypedError(_ status: Int, _ body: String, _ code: String) async throws {
        let server = try Self.answering(status, body)
        defer { server.stop() }
        let base = server.baseURL.appendingPathComponent("ProfitRestServices").absoluteString
        let added = try Tool.run(["profit", "add-token", "--user", "DavidB", "--base-url", base], environment: ["AFAS_TOKEN": Self.tokenXML])
        #expect(added.status == 0)
        let run = try Tool.run(["profit", "call", "GET", "connectors/Profit_Debtors", "--user", "DavidB", "--base-url", base], store: added.store)
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("HTTP \(status)\n"))
        #expect(run.stdout.contains(body))
        #expect(run.stderr.contains("error: AuthError(\(code)"))
        #expect(server.requests.count == 1)
        let leaked = run.stdout.contains(String(repeating: "C3", count: 32)) || run.stderr.contains(String(repeating: "C3", count: 32))
        #expect(!leaked)
    }

    @Test(arguments: [
        (401, #"{"message":"Unauthorized access (401).","logId":"LOG-401","httpStatusCode":401}"#, "invalid_credentials"),
        (403, #"{"message":"Forbidden (403): the role lacks access.","logId":"LOG-403","httpStatusCode":403}"#, "forbidden"),
        (500, #"{"message":"Internal error.","logId":"LOG-500","httpStatusCode":500}"#, "service_unavailable"),
    ])
    func economicCallPrintsTheAnswerThenTheTypedError(_ status: Int, _ body: String, _ code: String) async throws {
        let server = try Self.answering(status, body)
        defer { server.stop() }
        let run = try Tool.run(["economic", "call", "GET", "customers", "--base-url", server.baseURL.absoluteString],
                               environment: ["ECONOMIC_APP_SECRET_TOKEN": "app-secret-0123456789", "ECONOMIC_AGREEMENT_GRANT_TOKEN": Self.grant])
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("HTTP \(status)\n"))
        #expect(run.stdout.contains(body))
        #expect(run.stderr.contains("error: AuthError(\(code)"))
        #expect(server.requests.count == 1)
        let leaked = [run.stdout, run.stderr].contains { $0.contains(Self.grant) || $0.contains("app-secret-0123456789") }
        #expect(!leaked)
    }
}

extension CommandLineToolTests {
    @Test(arguments: [
        (404, "application/json", #"{"error":"not_found","error_description":"No such work order."}"#, "unexpected_status"),
        (500, "application/json", #"{"message":"Internal error."}"#, "service_unavailable"),
        (502, "text/html", "<html><body>Bad gateway</body></html>", "service_unavailable"),
    ])
    func profixCallPrintsTheAnswerThenTheTypedError(_ status: Int, _ type: String, _ body: String, _ code: String) async throws {
        let server = try LoopbackHTTPServer { _ in
            LoopbackHTTPServer.Response(status: status, headers: [("Content-Type", type)], body: Data(body.utf8))
        }
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-profix-\(UUID().uuidString)")
        let token = "Gcp7!access-token-of-the-cli-test"
        try await FileTokenStore(directory: folder).save(
            StoredCredential(accessToken: Secret(token), refreshToken: Secret("refresh-of-the-cli-test"),
                             expiresAt: Date().addingTimeInterval(3_600), issuedAt: Date(), attributes: ["grant": "authorization_code"]),
            for: TokenKey(provider: "profix", account: "default"))
        let run = try Tool.run(["profix", "call", "GET", "/api/v1/workorders/9", "--base-url", server.baseURL.absoluteString],
                               environment: ["PROFIX_CLIENT_ID": "cli-client", "PROFIX_CLIENT_SECRET": "cli-client-secret-1"], store: folder)
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("HTTP \(status)\n"))
        #expect(run.stderr.contains("error: AuthError(\(code)"))
        #expect(server.requests.count == 1)
        #expect(![run.stdout, run.stderr].contains { $0.contains(token) || $0.contains("cli-client-secret-1") })
    }
}

/// Runs the built `accounting-auth` with a clean environment and a fresh token store.
struct Tool {
    let status: Int32
    let stdout: String
    let stderr: String
    let store: URL

    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, store: URL? = nil) throws -> Tool {
        let executable = try #require(helperExecutable("accounting-auth"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = store ?? folder.appendingPathComponent("store")
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": folder.path, "ACCOUNTING_AUTH_STORE": store.path]
            .merging(environment) { $1 }
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return Tool(status: process.terminationStatus,
                    stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                    stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                    store: store)
    }

    /// What the run stored for `provider`/`account`.
    func stored(provider: String, account: String = "default") async throws -> StoredCredential? {
        guard FileManager.default.fileExists(atPath: store.path) else { return nil }
        return try await FileTokenStore(directory: store).load(TokenKey(provider: provider, account: account))
    }
}

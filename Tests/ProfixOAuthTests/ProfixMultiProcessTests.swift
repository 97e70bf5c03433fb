import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
import ProfixOAuth
import TestSupport
import Testing

/// Four OS processes share one `FileTokenStore` folder holding one Profix-it credential and all
/// force rotations against one `ProfixSandbox`, served to them over loopback HTTP. Coordinating
/// through the store's lock must redeem every rotated refresh token exactly once and lose no pair.
@Suite struct ProfixMultiProcessTests {
    static let workers = 4
    static let rotationsPerWorker = 60
    static let client = ProfixRegistration(clientID: "7f3e9a10-multiprocess", clientSecret: Secret("mp-client-secret"),
                                     redirectURI: URL(string: "https://app.example.com/profix/callback"))

    @Test func fourProcessesRotateOneRefreshTokenWithoutLosingAPair() async throws {
        let worker = try #require(helperExecutable("profix-worker"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("profix-multiprocess-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }

        let sandbox = ProfixSandbox()
        let redirect = try #require(Self.client.redirectURI)
        sandbox.registerClient(id: Self.client.clientID, secret: Self.client.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        let ledger = TokenLedger(base: sandbox)
        let server = try SandboxHTTPServer(ledger)
        defer { server.stop() }

        // Seed the shared store with an authorization-code pair, over the same loopback server.
        var client = Self.client
        client.region = try .custom(server.baseURL)
        let store = try FileTokenStore(directory: folder)
        let seeder = ProfixProvider(client: client, transport: URLSessionTransport(), store: store)
        let pending = try ProfixAuthorizationRequest(client: client)
        try await seeder.exchange(callbackURL: try sandbox.approve(authorizationURL: pending.url), for: pending)
        let key = seeder.key
        #expect(ledger.issuedRefreshTokens.count == 1)

        let processes = try (1...Self.workers).map { index -> (Process, Pipe) in
            let process = Process()
            process.executableURL = worker
            process.arguments = [folder.path, server.baseURL.absoluteString, "w\(index)", String(Self.rotationsPerWorker)]
            var environment = ProcessInfo.processInfo.environment
            environment["PROFIX_WORKER_CLIENT_ID"] = Self.client.clientID
            environment["PROFIX_WORKER_CLIENT_SECRET"] = Self.client.clientSecret.revealed
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            return (process, output)
        }
        var summaries: [[String: Int]] = []
        for (process, output) in processes {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "worker output: \(text)")
            summaries.append(Self.parseSummary(text))
        }

        func total(_ field: String) -> Int { summaries.reduce(0) { $0 + ($1[field] ?? 0) } }
        let rotations = Self.workers * Self.rotationsPerWorker
        #expect(summaries.count == Self.workers)
        for summary in summaries {
            #expect(summary["rotations"] == Self.rotationsPerWorker)
            #expect(summary["invalid_grant"] == 0)
            #expect(summary["errors"] == 0)
        }
        #expect(total("rotations") == rotations)
        #expect(rotations >= 200)

        // The sandbox saw exactly the rotations the workers report, and rejected nothing.
        let counters = sandbox.counters
        #expect(counters.refreshes == rotations)
        #expect(counters.tokenErrors == 0)
        #expect(counters.codeExchanges == 1)
        #expect(counters.apiCalls == total("api_calls"))
        #expect(counters.rejectedAPICalls == 0)
        #expect(server.transportFailures == 0)

        // Each refresh token was issued once and redeemed at most once; all but the newest were
        // redeemed, in the order they were issued (one unbroken chain).
        let issued = ledger.issuedRefreshTokens
        let redeemed = ledger.redeemedRefreshTokens
        #expect(ledger.rejectedRefreshes == 0)
        #expect(issued.count == rotations + 1)
        #expect(Set(issued.map(\.revealed)).count == issued.count)
        #expect(Set(redeemed.map(\.revealed)).count == redeemed.count)
        #expect(counters.refreshes == issued.count - 1)
        #expect(redeemed == Array(issued.dropLast()))

        // No lost pair: the store holds the newest pair, and the sandbox accepts it.
        let final = try #require(try await FileTokenStore(directory: folder).load(key))
        let newest = try #require(issued.last)
        #expect(final.refreshToken == newest)
        #expect(sandbox.accepts(refreshToken: newest))
        #expect(sandbox.accepts(accessToken: final.accessToken))
        let check = ProfixProvider(client: client, transport: URLSessionTransport(), store: try FileTokenStore(directory: folder))
        let api = AuthorizingTransport(base: URLSessionTransport(), provider: check)
        #expect(try await api.reply(HTTPRequest(url: server.baseURL.appendingPathComponent("api/v1/workorders"))).status == 200)
        try await check.refresh()
        #expect(sandbox.counters.refreshes == rotations + 1)
        #expect(sandbox.counters.tokenErrors == 0)
        print("ProfixMultiProcessTests: \(Self.workers) processes, \(rotations) rotations, \(total("adopted")) adopted pairs, \(total("api_calls")) API calls, \(server.requestCount) HTTP requests, \(counters.tokenErrors) rejected refreshes")
    }

    /// The `key=value` fields of a worker's summary line.
    static func parseSummary(_ text: String) -> [String: Int] {
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("profix-worker ") }) else { return [:] }
        var fields: [String: Int] = [:]
        for part in line.split(separator: " ") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, let value = Int(pair[1]) { fields[String(pair[0])] = value }
        }
        return fields
    }
}

/// Passes requests to the sandbox and writes down, in order, every refresh token the token
/// endpoint issued and every one a successful refresh redeemed.
final class TokenLedger: HTTPTransport {
    private struct Entries {
        var issued: [Secret] = []
        var redeemed: [Secret] = []
        var rejected = 0
    }

    let base: any HTTPTransport
    private let entries = Locked(Entries())

    init(base: any HTTPTransport) { self.base = base }

    var issuedRefreshTokens: [Secret] { entries.withLock { $0.issued } }
    var redeemedRefreshTokens: [Secret] { entries.withLock { $0.redeemed } }
    var rejectedRefreshes: Int { entries.withLock { $0.rejected } }

    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        guard request.url?.path.lowercased().hasSuffix("/token") == true else { return try await base.send(request, body: body) }
        let form = FormEncoding.decode(String(decoding: body ?? Data(), as: UTF8.self))
        let presented = form.first { $0.0 == "refresh_token" }.map { Secret($0.1) }
        // The sandbox handles one /token call at a time under its lock, and the server one
        // request at a time, so recording after the answer keeps the issue order.
        let (response, data) = try await base.send(request, body: body)
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let issued = (json?["refresh_token"] as? String).map { Secret($0) }
        entries.withLock { entries in
            if let presented {
                if response.isSuccess { entries.redeemed.append(presented) } else { entries.rejected += 1 }
            }
            if let issued { entries.issued.append(issued) }
        }
        return (response, data)
    }
}

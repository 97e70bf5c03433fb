public import AuthCore
public import Foundation
public import HTTPTypes
public import ProfixOAuth
public import ProfixOAuthTesting
public import Testing

/// Several OS processes (`profix-worker`) share one stored Profix-it credential and all force
/// rotations against one `ProfixSandbox` served over loopback HTTP. The rig seeds the credential,
/// runs the workers, and checks that every rotated refresh token was redeemed exactly once and no
/// pair was lost, whatever store the workers share (a folder, a PostgreSQL database).
public struct RotationRig {
    public static let registration = ProfixRegistration(clientID: "7f3e9a10-multiprocess", clientSecret: Secret("mp-client-secret"),
                                                        redirectURI: URL(string: "https://app.example.com/profix/callback"))

    public let sandbox = ProfixSandbox()
    public let ledger: TokenLedger
    public let server: SandboxHTTPServer
    /// The registration pointed at the loopback server.
    public let client: ProfixRegistration

    public init() throws {
        let redirect = try #require(Self.registration.redirectURI)
        sandbox.registerClient(id: Self.registration.clientID, secret: Self.registration.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        ledger = TokenLedger(base: sandbox)
        server = try SandboxHTTPServer(ledger)
        var client = Self.registration
        client.region = try .custom(server.baseURL)
        self.client = client
    }

    /// Seeds `store` with an authorization-code pair, over the loopback server.
    public func seed(_ store: any TokenStore) async throws -> TokenKey {
        let seeder = ProfixProvider(client: client, transport: URLSessionTransport(), store: store)
        let pending = try ProfixAuthorizationRequest(client: client)
        try await seeder.exchange(callbackURL: try sandbox.approve(authorizationURL: pending.url), for: pending)
        return seeder.key
    }

    /// Runs `workers` processes that share `storeArgument` (a folder or a `postgres://` URL), each
    /// forcing `rotations` rotations; returns their summaries and the wall time.
    public func run(workers: Int, rotations: Int, storeArgument: String) async throws -> (summaries: [[String: Int]], seconds: Double) {
        let worker = try #require(helperExecutable("profix-worker"))
        let start = Date()
        let processes = try (1...workers).map { index -> (Process, Pipe) in
            let process = Process()
            process.executableURL = worker
            process.arguments = [storeArgument, server.baseURL.absoluteString, "w\(index)", String(rotations)]
            var environment = ProcessInfo.processInfo.environment
            environment["PROFIX_WORKER_CLIENT_ID"] = Self.registration.clientID
            environment["PROFIX_WORKER_CLIENT_SECRET"] = Self.registration.clientSecret.revealed
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            return (process, output)
        }
        var summaries: [[String: Int]] = []
        for (process, output) in processes {
            let reader = output.fileHandleForReading
            let (text, status) = await offThePool { () -> (String, Int32) in
                let text = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (text, process.terminationStatus)
            }
            #expect(status == 0, "worker output: \(text)")
            summaries.append(Self.parseSummary(text))
        }
        return (summaries, Date().timeIntervalSince(start))
    }

    /// Checks the rotation chain: the workers' rotations are exactly the sandbox's refreshes,
    /// none rejected; each refresh token issued once and redeemed at most once, all but the newest
    /// redeemed in issue order; the stored pair is the newest and the sandbox accepts it.
    public func expectOneUnbrokenChain(_ summaries: [[String: Int]], workers: Int, rotations perWorker: Int,
                                       stored: StoredCredential?, sourceLocation: SourceLocation = #_sourceLocation) {
        func total(_ field: String) -> Int { summaries.reduce(0) { $0 + ($1[field] ?? 0) } }
        let rotations = workers * perWorker
        #expect(summaries.count == workers, sourceLocation: sourceLocation)
        for summary in summaries {
            #expect(summary["rotations"] == perWorker, sourceLocation: sourceLocation)
            #expect(summary["invalid_grant"] == 0, sourceLocation: sourceLocation)
            #expect(summary["errors"] == 0, sourceLocation: sourceLocation)
        }
        #expect(total("rotations") == rotations, sourceLocation: sourceLocation)
        let counters = sandbox.counters
        #expect(counters.refreshes == rotations, sourceLocation: sourceLocation)
        #expect(counters.tokenErrors == 0, sourceLocation: sourceLocation)
        #expect(counters.apiCalls == total("api_calls"), sourceLocation: sourceLocation)
        #expect(counters.rejectedAPICalls == 0, sourceLocation: sourceLocation)
        #expect(server.transportFailures == 0, sourceLocation: sourceLocation)
        let issued = ledger.issuedRefreshTokens
        let redeemed = ledger.redeemedRefreshTokens
        #expect(ledger.rejectedRefreshes == 0, sourceLocation: sourceLocation)
        #expect(issued.count == rotations + 1, sourceLocation: sourceLocation)
        #expect(Set(issued.map(\.revealed)).count == issued.count, sourceLocation: sourceLocation)
        #expect(Set(redeemed.map(\.revealed)).count == redeemed.count, sourceLocation: sourceLocation)
        #expect(redeemed == Array(issued.dropLast()), sourceLocation: sourceLocation)
        #expect(stored?.refreshToken == issued.last, sourceLocation: sourceLocation)
        if let stored {
            #expect(sandbox.accepts(accessToken: stored.accessToken), sourceLocation: sourceLocation)
        }
        if let newest = issued.last {
            #expect(sandbox.accepts(refreshToken: newest), sourceLocation: sourceLocation)
        }
    }

    /// The `key=value` fields of a worker's summary line.
    public static func parseSummary(_ text: String) -> [String: Int] {
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
public final class TokenLedger: HTTPTransport {
    private struct Entries {
        var issued: [Secret] = []
        var redeemed: [Secret] = []
        var rejected = 0
    }

    let base: any HTTPTransport
    private let entries = Locked(Entries())

    public init(base: any HTTPTransport) { self.base = base }

    public var issuedRefreshTokens: [Secret] { entries.withLock { $0.issued } }
    public var redeemedRefreshTokens: [Secret] { entries.withLock { $0.redeemed } }
    public var rejectedRefreshes: Int { entries.withLock { $0.rejected } }

    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
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

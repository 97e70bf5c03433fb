import AuthCore
import AuthSandboxServer
import AuthTesting
import Foundation
import HTTPTypes
import Testing

/// `accounting-auth` run as a process: what it prints, where, what it stores, and its exit codes.
@Suite(.serialized) struct CommandTests {
    // MARK: - economic capture

    static let grant = "GRANT0123456789abcdefXYZ"
    static let state = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

    @Test func captureFromAnArgumentWarnsAndChecksTheState() async throws {
        let run = try await Tool.run(["economic", "capture", "https://app.example.com/cb?UserInMySystem=7&state=\(Self.state)&token=\(Self.grant)",
                                      "--state", Self.state])
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning:") && run.stderr.contains("ps") && run.stderr.contains("standard input"))
        #expect(run.stdout.contains("state: matches"))
        #expect(run.stdout.contains("parameter UserInMySystem = 7"))
        #expect(!run.stdout.contains("parameter state"))
        #expect(!run.shows(any: [Self.grant]))
        let stored = try #require(try await run.stored(provider: "economic"))
        #expect(stored.accessToken == Secret(Self.grant))
        #expect(stored.attributes == ["grant": "agreement", "parameter.UserInMySystem": "7"])
    }

    /// From a pipe: no warning, and no prompt text mixed into the output.
    @Test(arguments: [[], ["-"]])
    func captureFromStandardInputNeitherWarnsNorPrompts(_ positional: [String]) async throws {
        let run = try await Tool.run(["economic", "capture"] + positional + ["--state", Self.state],
                                     stdin: "https://app.example.com/cb?state=\(Self.state)&token=\(Self.grant)\n")
        #expect(run.status == 0)
        #expect(!run.stderr.contains("warning:"))
        #expect(!run.stderr.contains("Paste the callback URL"))
        #expect(try await run.stored(provider: "economic")?.accessToken == Secret(Self.grant))
    }

    @Test(arguments: [
        "https://app.example.com/cb?state=ffffffffffffffffffffffffffffffff&token=\(grant)",   // another state
        "https://app.example.com/cb?token=\(grant)",                                          // none
        "https://app.example.com/cb?state=\(state)&state=\(state)&token=\(grant)",           // two
    ])
    func captureWithAWrongStateStoresNothing(_ callback: String) async throws {
        let run = try await Tool.run(["economic", "capture", "--state", Self.state], stdin: callback + "\n")
        #expect(run.status == 1)
        #expect(run.stderr.contains("state_mismatch"))
        #expect(try await run.stored(provider: "economic") == nil)
        #expect(!run.shows(any: [Self.grant]))
    }

    // MARK: - call: the answer first, then the typed error and exit 1

    static func answering(_ status: Int, _ body: String, type: String = "application/json") async throws -> (HTTPTransportServer, MockTransport) {
        let mock = MockTransport { _ in
            MockTransport.Response(status: HTTPResponse.Status(code: status), headerFields: [.contentType: type], body: Data(body.utf8))
        }
        return (try await HTTPTransportServer.start(serving: mock), mock)
    }

    static let tokenXML = "<token><version>1</version><data>\(String(repeating: "C3", count: 32))</data></token>"

    @Test(arguments: [
        (401, #"{"externalMessage":"Ongeldige token","profitLogReference":"LOG-401"}"#, "revoked"),
        (403, #"{"externalMessage":"Toegang geweigerd: IP-adres niet toegestaan"}"#, "forbidden"),
        (500, #"{"externalMessage":"Veld ontbreekt","errorNumber":12}"#, "profit_functional_error"),
    ])
    func profitCallPrintsTheAnswerThenTheTypedError(_ status: Int, _ body: String, _ code: String) async throws {
        let (server, mock) = try await Self.answering(status, body)
        let base = server.baseURL.appendingPathComponent("ProfitRestServices").absoluteString
        let added = try await Tool.run(["profit", "add-token", "--user", "DavidB", "--base-url", base], environment: ["AFAS_TOKEN": Self.tokenXML])
        #expect(added.status == 0)
        let run = try await Tool.run(["profit", "call", "GET", "connectors/Profit_Debtors", "--user", "DavidB", "--base-url", base], store: added.store)
        await server.stop()
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("HTTP \(status)\n"))
        #expect(run.stdout.contains(body))
        #expect(run.stderr.contains("error: AuthError(\(code)"))
        #expect(mock.requestCount == 1)
        #expect(!run.shows(any: [String(repeating: "C3", count: 32)]))
    }

    @Test(arguments: [
        (401, #"{"message":"Unauthorized access (401).","logId":"LOG-401","httpStatusCode":401}"#, "invalid_credentials"),
        (403, #"{"message":"Forbidden (403): the role lacks access.","logId":"LOG-403","httpStatusCode":403}"#, "forbidden"),
        (500, #"{"message":"Internal error.","logId":"LOG-500","httpStatusCode":500}"#, "service_unavailable"),
    ])
    func economicCallPrintsTheAnswerThenTheTypedError(_ status: Int, _ body: String, _ code: String) async throws {
        let (server, mock) = try await Self.answering(status, body)
        let run = try await Tool.run(["economic", "call", "GET", "customers", "--base-url", server.baseURL.absoluteString],
                                     environment: ["ECONOMIC_APP_SECRET_TOKEN": "app-secret-0123456789", "ECONOMIC_AGREEMENT_GRANT_TOKEN": Self.grant])
        await server.stop()
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("HTTP \(status)\n"))
        #expect(run.stdout.contains(body))
        #expect(run.stderr.contains("error: AuthError(\(code)"))
        #expect(mock.requestCount == 1)
        #expect(!run.shows(any: [Self.grant, "app-secret-0123456789"]))
    }

    /// `profix call` exits 1 on a 404, a 500 and an HTML page, as the other `call`s do.
    @Test(arguments: [
        (404, "application/json", #"{"error":"not_found","error_description":"No such work order."}"#, "unexpected_status"),
        (500, "application/json", #"{"message":"Internal error."}"#, "service_unavailable"),
        (502, "text/html", "<html><body>Bad gateway</body></html>", "service_unavailable"),
    ])
    func profixCallPrintsTheAnswerThenTheTypedError(_ status: Int, _ type: String, _ body: String, _ code: String) async throws {
        let (server, mock) = try await Self.answering(status, body, type: type)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-profix-\(UUID().uuidString)")
        let token = "Gcp7!access-token-of-the-cli-test"
        try await FileTokenStore(directory: folder).save(
            StoredCredential(accessToken: Secret(token), refreshToken: Secret("refresh-of-the-cli-test"),
                             expiresAt: Date().addingTimeInterval(3_600), issuedAt: Date(), attributes: ["grant": "authorization_code"]),
            for: TokenKey(provider: "profix", account: "default"))
        for transport in ["urlsession", "ahc"] {
            let run = try await Tool.run(["profix", "call", "GET", "/api/v1/workorders/9", "--base-url", server.baseURL.absoluteString, "--transport", transport],
                                         environment: ["PROFIX_CLIENT_ID": "cli-client", "PROFIX_CLIENT_SECRET": "cli-client-secret-1"], store: folder)
            #expect(run.status == 1)
            #expect(run.stdout.hasPrefix("HTTP \(status)\n"))
            #expect(run.stderr.contains("error: AuthError(\(code)"))
            #expect(!run.shows(any: [token, "cli-client-secret-1"]))
        }
        await server.stop()
        #expect(mock.requestCount == 2)
    }

    // MARK: - Help and usage, from one source

    @Test func everySubcommandHasItsOwnHelpAndUsageErrorsExit64() async throws {
        let help = try await Tool.run(["help", "profix", "call"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: accounting-auth profix call"))
        #expect(!help.stdout.contains("client-credentials"))   // the call's help, not the group's
        let flag = try await Tool.run(["profix", "call", "--help"])
        #expect(flag.status == 0)
        #expect(flag.stdout == help.stdout)
        for arguments in [["profix", "call", "GET"], ["profit", "otp-request", "--bogus"], ["nonsense"], ["economic", "request-url", "--locale", "xx-XX", "--app-public-token", "t"]] {
            let run = try await Tool.run(arguments)
            #expect(run.status == 64, "\(arguments)")
        }
        let completions = try await Tool.run(["--generate-completion-script", "bash"])
        #expect(completions.status == 0)
        #expect(completions.stdout.contains("accounting-auth"))
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import ProfitAuthTesting
import Foundation
import ProfitAuth

/// `accounting-auth profit`: AFAS Profit app-connector tokens.
enum ProfitCommand {
    static let usage = """
    USAGE: accounting-auth profit <subcommand> [options]

    SUBCOMMANDS:
      otp-request            Ask Profit to e-mail the user an activation code.
      otp-redeem [<code>]    Exchange the activation code for a token and store it
                             (without <code>, or with -, the code is read without echo: preferred,
                             since arguments are visible to other users).
      add-token              Store a token added by hand in Profit (read from $AFAS_TOKEN or stdin).
      call <METHOD> <path>   Send an authorized REST request; prints the status and body.
      token-info             Show what Profit says about the stored token (expiry).
      delete-token           Revoke the token in Profit (SOAP DeleteToken) and remove it locally.

    OPTIONS:
      --environment <nr>     Environment number (12345 or O12345AA); or $AFAS_ENVIRONMENT.
      --kind <kind>          production (default), test, accept or training.
      --base-url <url>       REST base URL of a local installation or test server (instead of --environment).
      --soap-base-url <url>  SOAP base URL of a local installation (for --soap and delete-token).
      --user <id>            Profit user id; or $AFAS_USER.
      --account <name>       Store account for the token (default: the user id).
      --store <dir>          Token store folder (default: $ACCOUNTING_AUTH_STORE or ~/.accounting-auth).
      --soap                 Use the SOAP token connector for otp-request / otp-redeem.
      --local                delete-token: remove the token locally only.
      --body-file <file>     call: send the file's contents as a JSON body.
      -h, --help             Show this help.

    ENVIRONMENT:
      AFAS_API_KEY, AFAS_ENVIRONMENT_KEY   The app connector's keys (otp-request, otp-redeem).
      AFAS_TOKEN                           A token for add-token.
    """

    static let codeArgumentWarning = """
    warning: command-line arguments are visible to other users (ps, shell history), and the \
    activation code is a credential until it is used. Pass - or nothing to type it without echo \
    or pipe it on standard input instead.
    """

    static let subcommandHelp: [String: String] = [
        "otp-request": "USAGE: accounting-auth profit otp-request --user <id> [--soap] [--environment <nr> | --base-url <url>]\n\nAsks Profit to e-mail an activation code. Needs AFAS_API_KEY and AFAS_ENVIRONMENT_KEY.\nProfit accepts the request even for wrong keys; mistakes show at otp-redeem.",
        "otp-redeem": "USAGE: accounting-auth profit otp-redeem [<code> | -] --user <id> [--soap] [--environment <nr> | --base-url <url>]\n\nExchanges the e-mailed code for a token and saves it in the token store.\nWithout <code> (or with -) the code is read from the terminal without echo, or from a pipe;\nprefer that: arguments are visible to other users (ps).",
        "add-token": "USAGE: accounting-auth profit add-token [--user <id>] [--environment <nr> | --base-url <url>]\n\nStores a token added by hand in Profit, read from $AFAS_TOKEN or from the terminal without echo.\nThe full <token>…</token> XML and the 64 hex digits are both accepted.",
        "call": "USAGE: accounting-auth profit call <METHOD> <path> [--body-file <file>] [--environment <nr> | --base-url <url>]\n\nSends an authorized REST request, e.g. `call GET connectors/Profit_Debtors?take=5`, and prints the status and body.",
        "token-info": "USAGE: accounting-auth profit token-info [--environment <nr> | --base-url <url>]\n\nCalls GET …/metainfo with the stored token and prints its expiry, if the app connector has one.",
        "delete-token": "USAGE: accounting-auth profit delete-token [--local] [--environment <nr> | --base-url <url> --soap-base-url <url>]\n\nRevokes the stored token in Profit (SOAP DeleteToken) and removes it locally; --local skips Profit.",
    ]

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        await runReporting(console, usage: usage) {
            let parsed = try ParsedArguments(
                arguments,
                valueOptions: ["environment", "kind", "base-url", "soap-base-url", "user", "account", "store", "body-file"],
                flagOptions: ["soap", "local"]
            )
            guard let subcommand = parsed.positionals.first else {
                if parsed.wantsHelp {
                    console.print(usage)
                    return
                }
                throw UsageError("missing subcommand")
            }
            if parsed.wantsHelp {
                console.print(subcommandHelp[subcommand] ?? usage)
                return
            }
            let arguments = Array(parsed.positionals.dropFirst())
            switch subcommand {
            case "otp-request":
                let user = try userId(parsed)
                let provider = try makeProvider(parsed, needsKeys: true)
                try await provider.requestOTP(userId: user, over: channel(parsed))
                console.print("Requested an activation code for \(user). Profit e-mails it if the keys are right and the user")
                console.print("has an e-mail address and is in the app connector's user group. Then run: profit otp-redeem --user \(user)")
            case "otp-redeem":
                let user = try userId(parsed)
                let provider = try makeProvider(parsed, needsKeys: true)
                var code = arguments.first ?? "-"
                if code == "-" {
                    guard let line = readSecretLine(prompt: "Activation code: ") else { throw UsageError("no activation code given") }
                    code = line
                } else {
                    console.error(codeArgumentWarning)
                }
                try await provider.redeemOTP(Secret(code), userId: user, over: channel(parsed))
                console.print("Token obtained and stored as \(provider.key) (token: <redacted>).")
            case "add-token":
                let provider = try makeProvider(parsed, needsKeys: false)
                let text: String
                if let value = Environment.value("AFAS_TOKEN") {
                    text = value
                } else if let line = readSecretLine(prompt: "Token: ") {
                    text = line
                } else {
                    throw UsageError("set AFAS_TOKEN or type the token")
                }
                try await provider.addToken(try ProfitToken(text), userId: parsed.option("user") ?? Environment.value("AFAS_USER"))
                console.print("Token stored as \(provider.key) (token: <redacted>).")
            case "call":
                guard arguments.count >= 2 else { throw UsageError("call needs <METHOD> <path>") }
                let provider = try makeProvider(parsed, needsKeys: false)
                var request = HTTPRequest(method: try httpMethod(arguments[0]),
                                          url: try provider.environment.restURL(arguments[1]),
                                          headerFields: [.accept: "application/json"])
                var body: Data?
                if let file = parsed.option("body-file") {
                    guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read \(file)") }
                    body = data
                    request.headerFields[.contentType] = "application/json"
                }
                let recorder = ResponseRecorder(base: URLSessionTransport())
                let client = AuthorizingTransport(base: recorder, provider: provider)
                try await callPrinting(console, recorder: recorder, send: { [request, body] in try await client.send(request, body: body) },
                                       error: ProfitProvider.error(for:body:))
            case "token-info":
                let provider = try makeProvider(parsed, needsKeys: false)
                let info = try await provider.tokenInfo()
                console.print("token: <redacted> (\(provider.key))")
                console.print("user: \(info.userId ?? "unknown")")
                console.print("expires: \(info.expiresAt.map { "\($0)" } ?? "never (no validity period on the app connector)")")
            case "delete-token":
                let provider = try makeProvider(parsed, needsKeys: false)
                let removed = try await provider.deleteToken(revokingOnServer: !parsed.flag("local"))
                if removed {
                    console.print(parsed.flag("local") ? "Token removed locally." : "Token revoked in Profit and removed locally.")
                } else {
                    console.print("Another token was stored while deleting; it was kept" + (parsed.flag("local") ? "." : " (the old one is revoked in Profit)."))
                }
            default:
                throw UsageError("unknown subcommand '\(subcommand)'")
            }
        }
    }

    // MARK: - Configuration from the command line and the environment

    static func channel(_ parsed: ParsedArguments) -> ProfitProvider.Channel {
        parsed.flag("soap") ? .soap : .rest
    }

    static func userId(_ parsed: ParsedArguments) throws -> String {
        guard let user = parsed.option("user") ?? Environment.value("AFAS_USER") else {
            throw UsageError("give --user <id> or set AFAS_USER")
        }
        return user
    }

    static func environment(_ parsed: ParsedArguments) throws -> ProfitEnvironment {
        if let base = parsed.option("base-url") {
            guard let rest = URL(string: base) else { throw UsageError("--base-url is not a URL") }
            var soap: URL?
            if let text = parsed.option("soap-base-url") {
                guard let url = URL(string: text) else { throw UsageError("--soap-base-url is not a URL") }
                soap = url
            }
            return try ProfitEnvironment(restBaseURL: rest, soapBaseURL: soap)
        }
        guard let number = parsed.option("environment") ?? Environment.value("AFAS_ENVIRONMENT") else {
            throw UsageError("give --environment <nr> (or set AFAS_ENVIRONMENT) or --base-url <url>")
        }
        var kind = ProfitEnvironment.Kind.production
        if let name = parsed.option("kind") {
            guard let named = ProfitEnvironment.Kind(named: name) else { throw UsageError("--kind is production, test, accept or training") }
            kind = named
        }
        return try ProfitEnvironment(number: number, kind: kind)
    }

    static func makeProvider(_ parsed: ParsedArguments, needsKeys: Bool) throws -> ProfitProvider {
        let keys: ProfitProvider.AppConnectorKeys? = needsKeys
            ? .init(apiKey: try Environment.secret("AFAS_API_KEY"), environmentKey: try Environment.secret("AFAS_ENVIRONMENT_KEY"))
            : nil
        let account = parsed.option("account") ?? parsed.option("user") ?? Environment.value("AFAS_USER") ?? "default"
        return ProfitProvider(
            environment: try environment(parsed),
            keys: keys,
            transport: URLSessionTransport(),
            store: try FileTokenStore(directory: Environment.storeDirectory(parsed)),
            key: TokenKey(provider: "profit", account: account)
        )
    }

    // MARK: - Demo

    /// The profit part of `accounting-auth demo`: the whole OTP onboarding against `ProfitSandbox`.
    static func demo(console: Console) async throws {
        console.print("== AFAS Profit ==")
        let keys = ProfitProvider.AppConnectorKeys(apiKey: Secret("AF2F0E3B9C8D4E5F60718293A4B5C6D7"),
                                                   environmentKey: Secret("820DBB4C1E2F3A4B5C6D7E8F90A1B2C3"))
        let sandbox = ProfitSandbox(apiKey: keys.apiKey, environmentKey: keys.environmentKey, users: ["DavidB": "david@example.com"])
        let environment = try ProfitEnvironment(number: "O12345AA")
        let store = InMemoryTokenStore()
        let provider = ProfitProvider(environment: environment, keys: keys, transport: sandbox, store: store, key: TokenKey(provider: "profit", account: "DavidB"))

        console.step("Request an activation code: POST \(URLDescription(try environment.restURL("OtpRequest")).text)")
        try await provider.requestOTP(userId: "DavidB")
        console.detail("Profit answered \(sandbox.calls.last.map { "HTTP \($0.status)" } ?? "-") with an empty body; the app now shows")
        console.detail("\"Check your e-mail: enter the activation code Profit sent you\" and waits for the user.")

        console.step("Read the sandbox outbox (the user's e-mail)")
        guard let mail = sandbox.outbox.last else { throw AuthError(.malformedResponse, message: "the sandbox sent no e-mail") }
        console.detail("to \(mail.address) for user \(mail.userId): activation code \(mail.code) (\(mail.code.byteCount) digits)")

        console.step("Redeem the code: POST \(URLDescription(try environment.restURL("OtpValidation")).text)")
        let token = try await provider.redeemOTP(mail.code, userId: mail.userId)
        console.detail("got \(token); stored under \(provider.key); header value: AfasToken <redacted>")

        console.step("An authorized REST call: GET connectors/Profit_Debtors")
        let client = AuthorizingTransport(base: sandbox, provider: provider)
        let rest = try await client.reply(HTTPRequest(url: try environment.restURL("connectors/Profit_Debtors?skip=0&take=10")))
        console.detail("HTTP \(rest.status): \(rest.text)")

        console.step("An authorized SOAP call: GetVersionInfo on appconnectorversioninfo.asmx (AfasToken header)")
        let envelope = SOAPMessage.envelope(operation: "GetVersionInfo", namespace: "urn:Afas.Profit.Services", parameters: [])
        let soapRequest = SOAPMessage.request(url: try environment.soapURL("appconnectorversioninfo.asmx"),
                                              action: "urn:Afas.Profit.Services/GetVersionInfo", envelope: envelope)
        let soap = try await client.reply(soapRequest.head, body: soapRequest.body)
        console.detail("HTTP \(soap.status): GetVersionInfoResult = \(try SOAPMessage(parsing: soap.body).text(of: "GetVersionInfoResult") ?? "-")")

        console.step("Token info: GET metainfo")
        let info = try await provider.tokenInfo()
        console.detail("expires: \(info.expiresAt.map { "\($0)" } ?? "never (the app connector has no validity period)")")

        console.step("A second app instance loads the same token from the store")
        let other = ProfitProvider(environment: environment, transport: sandbox, store: store, key: TokenKey(provider: "profit", account: "DavidB"))
        let otherClient = AuthorizingTransport(base: sandbox, provider: other)
        let versionURL = try environment.restURL("ProfitVersion")
        console.detail("GET ProfitVersion → HTTP \(try await otherClient.reply(HTTPRequest(url: versionURL)).status)")

        console.step("Revoke the token: SOAP DeleteToken on tokenconnector.asmx, then remove it locally")
        try await provider.deleteToken()
        console.detail("active tokens in the sandbox: \(sandbox.activeTokenCount); stored: \(try await store.load(provider.key) == nil ? "nothing" : "still there")")

        console.step("The second instance still holds the revoked token and calls again")
        do {
            _ = try await otherClient.send(HTTPRequest(url: versionURL))
            console.detail("unexpected: the call succeeded")
        } catch let error as AuthError {
            console.detail("typed error: \(error)")
            console.detail("error.code == .revoked: \(error.code == .revoked); retried: no (nothing to refresh)")
        }
    }
}

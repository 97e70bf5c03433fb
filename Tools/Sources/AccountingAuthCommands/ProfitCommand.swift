import ArgumentParser
import AuthCore
import Foundation
import HTTPTypes
import ProfitAuth

/// `accounting-auth profit`: AFAS Profit app-connector tokens.
struct ProfitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profit",
        abstract: "AFAS Profit app-connector tokens: OTP onboarding, authorized REST and SOAP calls.",
        discussion: """
        Environment: AFAS_API_KEY and AFAS_ENVIRONMENT_KEY (the app connector's keys, for otp-request and \
        otp-redeem), AFAS_ENVIRONMENT (instead of --environment), AFAS_USER (instead of --user), AFAS_TOKEN \
        (for add-token).
        """,
        subcommands: [OTPRequest.self, OTPRedeem.self, AddToken.self, Call.self, SOAPCall.self, TokenInfo.self, DeleteToken.self]
    )

    /// Which Profit environment, and where its services are.
    struct Connection: ParsableArguments {
        @Option(help: ArgumentHelp("The environment number (12345 or O12345AA); or $AFAS_ENVIRONMENT.", valueName: "nr"))
        var environment: String?

        @Option(help: ArgumentHelp("production (default), test, accept or training.", valueName: "kind"))
        var kind: String?

        @Option(help: ArgumentHelp("The REST base URL of a local installation or test server (instead of --environment).", valueName: "url"))
        var baseURL: String?

        @Option(help: ArgumentHelp("The SOAP base URL of a local installation or test server.", valueName: "url"))
        var soapBaseURL: String?

        @Option(help: ArgumentHelp("The Profit user id; or $AFAS_USER.", valueName: "id"))
        var user: String?

        @OptionGroup var store: StoreOptions
        @OptionGroup var transport: TransportOptions

        func profitEnvironment() throws -> ProfitEnvironment {
            if let baseURL {
                return try ProfitEnvironment(restBaseURL: try absoluteURL(baseURL, "--base-url"),
                                             soapBaseURL: try soapBaseURL.map { try absoluteURL($0, "--soap-base-url") })
            }
            guard let number = environment ?? Environment.value("AFAS_ENVIRONMENT") else {
                throw ValidationError("give --environment <nr> (or set AFAS_ENVIRONMENT) or --base-url <url>")
            }
            var environmentKind = ProfitEnvironment.Kind.production
            if let kind {
                guard let named = ProfitEnvironment.Kind(named: kind) else { throw ValidationError("--kind is production, test, accept or training") }
                environmentKind = named
            }
            return try ProfitEnvironment(number: number, kind: environmentKind)
        }

        func userId() throws -> String {
            guard let user = user ?? Environment.value("AFAS_USER") else { throw ValidationError("give --user <id> or set AFAS_USER") }
            return user
        }

        func provider(needsKeys: Bool, deviceDescription: String? = nil, transport base: (any HTTPTransport)? = nil) throws -> ProfitProvider {
            let keys: ProfitProvider.AppConnectorKeys? = needsKeys
                ? .init(apiKey: try Environment.secret("AFAS_API_KEY"), environmentKey: try Environment.secret("AFAS_ENVIRONMENT_KEY"))
                : nil
            var configuration = ProfitProvider.Configuration()
            if let deviceDescription { configuration.deviceDescription = deviceDescription }
            let account = store.account ?? user ?? Environment.value("AFAS_USER") ?? "default"
            return ProfitProvider(environment: try profitEnvironment(), keys: keys, transport: base ?? transport.make(),
                                  store: try store.store(), key: TokenKey(provider: "profit", account: account),
                                  configuration: configuration)
        }
    }

    static let codeArgumentWarning = """
    warning: command-line arguments are visible to other users (ps, shell history), and the \
    activation code is a credential until it is used. Pass - or nothing to type it without echo \
    or pipe it on standard input instead.
    """

    struct OTPRequest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "otp-request",
            abstract: "Ask Profit to e-mail the user an activation code.",
            discussion: "Needs AFAS_API_KEY and AFAS_ENVIRONMENT_KEY. Profit accepts the request even for wrong keys; mistakes show at otp-redeem."
        )
        @OptionGroup var connection: Connection
        @Flag(help: "Use the SOAP token connector (GenerateOTP) instead of REST.") var soap = false
        @Option(help: ArgumentHelp("The device description Profit shows with the token (GenerateOTP's description).", valueName: "text"))
        var deviceDescription: String?

        func run() async throws {
            try await reporting {
                let user = try connection.userId()
                let provider = try connection.provider(needsKeys: true, deviceDescription: deviceDescription)
                try await provider.requestOTP(userId: user, over: soap ? .soap : .rest)
                let console = Console()
                console.print("Requested an activation code for \(user). Profit e-mails it if the keys are right and the user")
                console.print("has an e-mail address and is in the app connector's user group. Then run: profit otp-redeem --user \(user)")
            }
        }
    }

    struct OTPRedeem: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "otp-redeem",
            abstract: "Exchange the e-mailed activation code for a token and store it.",
            discussion: "Without <code> (or with -) the code is read from the terminal without echo, or from a pipe; prefer that: arguments are visible to other users (ps)."
        )
        @Argument(help: "The activation code, or - to read it from standard input.") var code: String = "-"
        @OptionGroup var connection: Connection
        @Flag(help: "Use the SOAP token connector (GetTokenFromOTP) instead of REST.") var soap = false

        func run() async throws {
            try await reporting {
                let user = try connection.userId()
                let provider = try connection.provider(needsKeys: true)
                var text = code
                if text == "-" {
                    guard let line = readSecretLine(prompt: "Activation code: "), !line.isEmpty else { throw ValidationError("no activation code given") }
                    text = line.trimmingCharacters(in: .whitespacesAndNewlines)
                } else {
                    Console().error(ProfitCommand.codeArgumentWarning)
                }
                _ = try await provider.redeemOTP(Secret(text), userId: user, over: soap ? .soap : .rest)
                Console().print("Token obtained and stored as \(provider.key) (token: <redacted>).")
            }
        }
    }

    struct AddToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-token",
            abstract: "Store a token added by hand in Profit (from $AFAS_TOKEN or standard input).",
            discussion: "The full <token>…</token> XML and the 64 hex digits are both accepted."
        )
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let provider = try connection.provider(needsKeys: false)
                let text = try secretFromEnvironmentOrInput("AFAS_TOKEN", prompt: "Token: ")
                try await provider.addToken(try ProfitToken(text.revealed), userId: connection.user ?? Environment.value("AFAS_USER"))
                Console().print("Token stored as \(provider.key) (token: <redacted>).")
            }
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send an authorized REST request and print the status and body.",
            discussion: "For example `call GET connectors/Profit_Debtors?take=5`. A status that is not 2xx exits 1 with the typed error on standard error."
        )
        @Argument(help: "The HTTP method.") var method: String
        @Argument(help: "The path below the REST base, with its query.") var path: String
        @Option(help: ArgumentHelp("Send the file's contents as a JSON body.", valueName: "file")) var bodyFile: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let recorder = ResponseRecorder(base: connection.transport.make())
                let provider = try connection.provider(needsKeys: false, transport: recorder)
                var request = HTTPRequest(method: try httpMethod(method), url: try provider.environment.restURL(path),
                                          headerFields: [.accept: "application/json"])
                var body: Data?
                if let bodyFile {
                    guard let data = FileManager.default.contents(atPath: bodyFile) else { throw ValidationError("cannot read \(bodyFile)") }
                    body = data
                    request.headerFields[.contentType] = "application/json"
                }
                let client = provider.client(over: recorder)
                try await callPrinting(Console(), recorder: recorder, send: { [request, body] in try await client.send(request, body: body) },
                                       error: ProfitProvider.error(for:body:))
            }
        }
    }

    struct SOAPCall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "soap",
            abstract: "Call a SOAP connector with the stored token, e.g. `soap appconnectorget GetData connectorId=Profit_Debtors skip=0 take=10`.",
            discussion: "The token goes in the AfasToken header. Parameters are name=value strings, sent in order as the operation's elements. Prints the operation's result."
        )
        @Argument(help: "The service: appconnectorget, appconnectorupdate, appconnectorversioninfo, … (.asmx may be left out).") var service: String
        @Argument(help: "The operation, e.g. GetData.") var operation: String
        @Argument(help: "The operation's parameters, name=value.") var parameters: [String] = []
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let transport = connection.transport.make()
                let provider = try connection.provider(needsKeys: false, transport: transport)
                let pairs = try parameters.map(ProfitCommand.parameter)
                let file = service.hasSuffix(".asmx") ? service : service + ".asmx"
                let envelope = SOAPMessage.envelope(operation: operation, namespace: "urn:Afas.Profit.Services", parameters: pairs)
                let request = soapRequest(url: try provider.environment.soapURL(file), action: "urn:Afas.Profit.Services/\(operation)")
                let (response, body) = try await provider.client(over: transport).fetch(request, body: envelope)
                let message = try SOAPMessage(parsing: body)
                if let fault = message.fault {
                    throw AuthError(.soapFault, provider: "profit", status: response.status.code, serverCode: fault.code, message: fault.message ?? "\(operation) failed")
                }
                Console().print(message.text(of: operation + "Result") ?? "(empty result)")
            }
        }
    }

    struct TokenInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token-info",
            abstract: "Show what Profit says about the stored token (its expiry)."
        )
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let provider = try connection.provider(needsKeys: false)
                let info = try await provider.tokenInfo()
                let console = Console()
                console.print("token: <redacted> (\(provider.key))")
                console.print("user: \(info.userId ?? "unknown")")
                console.print("expires: \(info.expiresAt.map { "\($0)" } ?? "never (no validity period on the app connector)")")
            }
        }
    }

    struct DeleteToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-token",
            abstract: "Revoke the token in Profit (SOAP DeleteToken) and remove it locally."
        )
        @Flag(help: "Remove the token locally only.") var local = false
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let provider = try connection.provider(needsKeys: false)
                let removed = try await provider.deleteToken(revokingOnServer: !local)
                if removed {
                    Console().print(local ? "Token removed locally." : "Token revoked in Profit and removed locally.")
                } else {
                    Console().print("Another token was stored while deleting; it was kept" + (local ? "." : " (the old one is revoked in Profit)."))
                }
            }
        }
    }

    static func parameter(_ text: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("parameters are name=value, got '\(text)'")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}

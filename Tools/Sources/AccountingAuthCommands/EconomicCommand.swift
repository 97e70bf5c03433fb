import ArgumentParser
import AuthCore
import EconomicAuth
import Foundation
import HTTPTypes

/// `accounting-auth economic`: the requestURL grant flow, REST calls and SOAP sessions.
struct EconomicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "economic",
        abstract: "e-conomic tokens: the requestURL grant flow, REST headers, SOAP sessions.",
        discussion: """
        Credentials come from the environment only: ECONOMIC_APP_SECRET_TOKEN (the app's AppSecretToken), \
        ECONOMIC_AGREEMENT_GRANT_TOKEN (the agreement's grant; else the one `capture` or `add-grant` stored), \
        ECONOMIC_APP_PUBLIC_TOKEN (the app's public token, for request-url). Use `demo` for both tokens to \
        read e-conomic's public demo agreement.
        """,
        subcommands: [RequestURL.self, Capture.self, AddGrant.self, ShowSelf.self, Call.self, SOAP.self]
    )

    /// Where the service is and which stored grant to use.
    struct Connection: ParsableArguments {
        @Option(help: ArgumentHelp("The REST base (default https://restapi.e-conomic.com); for `soap`, the SOAP endpoint.", valueName: "url"))
        var baseURL: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var transport: TransportOptions

        var key: TokenKey { TokenKey(provider: EconomicEndpoints.providerName, account: store.account ?? "default") }

        func credentials() async throws -> EconomicCredentials {
            let app = try Environment.secret("ECONOMIC_APP_SECRET_TOKEN")
            if let grant = Environment.value("ECONOMIC_AGREEMENT_GRANT_TOKEN") {
                return EconomicCredentials(appSecretToken: app, agreementGrantToken: Secret(grant))
            }
            guard let stored = try await store.store().load(key) else {
                throw ValidationError("set ECONOMIC_AGREEMENT_GRANT_TOKEN, or store a grant with `economic capture` or `economic add-grant` for account '\(key.account)'")
            }
            return EconomicCredentials(appSecretToken: app, agreementGrantToken: stored.accessToken)
        }

        func provider(transport base: (any HTTPTransport)? = nil) async throws -> EconomicProvider {
            var configuration = EconomicProvider.Configuration()
            if let baseURL { configuration.restBaseURL = try absoluteURL(baseURL, "--base-url") }
            return try EconomicProvider(credentials: try await credentials(), transport: base ?? transport.make(), configuration: configuration)
        }
    }

    struct RequestURL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request-url",
            abstract: "Print the link an agreement administrator opens to grant the app access.",
            discussion: """
            The redirect URL (with your name=value parameters and, with --state, a random state) is \
            URL-encoded once as a whole into redirectUrl. The app's public token comes from \
            --app-public-token or ECONOMIC_APP_PUBLIC_TOKEN; a --request-url must carry it (appPublicToken= \
            or appId=) or get it from there, since e-conomic refuses a link without it.
            """
        )
        @Option(help: ArgumentHelp("The app's public token; or $ECONOMIC_APP_PUBLIC_TOKEN.", valueName: "token")) var appPublicToken: String?
        @Option(help: ArgumentHelp("The app's requestURL as e-conomic shows it (instead of the default grant page).", valueName: "url")) var requestURL: String?
        @Option(help: ArgumentHelp("da-DK, sv-SE, nb-NO or en-US.", valueName: "locale")) var locale: String?
        @Option(help: ArgumentHelp("Where the browser comes back with token=.", valueName: "url")) var redirectURL: String?
        @Flag(help: "Add a random state to the redirect URL (printed on standard error) for `capture --state`.") var state = false
        @Argument(help: "Your own parameters for the redirect URL, name=value.") var parameters: [String] = []

        func run() async throws {
            try await reporting {
                let request = try build()
                Console().print(try request.url().absoluteString)
                if let state = request.state {
                    Console().error("state (keep it to check the callback): \(state.revealed)")
                }
            }
        }

        func build() throws -> EconomicGrantRequest {
            let pairs = try parameters.map(EconomicCommand.parameter)
            let redirect = try redirectURL.map { try absoluteURL($0, "--redirect-url") }
            let chosenLocale = locale.map(EconomicGrantRequest.Locale.init(rawValue:))
            if let chosenLocale, !EconomicGrantRequest.Locale.documented.contains(chosenLocale) {
                throw ValidationError("--locale must be one of da-DK, sv-SE, nb-NO, en-US")
            }
            let randomState = state ? EconomicGrantRequest.randomState() : nil
            let publicToken = appPublicToken ?? Environment.value("ECONOMIC_APP_PUBLIC_TOKEN")
            if let requestURL {
                var url = try absoluteURL(requestURL, "--request-url")
                let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []
                if !items.contains(where: { ($0.name == "appPublicToken" || $0.name == "appId") && !($0.value ?? "").isEmpty }) {
                    guard let publicToken, var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
                        throw ValidationError("--request-url carries no appPublicToken: give --app-public-token or set ECONOMIC_APP_PUBLIC_TOKEN (e-conomic refuses a link without it)")
                    }
                    components.queryItems = items + [URLQueryItem(name: "appPublicToken", value: publicToken)]
                    guard let completed = components.url else { throw ValidationError("--request-url cannot take the public token") }
                    url = completed
                }
                return EconomicGrantRequest(requestURL: url, locale: chosenLocale, redirectURL: redirect, parameters: pairs, state: randomState)
            }
            guard let publicToken else { throw ValidationError("give --app-public-token, set ECONOMIC_APP_PUBLIC_TOKEN, or give --request-url") }
            return EconomicGrantRequest(appPublicToken: publicToken, locale: chosenLocale, redirectURL: redirect, parameters: pairs, state: randomState)
        }
    }

    static let callbackArgumentWarning = """
    warning: the callback URL holds the AgreementGrantToken (it never expires), and command-line arguments are visible to other users (ps, shell history). Pass - or nothing to read it from standard input instead.
    """

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the AgreementGrantToken from the URL the browser came back on, and store it.",
            discussion: "Give the URL on standard input (no argument, or -): it holds a grant that never expires, and arguments are visible to other users (ps). With --state, the callback's state must equal the one `request-url --state` printed (compared in constant time), else nothing is stored."
        )
        @Argument(help: "The callback URL, or - to read it from standard input.") var callbackURL: String = "-"
        @Option(help: ArgumentHelp("The state request-url printed.", valueName: "value")) var state: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reporting {
                var text = callbackURL
                if text == "-" {
                    guard let line = readSecretLine(prompt: "Paste the callback URL: "), !line.isEmpty else { throw ValidationError("no callback URL on standard input") }
                    text = line.trimmingCharacters(in: .whitespacesAndNewlines)
                } else {
                    Console().error(EconomicCommand.callbackArgumentWarning)
                }
                let callback = try EconomicGrantCallback(url: try absoluteURL(text, "the callback URL"))
                let parameters = try EconomicCommand.checkedParameters(of: callback, expectedState: state)
                var attributes: [String: String] = ["grant": "agreement"]
                for parameter in parameters { attributes["parameter." + parameter.name] = parameter.value }
                let key = TokenKey(provider: EconomicEndpoints.providerName, account: store.account ?? "default")
                try await store.store().save(StoredCredential(accessToken: callback.agreementGrantToken, issuedAt: Date(), attributes: attributes), for: key)
                let console = Console()
                console.print("AgreementGrantToken: <redacted> (\(callback.agreementGrantToken.byteCount) bytes) stored as \(key)")
                if state != nil { console.print("state: matches") }
                for parameter in parameters { console.print("parameter \(parameter.name) = \(parameter.value)") }
            }
        }
    }

    struct AddGrant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-grant",
            abstract: "Store an AgreementGrantToken an administrator copied by hand (from $ECONOMIC_AGREEMENT_GRANT_TOKEN or standard input).",
            discussion: "The token is checked for form (no whitespace or control characters) and, unless --no-check, against GET /self with ECONOMIC_APP_SECRET_TOKEN before it is stored."
        )
        @Flag(name: .customLong("no-check"), help: "Store without calling GET /self.") var skipCheck = false
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let grant = try secretFromEnvironmentOrInput("ECONOMIC_AGREEMENT_GRANT_TOKEN", prompt: "AgreementGrantToken: ")
                try EconomicCredentials.validate(grant, name: "AgreementGrantToken")
                var attributes = ["grant": "agreement", "source": "manual"]
                if !skipCheck {
                    var configuration = EconomicProvider.Configuration()
                    if let baseURL = connection.baseURL { configuration.restBaseURL = try absoluteURL(baseURL, "--base-url") }
                    let provider = try EconomicProvider(
                        credentials: EconomicCredentials(appSecretToken: try Environment.secret("ECONOMIC_APP_SECRET_TOKEN"), agreementGrantToken: grant),
                        transport: connection.transport.make(), configuration: configuration)
                    let agreement = try await provider.validate()
                    if let number = agreement.agreementNumber { attributes["agreement"] = String(number) }
                }
                try await connection.store.store().save(StoredCredential(accessToken: grant, issuedAt: Date(), attributes: attributes), for: connection.key)
                Console().print("AgreementGrantToken: <redacted> stored as \(connection.key)" + (attributes["agreement"].map { " (agreement \($0))" } ?? ""))
            }
        }
    }

    struct ShowSelf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "self",
            abstract: "GET /self: check the token pair and show the agreement."
        )
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let agreement = try await connection.provider().validate()
                let console = Console()
                console.print("agreement number: \(agreement.agreementNumber.map(String.init) ?? "-")")
                console.print("agreement type:   \(agreement.agreementType?.name ?? "-")")
                console.print("company:          \(agreement.company?.name ?? "-")\(agreement.company?.vatNumber.map { " (VAT \($0))" } ?? "")")
                console.print("application:      \(agreement.application?.name ?? "-")")
                console.print("user:             \(agreement.user?.name ?? "-")\(agreement.user?.email.map { " <\($0)>" } ?? "")")
                console.print("base currency:    \(agreement.baseCurrency ?? "-")")
            }
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An authorized REST call, e.g. `call GET customers`; prints the status and body.",
            discussion: "Content-Type: application/json. A status that is not 2xx (401 and 403 included) exits 1 with the typed error on standard error."
        )
        @Argument(help: "The HTTP method.") var method: String
        @Argument(help: "The path below the REST base, with its query.") var path: String
        @Option(help: ArgumentHelp("Send the file's contents as the JSON body.", valueName: "file")) var bodyFile: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let chosen = try httpMethod(method)
                let body = try bodyFile.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
                let recorder = ResponseRecorder(base: connection.transport.make())
                let provider = try await connection.provider(transport: recorder)
                try await callPrinting(Console(), recorder: recorder, send: { try await provider.send(chosen, path: path, json: body) },
                                       error: EconomicProvider.error(for:body:))
            }
        }
    }

    struct SOAP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "soap",
            abstract: "An authorized SOAP call through a ConnectWithToken session, e.g. `soap Company_GetName`.",
            discussion: "Opens a session, calls the operation with the given string parameters, prints the result, and disconnects."
        )
        @Argument(help: "The operation.") var operation: String
        @Argument(help: "The operation's parameters, name=value.") var parameters: [String] = []
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                var configuration = EconomicSOAPSession.Configuration()
                if let baseURL = connection.baseURL { configuration.endpoint = try absoluteURL(baseURL, "--base-url") }
                let session = try EconomicSOAPSession(credentials: try await connection.credentials(), transport: connection.transport.make(),
                                                      configuration: configuration)
                let reply = try await session.call(operation, parameters: try parameters.map(EconomicCommand.parameter).map { ($0.name, $0.value) })
                Console().print("\(operation)Result: \(reply.text(of: operation + "Result") ?? "(empty)")")
                try? await session.disconnect()
            }
        }
    }

    /// The callback's parameters; with `expectedState`, its single `state` parameter must equal
    /// it (compared in constant time) and is left out.
    static func checkedParameters(of callback: EconomicGrantCallback, expectedState: String?) throws -> [EconomicGrantRequest.Parameter] {
        guard let expectedState else { return callback.parameters }
        let states = callback.parameters.filter { $0.name == "state" }
        guard !expectedState.isEmpty, states.count == 1, let received = states.first, Secret(expectedState).matches(received.value) else {
            throw AuthError(.stateMismatch, provider: EconomicEndpoints.providerName,
                            message: "the state on the callback URL is missing or differs from --state; nothing was stored")
        }
        return callback.parameters.filter { $0.name != "state" }
    }

    static func parameter(_ text: String) throws -> EconomicGrantRequest.Parameter {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("parameters are name=value, got '\(text)'")
        }
        return .init(String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}

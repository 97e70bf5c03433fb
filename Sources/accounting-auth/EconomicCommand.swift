import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
import EconomicAuth
import Foundation

/// `accounting-auth economic`: the requestURL grant flow, REST calls and SOAP sessions.
enum EconomicCommand {
    static let usage = """
    USAGE: accounting-auth economic <subcommand> [options]

    SUBCOMMANDS:
      request-url [name=value ...]   Print the link an agreement administrator opens to grant access.
      capture [<callback-url>|-] [--state VALUE]
                                     Read the AgreementGrantToken from the URL the browser came back on
                                     (from standard input when omitted or '-': preferred) and store it;
                                     --state checks the state `request-url --state` printed.
      self                           GET /self: check the token pair and show the agreement.
      call <METHOD> <path>           An authorized REST call, e.g. `call GET customers`.
      soap <Operation> [name=value ...]
                                     An authorized SOAP call through a ConnectWithToken session.

    CREDENTIALS (environment only):
      ECONOMIC_APP_SECRET_TOKEN        the app's AppSecretToken
      ECONOMIC_AGREEMENT_GRANT_TOKEN   the agreement's grant; else the one `capture` stored
      ECONOMIC_APP_PUBLIC_TOKEN        the app's public token, for request-url
    Use `demo` for both tokens to read e-conomic's public demo agreement.

    COMMON OPTIONS:
      --base-url URL   REST base (default https://restapi.e-conomic.com); for `soap` the SOAP
                       endpoint (default https://api.e-conomic.com/secure/api1/EconomicWebService.asmx)
      --account NAME   the token-store entry (default "default")
      --store DIR      the token-store folder (default $ACCOUNTING_AUTH_STORE or ~/.accounting-auth)
    Run `accounting-auth economic <subcommand> --help` for details.
    """

    static let requestURLUsage = """
    USAGE: accounting-auth economic request-url [--app-public-token TOKEN | --request-url URL]
                                                [--locale da-DK|sv-SE|nb-NO|en-US] [--redirect-url URL]
                                                [--state] [name=value ...]
    Builds the grant link: the redirect URL (with your name=value parameters and, with --state, a
    random state) is URL-encoded once as a whole into redirectUrl. The public token may also come
    from ECONOMIC_APP_PUBLIC_TOKEN.
    """

    static let captureUsage = """
    USAGE: accounting-auth economic capture [<callback-url> | -] [--state VALUE] [--account NAME] [--store DIR]
    Reads token= from the callback URL, prints your parameters, and stores the grant under
    economic/<account>. The token is never printed. Give the URL on standard input (no argument,
    or -): it holds a grant that never expires, and arguments are visible to other users (ps).
    --state VALUE: the state `request-url --state` printed; the callback's state must equal it
    (compared in constant time), else nothing is stored.
    """

    static let callbackArgumentWarning = """
    warning: the callback URL holds the AgreementGrantToken (it never expires), and command-line arguments are visible to other users (ps, shell history). Pass - or nothing to read it from standard input instead.
    """

    static let selfUsage = """
    USAGE: accounting-auth economic self [--base-url URL] [--account NAME] [--store DIR]
    Calls GET /self with X-AppSecretToken and X-AgreementGrantToken and prints the agreement.
    """

    static let callUsage = """
    USAGE: accounting-auth economic call <METHOD> <path> [--body-file FILE] [--base-url URL] [--account NAME] [--store DIR]
    Sends an authorized REST request (Content-Type: application/json) and prints status and body;
    a failed status (401 and 403 included) then exits 1 with the typed error on standard error.
    """

    static let soapUsage = """
    USAGE: accounting-auth economic soap <Operation> [name=value ...] [--base-url SOAP-URL] [--account NAME] [--store DIR]
    Opens a ConnectWithToken session, calls the operation with the given string parameters,
    prints the result, and disconnects.
    """

    static let valueOptions: Set<String> = ["base-url", "account", "store", "app-public-token", "request-url", "locale", "redirect-url", "body-file"]

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        guard let subcommand = arguments.first else {
            console.error(usage)
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst())
        switch subcommand {
        case "-h", "--help", "help":
            console.print(usage)
            return ExitCode.ok
        case "request-url": return await runReporting(console, usage: requestURLUsage) { try requestURL(rest, console: console) }
        case "capture": return await runReporting(console, usage: captureUsage) { try await capture(rest, console: console) }
        case "self": return await runReporting(console, usage: selfUsage) { try await showSelf(rest, console: console) }
        case "call": return await runReporting(console, usage: callUsage) { try await call(rest, console: console) }
        case "soap": return await runReporting(console, usage: soapUsage) { try await soap(rest, console: console) }
        default:
            console.error("error: unknown subcommand '\(subcommand)'\n\n\(usage)")
            return ExitCode.usage
        }
    }

    // MARK: - Subcommands

    static func requestURL(_ arguments: [String], console: Console) throws {
        let parsed = try ParsedArguments(arguments, valueOptions: valueOptions, flagOptions: ["state"])
        if parsed.wantsHelp { return console.print(requestURLUsage) }
        let parameters = try parsed.positionals.map(parameter)
        let redirect = try parsed.option("redirect-url").map { try url($0, "--redirect-url") }
        let locale = parsed.option("locale").map(EconomicGrantRequest.Locale.init(rawValue:))
        if let locale, !EconomicGrantRequest.Locale.documented.contains(locale) {
            throw UsageError("--locale must be one of da-DK, sv-SE, nb-NO, en-US")
        }
        let state = parsed.flag("state") ? EconomicGrantRequest.randomState() : nil
        let request: EconomicGrantRequest
        if let requestURL = parsed.option("request-url") {
            request = EconomicGrantRequest(requestURL: try url(requestURL, "--request-url"), locale: locale, redirectURL: redirect, parameters: parameters, state: state)
        } else if let token = parsed.option("app-public-token") ?? Environment.value("ECONOMIC_APP_PUBLIC_TOKEN") {
            request = EconomicGrantRequest(appPublicToken: token, locale: locale, redirectURL: redirect, parameters: parameters, state: state)
        } else {
            throw UsageError("give --request-url, --app-public-token or ECONOMIC_APP_PUBLIC_TOKEN")
        }
        console.print(try request.url().absoluteString)
        if let state {
            console.error("state (keep it to check the callback): \(state.revealed)")
        }
    }

    static func capture(_ arguments: [String], console: Console) async throws {
        let parsed = try ParsedArguments(arguments, valueOptions: valueOptions.union(["state"]))
        if parsed.wantsHelp { return console.print(captureUsage) }
        var text = parsed.positionals.first ?? "-"
        if text == "-" {
            guard let line = readSecretLine(prompt: "Paste the callback URL: ") else { throw UsageError("no callback URL on standard input") }
            text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            console.error(callbackArgumentWarning)
        }
        let callback = try EconomicGrantCallback(url: try url(text, "the callback URL"))
        let parameters = try checkedParameters(of: callback, expectedState: parsed.option("state"))
        let store = try FileTokenStore(directory: Environment.storeDirectory(parsed))
        let key = TokenKey(provider: EconomicEndpoints.providerName, account: account(parsed))
        var attributes: [String: String] = [:]
        for parameter in parameters { attributes["parameter." + parameter.name] = parameter.value }
        try await store.save(StoredCredential(accessToken: callback.agreementGrantToken, issuedAt: Date(), attributes: attributes), for: key)
        console.print("AgreementGrantToken: <redacted> (\(callback.agreementGrantToken.byteCount) bytes) stored as \(key)")
        if parsed.option("state") != nil { console.print("state: matches") }
        for parameter in parameters { console.print("parameter \(parameter.name) = \(parameter.value)") }
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

    static func showSelf(_ arguments: [String], console: Console) async throws {
        let parsed = try ParsedArguments(arguments, valueOptions: valueOptions)
        if parsed.wantsHelp { return console.print(selfUsage) }
        let provider = try await makeProvider(parsed)
        let agreement = try await provider.validate()
        console.print("agreement number: \(agreement.agreementNumber.map(String.init) ?? "-")")
        console.print("agreement type:   \(agreement.agreementType?.name ?? "-")")
        console.print("company:          \(agreement.company?.name ?? "-")\(agreement.company?.vatNumber.map { " (VAT \($0))" } ?? "")")
        console.print("application:      \(agreement.application?.name ?? "-")")
        console.print("user:             \(agreement.user?.name ?? "-")\(agreement.user?.email.map { " <\($0)>" } ?? "")")
        console.print("base currency:    \(agreement.baseCurrency ?? "-")")
    }

    static func call(_ arguments: [String], console: Console) async throws {
        let parsed = try ParsedArguments(arguments, valueOptions: valueOptions)
        if parsed.wantsHelp { return console.print(callUsage) }
        let method = try httpMethod(try parsed.positional(0, "METHOD"))
        let path = try parsed.positional(1, "path")
        let body = try parsed.option("body-file").map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let recorder = ResponseRecorder(base: URLSessionTransport())
        let provider = try await makeProvider(parsed, transport: recorder)
        try await callPrinting(console, recorder: recorder, send: { try await provider.send(method, path: path, json: body) },
                               error: EconomicProvider.error(for:body:))
    }

    static func soap(_ arguments: [String], console: Console) async throws {
        let parsed = try ParsedArguments(arguments, valueOptions: valueOptions)
        if parsed.wantsHelp { return console.print(soapUsage) }
        let operation = try parsed.positional(0, "Operation")
        let parameters = try parsed.positionals.dropFirst().map(parameter).map { ($0.name, $0.value) }
        var configuration = EconomicSOAPSession.Configuration()
        if let base = parsed.option("base-url") { configuration.endpoint = try url(base, "--base-url") }
        let session = try EconomicSOAPSession(credentials: try await credentials(parsed), transport: URLSessionTransport(), configuration: configuration)
        let reply = try await session.call(operation, parameters: parameters)
        console.print("\(operation)Result: \(reply.text(of: operation + "Result") ?? "(empty)")")
        try? await session.disconnect()
    }

    // MARK: - Helpers

    static func account(_ parsed: ParsedArguments) -> String { parsed.option("account") ?? "default" }

    static func credentials(_ parsed: ParsedArguments) async throws -> EconomicCredentials {
        let app = try Environment.secret("ECONOMIC_APP_SECRET_TOKEN")
        if let grant = Environment.value("ECONOMIC_AGREEMENT_GRANT_TOKEN") {
            return EconomicCredentials(appSecretToken: app, agreementGrantToken: Secret(grant))
        }
        let store = try FileTokenStore(directory: Environment.storeDirectory(parsed))
        let key = TokenKey(provider: EconomicEndpoints.providerName, account: account(parsed))
        guard let stored = try await store.load(key) else {
            throw UsageError("set ECONOMIC_AGREEMENT_GRANT_TOKEN or run `economic capture` for account '\(key.account)'")
        }
        return EconomicCredentials(appSecretToken: app, agreementGrantToken: stored.accessToken)
    }

    static func makeProvider(_ parsed: ParsedArguments, transport: any HTTPTransport = URLSessionTransport()) async throws -> EconomicProvider {
        var configuration = EconomicProvider.Configuration()
        if let base = parsed.option("base-url") { configuration.restBaseURL = try url(base, "--base-url") }
        return try EconomicProvider(credentials: try await credentials(parsed), transport: transport, configuration: configuration)
    }

    static func parameter(_ text: String) throws -> EconomicGrantRequest.Parameter {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw UsageError("parameters are name=value, got '\(text)'")
        }
        return .init(String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    static func url(_ text: String, _ what: String) throws -> URL {
        guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw UsageError("\(what) is not an absolute URL") }
        return url
    }

    // MARK: - Demo

    /// The e-conomic part of `accounting-auth demo`: every flow against ``EconomicSandbox``.
    static func demo(console: Console) async throws {
        console.print("\n== e-conomic (EconomicAuth) ==")
        let sandbox = EconomicSandbox()
        let redirect = try url("https://app.example.com/economic/callback", "redirect")

        console.step("Build the grant link (requestURL + locale + redirectUrl encoded once, with our own parameters)")
        let request = EconomicGrantRequest(
            appPublicToken: sandbox.appPublicToken, locale: .english, redirectURL: redirect,
            parameters: [.init("UserInMySystem", "123"), .init("note", "a&b=c d")],
            state: EconomicGrantRequest.randomState()
        )
        let link = try request.url()
        console.detail("redirect target: \(try request.redirectTarget()?.absoluteString.replacingOccurrences(of: request.state?.revealed ?? "-", with: "<state>") ?? "-")")
        console.detail("link: \(URLDescription(link).text)?appPublicToken=…&locale=en-US&redirectUrl=…")

        console.step("The administrator approves; the sandbox's grant page redirects back with token=")
        let page = try await sandbox.reply(HTTPRequest(url: link))
        guard let location = page.headerFields[.location] else { throw AuthError.malformedResponse("the grant page did not redirect", provider: "economic") }
        console.detail("HTTP \(page.status) → \(URLDescription(try url(location, "location")).text)?…&token=<redacted>")

        console.step("Capture the AgreementGrantToken from the callback (address, parameters and state checked)")
        let callback = try EconomicGrantCallback(url: try url(location, "location"), expecting: request)
        console.detail("token: \(callback.agreementGrantToken); parameters: \(callback.parameters.map(\.description).joined(separator: ", "))")

        console.step("REST: GET /self with X-AppSecretToken and X-AgreementGrantToken")
        let app = EconomicApp(appSecretToken: sandbox.appSecretToken, transport: sandbox)
        let provider = try app.provider(grantToken: callback.agreementGrantToken)
        let agreement = try await provider.validate()
        console.detail("agreement \(agreement.agreementNumber.map(String.init) ?? "-"): \(agreement.company?.name ?? "-"), currency \(agreement.baseCurrency ?? "-")")
        let (customers, customersBody) = try await provider.send(.get, path: "customers")
        console.detail("GET /customers → HTTP \(customers.status.code), \(customersBody.count) bytes")

        console.step("SOAP: ConnectWithToken sets session cookies; later calls replay them")
        let events = EconomicDemoEvents()
        var sessionConfiguration = EconomicSOAPSession.Configuration()
        sessionConfiguration.endpoint = EconomicEndpoints.soapURL
        let session = try EconomicSOAPSession(credentials: app.credentials(grantToken: callback.agreementGrantToken), transport: sandbox, configuration: sessionConfiguration, observer: events.observer)
        let number = try await session.call("Agreement_GetNumber")
        console.detail("Agreement_GetNumber → \(number.text(of: "Agreement_GetNumberResult") ?? "-"); cookies sent: <redacted>; ConnectWithToken calls: \(sandbox.connectCount)")

        console.step("The session expires; 100 concurrent calls reconnect exactly once")
        sandbox.expireSessions()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { _ = try await session.call("Company_GetName") } }
            try await group.waitForAll()
        }
        console.detail("ConnectWithToken calls now: \(sandbox.connectCount) (one initial + one reconnect)")
        for event in events.all { console.detail("event: \(event)") }
        try await session.disconnect()

        console.step("The customer revokes the grant: REST and SOAP report it typed")
        sandbox.revokeGrant(callback.agreementGrantToken)
        do {
            _ = try await provider.validate()
        } catch let error as AuthError {
            console.detail("REST: \(error.code) (HTTP \(error.status.map(String.init) ?? "-"))")
        }
        do {
            _ = try await session.call("Agreement_GetNumber")
        } catch let error as AuthError {
            console.detail("SOAP: \(error.code)")
        }
    }
}

/// Collects the demo's events.
private final class EconomicDemoEvents: Sendable {
    private let events = Locked<[AuthEvent]>([])
    var all: [AuthEvent] { events.withLock { $0 } }
    var observer: AuthEventObserver { AuthEventObserver { event in self.events.withLock { $0.append(event) } } }
}

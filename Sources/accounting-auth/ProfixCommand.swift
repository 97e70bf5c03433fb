import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
import ProfixOAuth

/// `accounting-auth profix`: Profix-it OAuth2 from the command line.
enum ProfixCommand {
    static let usage = """
    USAGE: accounting-auth profix <subcommand> [options]

    SUBCOMMANDS:
      authorize-url               Print the URL to open in a browser (and the state sent with it).
      exchange <callback-url|code|->
                                  Exchange the code from the callback URL (or the code itself; `-`
                                  reads it from stdin) for tokens.
      login                       Password grant; asks for a new password when the service demands one.
      client-credentials          Client-credentials grant.
      refresh                     Refresh now (rotates the refresh token).
      call <METHOD> <path>        Send an authorized request to {base}<path> and print the answer.

    OPTIONS (every subcommand):
      --region nl|be              Which service (default nl).
      --base-url URL              A local installation or test server instead of a region.
      --store DIR                 Token store folder (default $ACCOUNTING_AUTH_STORE or ~/.accounting-auth).
      --account NAME              The credential's name in the store (default "default").
      -h, --help                  Show help.

    ENVIRONMENT:
      PROFIX_CLIENT_ID, PROFIX_CLIENT_SECRET   the registered application (required)
      PROFIX_REDIRECT_URI                      the registered redirect URI (authorize-url, exchange)
      PROFIX_USERNAME, PROFIX_PASSWORD         login (else --username and a password read from stdin)
      PROFIX_NEW_PASSWORD                      the new password when a change is demanded (else stdin)
    Tokens are printed as <redacted>; they live only in the token store.
    """

    static let codeArgumentWarning = """
    warning: command-line arguments are visible to other users (ps, shell history), and the \
    authorization code (alone or in the callback URL) is a credential until it is used. Pass - to \
    type it without echo or pipe it on standard input instead.
    """

    static let help: [String: String] = [
        "authorize-url": "USAGE: accounting-auth profix authorize-url [--state VALUE] [common options]\n\nPrints the authorization URL for PROFIX_CLIENT_ID and PROFIX_REDIRECT_URI, and the state to pass to `exchange --state`.",
        "exchange": "USAGE: accounting-auth profix exchange <callback-url|code|-> [--state VALUE] [common options]\n\nExchanges an authorization code (valid about 3 minutes, once) and stores the tokens. With --state the callback must carry that state.\nWith - the callback URL or code is read from the terminal without echo, or from a pipe;\nprefer that: arguments are visible to other users (ps).",
        "login": "USAGE: accounting-auth profix login [--username NAME] [common options]\n\nPassword grant. The password comes from PROFIX_PASSWORD or stdin; a demanded new password from PROFIX_NEW_PASSWORD or stdin.",
        "client-credentials": "USAGE: accounting-auth profix client-credentials [common options]\n\nObtains an access token with the client-credentials grant and stores it.",
        "refresh": "USAGE: accounting-auth profix refresh [common options]\n\nRefreshes the stored credential now (a client-credentials token is re-acquired).",
        "call": "USAGE: accounting-auth profix call <METHOD> <path> [common options]\n\nSends an authorized request to {base}<path>, refreshing first when needed, and prints status and body.",
    ]

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        guard let subcommand = arguments.first, subcommand != "-h", subcommand != "--help", subcommand != "help" else {
            console.print(usage)
            return arguments.isEmpty ? ExitCode.usage : ExitCode.ok
        }
        guard let subcommandHelp = help[subcommand] else {
            console.error("error: unknown subcommand '\(subcommand)'\n\n\(usage)")
            return ExitCode.usage
        }
        return await runReporting(console, usage: subcommandHelp) {
            let parsed = try ParsedArguments(Array(arguments.dropFirst()),
                                             valueOptions: ["region", "base-url", "store", "account", "state", "username"])
            if parsed.wantsHelp {
                console.print(subcommandHelp + "\n\n" + usage)
                return
            }
            let client = try makeClient(parsed)
            let store = try FileTokenStore(directory: Environment.storeDirectory(parsed))
            let key = TokenKey(provider: ProfixProvider.providerName, account: parsed.option("account") ?? "default")
            let transport = URLSessionTransport()
            // Several invocations may share the store folder: rotate the refresh token under its lock.
            let provider = ProfixProvider(client: client, transport: transport, store: store, key: key,
                                                                                              observer: AuthEventObserver { event in console.error("event: \(event)") })
            switch subcommand {
            case "authorize-url":
                let pending = try ProfixAuthorizationRequest(client: client, state: parsed.option("state").map(Secret.init))
                console.print(pending.url.absoluteString)
                console.error("state: \(pending.state.revealed)   (pass it to `profix exchange --state`)")
            case "exchange":
                try await exchange(parsed, client: client, provider: provider, console: console)
            case "login":
                try await login(parsed, provider: provider, console: console)
            case "client-credentials":
                report(try await provider.requestClientCredentialsToken(), console: console)
            case "refresh":
                report(try await provider.refresh(), console: console)
            case "call":
                let method = try parsed.positional(0, "the HTTP method")
                let path = try parsed.positional(1, "the path")
                guard path.hasPrefix("/"), let url = URL(string: client.region.baseURL.absoluteString + path) else {
                    throw UsageError("the path must start with / and form a URL with the base")
                }
                let recorder = ResponseRecorder(base: transport)
                let api = AuthorizingTransport(base: recorder, provider: provider)
                try await callPrinting(console, recorder: recorder, send: {
                    try await api.send(HTTPRequest(method: try httpMethod(method), url: url))
                }, error: ProfixProvider.error(for:body:))
            default:
                throw UsageError("unknown subcommand '\(subcommand)'")
            }
        }
    }

    private static func makeClient(_ parsed: ParsedArguments) throws -> ProfixRegistration {
        let region: ProfixRegistration.Region
        if let base = parsed.option("base-url") {
            guard let url = URL(string: base), url.scheme != nil else { throw UsageError("--base-url is not a URL") }
            region = try .custom(url)
        } else {
            switch parsed.option("region") ?? "nl" {
            case "nl": region = .nl
            case "be": region = .be
            default: throw UsageError("--region is nl or be (or use --base-url)")
            }
        }
        guard let clientID = Environment.value("PROFIX_CLIENT_ID") else { throw UsageError("set the environment variable PROFIX_CLIENT_ID") }
        let redirect = try Environment.value("PROFIX_REDIRECT_URI").map { text -> URL in
            guard let url = URL(string: text) else { throw UsageError("PROFIX_REDIRECT_URI is not a URL") }
            return url
        }
        return ProfixRegistration(clientID: clientID, clientSecret: try Environment.secret("PROFIX_CLIENT_SECRET"),
                            redirectURI: redirect, region: region)
    }

    private static func exchange(_ parsed: ParsedArguments, client: ProfixRegistration, provider: ProfixProvider, console: Console) async throws {
        var input = try parsed.positional(0, "the callback URL or code")
        if input == "-" {
            guard let line = readSecretLine(prompt: "Callback URL or code: "), !line.isEmpty else { throw UsageError("nothing read from stdin") }
            input = line
        } else {
            console.error(codeArgumentWarning)
        }
        let code: Secret
        if input.contains("://"), let callback = URL(string: input) {
            let pending = try ProfixAuthorizationRequest(
                client: client, state: parsed.option("state").map(Secret.init),
                statePolicy: parsed.option("state") == nil ? .verifyIfPresent : .required)
            if parsed.option("state") == nil, FormEncoding.queryItems(of: callback).contains(where: { $0.0 == "state" }) {
                console.error("warning: the callback carries a state but no --state was given to check it against")
                code = try codeIgnoringState(callback, client: client)
            } else {
                code = try pending.code(from: callback)
            }
        } else {
            code = Secret(input)
        }
        report(try await provider.exchange(code: code), console: console)
    }

    private static func codeIgnoringState(_ callback: URL, client: ProfixRegistration) throws -> Secret {
        let items = FormEncoding.queryItems(of: callback)
        guard let state = items.first(where: { $0.0 == "state" })?.1 else { throw UsageError("no state") }
        return try ProfixAuthorizationRequest(client: client, state: Secret(state)).code(from: callback)
    }

    private static func login(_ parsed: ParsedArguments, provider: ProfixProvider, console: Console) async throws {
        guard let username = parsed.option("username") ?? Environment.value("PROFIX_USERNAME") else {
            throw UsageError("give --username or set PROFIX_USERNAME")
        }
        let password = try secretFromEnvironmentOrStdin("PROFIX_PASSWORD", prompt: "Password for \(username): ")
        switch try await provider.logIn(username: username, password: password) {
        case .authorized:
            report(try await provider.credential(), console: console)
        case .passwordChangeRequired(let userID):
            console.print("Profix-it requires a new password for user id \(userID).")
            let newPassword = try secretFromEnvironmentOrStdin("PROFIX_NEW_PASSWORD", prompt: "New password: ")
            try await provider.changePassword(userID: userID, currentPassword: password, newPassword: newPassword)
            console.print("Password changed; logging in with the new password.")
            guard case .authorized = try await provider.logIn(username: username, password: newPassword) else {
                throw AuthError(.passwordChangeRequired, provider: ProfixProvider.providerName,
                                message: "the service still demands a password change")
            }
            report(try await provider.credential(), console: console)
        }
    }

    private static func secretFromEnvironmentOrStdin(_ variable: String, prompt: String) throws -> Secret {
        if let value = Environment.value(variable) { return Secret(value) }
        guard let line = readSecretLine(prompt: prompt), !line.isEmpty else {
            throw UsageError("set \(variable) or type the value on stdin")
        }
        return Secret(line)
    }

    private static func report(_ credential: StoredCredential?, console: Console) {
        guard let credential else {
            console.print("no credential")
            return
        }
        console.print("access token: <redacted>")
        console.print("refresh token: \(credential.refreshToken == nil ? "none" : "<redacted>")")
        console.print("expires: \(credential.expiresAt.map { "\($0)" } ?? "never")")
        console.print("grant: \(credential.attributes["grant"] ?? "?")")
    }

    // MARK: - Demo

    /// The profix part of `accounting-auth demo`: every grant, a rotation and the password change
    /// against ``ProfixSandbox``, on a clock the demo moves.
    static func demo(console: Console) async throws {
        console.print("\n== Profix-it OAuth2 (sandbox) ==")
        let time = Locked(Date())
        let now: @Sendable () -> Date = { time.withLock { $0 } }
        let sandbox = ProfixSandbox(now: now)
        guard let redirect = URL(string: "https://app.example.com/profix/callback") else { return }
        let codeClient = ProfixRegistration(clientID: "b81cc4de-d192-400e-bcb4-09254394c52a", clientSecret: Secret("demo-code-secret"), redirectURI: redirect)
        let serviceClient = ProfixRegistration(clientID: "0d6f6a39-0000-4000-8000-000000000001", clientSecret: Secret("demo-service-secret"), region: .be)
        let passwordClient = ProfixRegistration(clientID: "5e0c1d2b-0000-4000-8000-000000000002", clientSecret: Secret("demo-password-secret"))
        sandbox.registerClient(id: codeClient.clientID, secret: codeClient.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        sandbox.registerClient(id: serviceClient.clientID, secret: serviceClient.clientSecret, grant: .clientCredentials)
        sandbox.registerClient(id: passwordClient.clientID, secret: passwordClient.clientSecret, grant: .password)
        sandbox.addUser(username: "planner@example.com", password: Secret("first-password"), userID: "123", mustChangePassword: true)
        let observer = AuthEventObserver { event in console.detail("event: \(event)") }
        let policy = RetryPolicy(maxAttempts: 3, sleep: { _ in })
        let configuration = ProfixProvider.Configuration(retryPolicy: policy)
        guard let apiURL = URL(string: "https://api.profix-it.nl/api/v1/workorders") else { return }

        console.step("Authorization code: build the URL, let the sandbox 'browser' approve, read the callback")
        let store = InMemoryTokenStore()
        let provider = ProfixProvider(client: codeClient, transport: sandbox, store: store,
                                           key: TokenKey(provider: "profix", account: "demo-code"),
                                           configuration: configuration, observer: observer, now: now)
        let pending = try ProfixAuthorizationRequest(client: codeClient)
        console.detail("authorize at: \(URLDescription(pending.url).text)?client_id=…&redirect_uri=…&state=<redacted>")
        let callback = try sandbox.approve(authorizationURL: pending.url)
        let code = try pending.code(from: callback)
        console.detail("callback carried a code of \(code.byteCount) bytes: <redacted>")
        let first = try await provider.exchange(code: code)
        console.detail("tokens stored: \(first)")

        console.step("An authorized API call")
        let api = AuthorizingTransport(base: sandbox, provider: provider, observer: observer)
        let response = try await api.reply(HTTPRequest(url: apiURL))
        console.detail("HTTP \(response.status) \(response.text)")

        console.step("Ten minutes later: 100 concurrent calls share one refresh, and the refresh token rotates")
        time.withLock { $0 = $0.addingTimeInterval(600) }
        let before = sandbox.counters.refreshes
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await api.reply(HTTPRequest(url: apiURL)).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let second = try await provider.credential()
        console.detail("\(statuses.filter { $0 == 200 }.count) × HTTP 200; /token refreshes: \(sandbox.counters.refreshes - before)")
        if let old = first.refreshToken {
            console.detail("old refresh token still accepted by the service: \(sandbox.accepts(refreshToken: old))")
        }
        console.detail("the new pair was saved before use: \(try await store.load(provider.key) == second)")

        console.step("A revoked refresh token: the provider asks for re-authorization instead of looping")
        sandbox.revokeRefreshTokens()
        time.withLock { $0 = $0.addingTimeInterval(600) }
        do {
            _ = try await api.send(HTTPRequest(url: apiURL))
        } catch let error as AuthError {
            console.detail("→ \(error.code); stored pair kept for inspection: \(try await store.load(provider.key) != nil)")
        }

        console.step("Client credentials: an access token only, re-acquired when it expires")
        let service = ProfixProvider(client: serviceClient, transport: sandbox, configuration: configuration, observer: observer, now: now)
        console.detail("\(try await service.requestClientCredentialsToken())")
        time.withLock { $0 = $0.addingTimeInterval(600) }
        _ = try await service.authorized(HTTPRequest(url: serviceClient.region.baseURL.appendingPathComponent("api/v1/workorders")))
        console.detail("client-credentials grants so far: \(sandbox.counters.clientCredentialsGrants); refreshes used: none")

        console.step("Password grant with a demanded password change")
        let user = ProfixProvider(client: passwordClient, transport: sandbox, configuration: configuration, observer: observer, now: now)
        let outcome = try await user.logIn(username: "planner@example.com", password: Secret("first-password"))
        if case .passwordChangeRequired(let userID) = outcome {
            console.detail("outcome: password change required for user id \(userID)")
        }
        if case .passwordChangeRequired(let userID) = outcome {
            do {
                try await user.changePassword(userID: userID, currentPassword: Secret("wrong"), newPassword: Secret("second-password"))
            } catch let error as AuthError {
                console.detail("wrong current password → \(error.code): \(error.serverMessage ?? "")")
            }
            try await user.changePassword(userID: userID, currentPassword: Secret("first-password"), newPassword: Secret("second-password"))
            console.detail("password changed")
            let again = try await user.logIn(username: "planner@example.com", password: Secret("second-password"))
            if case .authorized(let expiresAt) = again {
                console.detail("logged in again with the new password; token expires \(expiresAt.map { "\($0)" } ?? "never")")
            }
        }
    }
}

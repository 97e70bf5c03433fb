import ArgumentParser
import AuthCore
import Foundation
import HTTPTypes
import ProfixOAuth

/// `accounting-auth profix`: Profix-it OAuth2 from the command line.
struct ProfixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profix",
        abstract: "Profix-it OAuth2: authorization code, client credentials and password grants.",
        discussion: """
        Environment: PROFIX_CLIENT_ID and PROFIX_CLIENT_SECRET (the registered application, required), \
        PROFIX_REDIRECT_URI (authorize-url, exchange; https, or http only to this machine), PROFIX_USERNAME \
        and PROFIX_PASSWORD (login), PROFIX_NEW_PASSWORD (when a change is demanded). Tokens are printed \
        as <redacted>; they live only in the token store.
        """,
        subcommands: [AuthorizeURL.self, Exchange.self, Login.self, ClientCredentials.self, Refresh.self, Call.self]
    )

    /// Which service and which stored credential.
    struct Connection: ParsableArguments {
        @Option(help: ArgumentHelp("Which service: nl (default) or be.", valueName: "nl|be")) var region: String = "nl"
        @Option(help: ArgumentHelp("A local installation or test server instead of a region.", valueName: "url")) var baseURL: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var transport: TransportOptions

        func registration() throws -> ProfixRegistration {
            let region: ProfixRegistration.Region
            if let baseURL {
                region = try .custom(try absoluteURL(baseURL, "--base-url"))
            } else {
                switch self.region {
                case "nl": region = .nl
                case "be": region = .be
                default: throw ValidationError("--region is nl or be (or use --base-url)")
                }
            }
            guard let clientID = Environment.value("PROFIX_CLIENT_ID") else { throw ValidationError("set the environment variable PROFIX_CLIENT_ID") }
            let redirect = try Environment.value("PROFIX_REDIRECT_URI").map { try absoluteURL($0, "PROFIX_REDIRECT_URI") }
            if let redirect, redirect.scheme?.lowercased() == "http" {
                do { try SecureURLPolicy.check(redirect, provider: "profix") } catch {
                    throw ValidationError("PROFIX_REDIRECT_URI must be https (or http to this machine): the code would travel in clear")
                }
            }
            return ProfixRegistration(clientID: clientID, clientSecret: try Environment.secret("PROFIX_CLIENT_SECRET"),
                                      redirectURI: redirect, region: region)
        }

        func provider(_ registration: ProfixRegistration, transport base: (any HTTPTransport)? = nil) throws -> ProfixProvider {
            let console = Console()
            // Several invocations may share the store folder: refreshes rotate under its lock.
            return ProfixProvider(client: registration, transport: base ?? transport.make(), store: try store.store(),
                                  key: TokenKey(provider: ProfixProvider.providerName, account: store.account ?? "default"),
                                  observer: AuthEventObserver { event in console.error("event: \(event)") })
        }
    }

    static let codeArgumentWarning = """
    warning: command-line arguments are visible to other users (ps, shell history), and the \
    authorization code (alone or in the callback URL) is a credential until it is used. Pass - to \
    type it without echo or pipe it on standard input instead.
    """

    struct AuthorizeURL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "authorize-url",
            abstract: "Print the URL to open in a browser, and the state sent with it (on standard error)."
        )
        @Option(help: ArgumentHelp("The state to send (default: 32 random bytes).", valueName: "value")) var state: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let pending = try ProfixAuthorizationRequest(client: try connection.registration(), state: state.map(Secret.init))
                Console().print(pending.url.absoluteString)
                Console().error("state: \(pending.state.revealed)   (pass it to `profix exchange --state`)")
            }
        }
    }

    struct Exchange: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exchange the code from the callback URL (or the code itself) for tokens and store them.",
            discussion: "A code is valid about 3 minutes, once. With --state the callback must carry that state. With - (the default) the callback URL or code is read from the terminal without echo, or from a pipe; prefer that: arguments are visible to other users (ps)."
        )
        @Argument(help: "The callback URL, the code, or - to read it from standard input.") var input: String = "-"
        @Option(help: ArgumentHelp("The state authorize-url printed; the callback must carry it.", valueName: "value")) var state: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let registration = try connection.registration()
                let provider = try connection.provider(registration)
                var text = input
                if text == "-" {
                    guard let line = readSecretLine(prompt: "Callback URL or code: "), !line.isEmpty else { throw ValidationError("nothing read from standard input") }
                    text = line.trimmingCharacters(in: .whitespacesAndNewlines)
                } else {
                    Console().error(ProfixCommand.codeArgumentWarning)
                }
                let code: Secret
                if text.contains("://"), let callback = URL(string: text) {
                    let returned = URLComponents(url: callback, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "state" }?.value
                    if state == nil, returned != nil {
                        Console().error("warning: the callback carries a state but no --state was given to check it against")
                    }
                    let expected = state ?? returned
                    let pending = try ProfixAuthorizationRequest(client: registration, state: expected.map(Secret.init),
                                                                 statePolicy: state == nil ? .verifyIfPresent : .required)
                    code = try pending.code(from: callback)
                } else {
                    code = Secret(text)
                }
                ProfixCommand.report(try await provider.exchange(code: code))
            }
        }
    }

    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Password grant; asks for a new password when the service demands one.",
            discussion: "The password comes from PROFIX_PASSWORD or standard input; a demanded new password from PROFIX_NEW_PASSWORD or standard input."
        )
        @Option(help: ArgumentHelp("The user name; or $PROFIX_USERNAME.", valueName: "name")) var username: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let provider = try connection.provider(try connection.registration())
                guard let username = username ?? Environment.value("PROFIX_USERNAME") else {
                    throw ValidationError("give --username or set PROFIX_USERNAME")
                }
                let password = try secretFromEnvironmentOrInput("PROFIX_PASSWORD", prompt: "Password for \(username): ")
                switch try await provider.logIn(username: username, password: password) {
                case .authorized:
                    ProfixCommand.report(try await provider.credential())
                case .passwordChangeRequired(let userID):
                    Console().print("Profix-it requires a new password for user id \(userID).")
                    let newPassword = try secretFromEnvironmentOrInput("PROFIX_NEW_PASSWORD", prompt: "New password: ")
                    try await provider.changePassword(userID: userID, currentPassword: password, newPassword: newPassword)
                    Console().print("Password changed; logging in with the new password.")
                    guard case .authorized = try await provider.logIn(username: username, password: newPassword) else {
                        throw AuthError(.passwordChangeRequired, provider: ProfixProvider.providerName,
                                        message: "the service still demands a password change")
                    }
                    ProfixCommand.report(try await provider.credential())
                }
            }
        }
    }

    struct ClientCredentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "client-credentials",
            abstract: "Obtain an access token with the client-credentials grant and store it."
        )
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                ProfixCommand.report(try await connection.provider(try connection.registration()).requestClientCredentialsToken())
            }
        }
    }

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refresh the stored credential now (rotates the refresh token).",
            discussion: "A refused refresh is remembered in the store: later runs report that the user must authorize again without presenting the dead refresh token."
        )
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                ProfixCommand.report(try await connection.provider(try connection.registration()).refresh())
            }
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send an authorized request to {base}<path> and print the status and body.",
            discussion: "Refreshes first when needed. A status that is not 2xx (a 404, a 500, an HTML page) exits 1 with the typed error on standard error."
        )
        @Argument(help: "The HTTP method.") var method: String
        @Argument(help: "The path, starting with /.") var path: String
        @OptionGroup var connection: Connection

        func run() async throws {
            try await reporting {
                let registration = try connection.registration()
                guard path.hasPrefix("/"), let url = URL(string: registration.region.baseURL.absoluteString + path) else {
                    throw ValidationError("the path must start with / and form a URL with the base")
                }
                let recorder = ResponseRecorder(base: connection.transport.make())
                let provider = try connection.provider(registration, transport: recorder)
                let client = provider.client(over: recorder)
                let request = HTTPRequest(method: try httpMethod(method), url: url)
                try await callPrinting(Console(), recorder: recorder, send: { try await client.send(request) },
                                       error: ProfixProvider.error(for:body:))
            }
        }
    }

    static func report(_ credential: StoredCredential?) {
        let console = Console()
        guard let credential else {
            console.print("no credential")
            return
        }
        console.print("access token: <redacted>")
        console.print("refresh token: \(credential.refreshToken == nil ? "none" : "<redacted>")")
        console.print("expires: \(credential.expiresAt.map { "\($0)" } ?? "never")")
        console.print("grant: \(credential.attributes["grant"] ?? "?")")
    }
}

public import ArgumentParser
import AuthAsyncHTTPClient
import AuthCore
import Foundation
import HTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `accounting-auth`: get, keep and use credentials for AFAS Profit, Profix-it and e-conomic.
public struct AccountingAuth: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "accounting-auth",
        abstract: "Get, keep and use credentials for AFAS Profit, Profix-it and e-conomic.",
        discussion: """
        Keys, secrets, passwords and tokens come only from environment variables, the token store or a \
        prompt without echo (or a pipe), never from arguments. The one-time code or callback URL of \
        `profit otp-redeem`, `profix exchange` and `economic capture` may be given as an argument for \
        scripts; they then warn on standard error. Prefer `-`, which reads it from standard input.
        Exit codes: 0 success, 1 a typed failure (an AuthError, a non-2xx answer), 64 a usage error.
        """,
        subcommands: [DemoCommand.self, SandboxCommand.self, ProfitCommand.self, ProfixCommand.self, EconomicCommand.self]
    )

    public init() {}
}

// MARK: - Options shared by many subcommands

/// Where credentials are kept.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("store"), help: ArgumentHelp("The token store folder (default $ACCOUNTING_AUTH_STORE, else ~/.accounting-auth).", valueName: "dir"))
    var directory: String?

    @Option(help: ArgumentHelp("The credential's name in the store.", valueName: "name"))
    var account: String?

    /// The store folder: `--store`, else `$ACCOUNTING_AUTH_STORE`, else `~/.accounting-auth`.
    var folder: URL {
        if let path = directory ?? Environment.value("ACCOUNTING_AUTH_STORE") { return URL(fileURLWithPath: path) }
        let home = Environment.value("HOME") ?? FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: home).appendingPathComponent(".accounting-auth")
    }

    func store() throws -> FileTokenStore { try FileTokenStore(directory: folder) }
}

/// Which HTTP client carries the requests.
enum TransportChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case urlsession
    case ahc
}

struct TransportOptions: ParsableArguments {
    @Option(help: "The HTTP client: urlsession (Foundation) or ahc (AsyncHTTPClient).")
    var transport: TransportChoice = .urlsession

    func make() -> any HTTPTransport {
        switch transport {
        case .urlsession: return URLSessionTransport()
        case .ahc: return HTTPClientTransport.shared
        }
    }
}

// MARK: - Console, input and environment

/// Writes to standard output and standard error.
struct Console: Sendable {
    func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints a demo step.
    func step(_ title: String) {
        print("\n▶ \(title)")
    }

    /// Prints a detail line under a step.
    func detail(_ text: String) {
        print("    \(text)")
    }

    /// Prints a response for `call`: the status line, then the body (never a request header).
    func printResponse(_ response: HTTPResponse, body: Data) {
        print("HTTP \(response.status.code)")
        print(String(decoding: body, as: UTF8.self))
    }
}

/// Reads configuration that must not appear on a command line.
enum Environment {
    /// The value of an environment variable, or `nil` when unset or empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A secret from an environment variable, or a usage error naming the variable.
    static func secret(_ name: String) throws -> Secret {
        guard let value = value(name) else { throw ValidationError("set the environment variable \(name)") }
        return Secret(value)
    }
}

/// Whether standard input is a terminal (prompts are shown only then).
var standardInputIsATerminal: Bool { isatty(STDIN_FILENO) == 1 }

/// Reads one line from standard input: from a terminal without echo and after `prompt`, from a
/// pipe or file silently (no prompt text mixed into a script's output).
func readSecretLine(prompt: String) -> String? {
    var original = termios()
    let isTerminal = standardInputIsATerminal && tcgetattr(STDIN_FILENO, &original) == 0
    if isTerminal {
        FileHandle.standardError.write(Data(prompt.utf8))
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
    }
    defer {
        if isTerminal {
            tcsetattr(STDIN_FILENO, TCSANOW, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }
    return Swift.readLine(strippingNewline: true)
}

/// A secret from an environment variable, else from standard input.
func secretFromEnvironmentOrInput(_ variable: String, prompt: String) throws -> Secret {
    if let value = Environment.value(variable) { return Secret(value) }
    guard let line = readSecretLine(prompt: prompt)?.trimmingCharacters(in: .whitespacesAndNewlines), !line.isEmpty else {
        throw ValidationError("set \(variable) or give the value on standard input")
    }
    return Secret(line)
}

/// The HTTP method a user typed.
func httpMethod(_ text: String) throws -> HTTPRequest.Method {
    guard let method = HTTPRequest.Method(text.uppercased()) else { throw ValidationError("'\(text)' is not an HTTP method") }
    return method
}

/// An absolute URL a user typed.
func absoluteURL(_ text: String, _ what: String) throws -> URL {
    guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw ValidationError("\(what) is not an absolute URL") }
    return url
}

// MARK: - Running and reporting

/// Runs a command body: a typed ``AuthError`` is printed (it holds no secret) and exits 1; usage
/// errors go to swift-argument-parser (exit 64).
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as AuthError {
        Console().error("error: \(error)")
        throw ExitCode.failure
    }
}

/// Passes requests to `base` and remembers the last answer, so that `call` can print a 401 or
/// 403 that the provider turned into an error before returning it.
final class ResponseRecorder: HTTPTransport {
    let base: any HTTPTransport
    private let last = Mutex<(HTTPResponse, Data)?>(nil)

    init(base: any HTTPTransport) {
        self.base = base
    }

    var lastResponse: (HTTPResponse, Data)? { last.withLock { $0 } }

    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        let answer = try await base.send(request, body: body)
        last.withLock { $0 = answer }
        return answer
    }
}

/// Sends the request and prints the answer, then throws the typed error for a failed status (a
/// 404, a 500, an HTML page): `call` exits 1 for every answer that is not 2xx. An error thrown
/// after an answer came (a 401 or 403 the provider turned into an error) still prints that answer.
func callPrinting(_ console: Console, recorder: ResponseRecorder, send: () async throws -> (HTTPResponse, Data),
                  error: (HTTPResponse, Data) -> AuthError?) async throws {
    let response: HTTPResponse
    let body: Data
    do {
        (response, body) = try await send()
    } catch {
        if let (answered, answeredBody) = recorder.lastResponse { console.printResponse(answered, body: answeredBody) }
        throw error
    }
    console.printResponse(response, body: body)
    guard response.status.kind == .successful else {
        throw error(response, body) ?? AuthError(.unexpectedStatus, status: response.status.code,
                                                 message: "the service answered HTTP \(response.status.code)")
    }
}

/// A SOAP 1.1 `POST` to `url` with `SOAPAction: "<action>"`; the envelope goes as its body.
func soapRequest(url: URL, action: String) -> HTTPRequest {
    var request = HTTPRequest(method: .post, url: url, headerFields: [.contentType: "text/xml; charset=utf-8"])
    if let soapAction = HTTPField.Name("SOAPAction") { request.headerFields[soapAction] = "\"\(action)\"" }
    return request
}

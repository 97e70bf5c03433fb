import AuthCore
import HTTPTypes
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process exit codes.
enum ExitCode {
    static let ok: Int32 = 0
    /// The command failed (a typed `AuthError`, a bad response).
    static let failure: Int32 = 1
    /// The command line was wrong.
    static let usage: Int32 = 64
}

/// Writes to standard output and standard error.
struct Console: Sendable {
    func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints a numbered demo step.
    func step(_ title: String) {
        print("\n▶ \(title)")
    }

    /// Prints a detail line under a step.
    func detail(_ text: String) {
        print("    \(text)")
    }
}

/// A usage mistake on the command line.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Hand-rolled argument parsing: `--name value`, `--name=value`, `--flag`, and positionals.
struct ParsedArguments {
    private(set) var options: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []

    /// Parses `arguments`; `valueOptions` take a value, `flagOptions` do not. Anything else that
    /// starts with `--` is a usage error.
    init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String> = []) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                positionals.append(contentsOf: arguments[index...])
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                positionals.append(argument)
                continue
            }
            if argument == "-h" || argument == "--help" {
                flags.insert("help")
                continue
            }
            var name = String(argument.drop(while: { $0 == "-" }))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if valueOptions.contains(name) {
                if let inlineValue {
                    options[name] = inlineValue
                } else {
                    guard index < arguments.count else { throw UsageError("option --\(name) needs a value") }
                    options[name] = arguments[index]
                    index += 1
                }
            } else if flagOptions.contains(name), inlineValue == nil {
                flags.insert(name)
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    var wantsHelp: Bool { flags.contains("help") }

    func option(_ name: String) -> String? { options[name] }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The positional at `index`, or a usage error naming `what`.
    func positional(_ index: Int, _ what: String) throws -> String {
        guard index < positionals.count else { throw UsageError("missing \(what)") }
        return positionals[index]
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
        guard let value = value(name) else { throw UsageError("set the environment variable \(name)") }
        return Secret(value)
    }

    /// The token store folder: `--store DIR`, else `$ACCOUNTING_AUTH_STORE`, else
    /// `~/.accounting-auth`.
    static func storeDirectory(_ arguments: ParsedArguments) -> URL {
        if let path = arguments.option("store") ?? value("ACCOUNTING_AUTH_STORE") {
            return URL(fileURLWithPath: path)
        }
        let home = value("HOME") ?? FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: home).appendingPathComponent(".accounting-auth")
    }
}

/// Passes requests to `base` and remembers the last response, so that `call` can print a 401 or
/// 403 that the provider turned into an error before returning it.
final class ResponseRecorder: HTTPTransport {
    let base: any HTTPTransport
    private let last = Locked<Reply?>(nil)

    init(base: any HTTPTransport) {
        self.base = base
    }

    /// The last response received, if any.
    var lastResponse: Reply? { last.withLock { $0 } }

    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        let reply = try await base.reply(request, body: body)
        last.withLock { $0 = reply }
        return reply.pair
    }
}

extension Console {
    /// Prints a response for `call`: the status line, then the body (never a request header).
    func printResponse(_ response: Reply) {
        print("HTTP \(response.status)")
        print(response.text)
    }
}

/// Sends `send`'s request and prints the answer, then throws the typed error for a failed
/// status. An error thrown after an answer came (a 401 or 403 the provider turned into an
/// error) still prints that answer first.
func callPrinting(_ console: Console, recorder: ResponseRecorder, send: () async throws -> (HTTPResponse, Data),
                  error: (HTTPResponse, Data) -> AuthError?) async throws {
    let response: Reply
    do {
        let (head, body) = try await send()
        response = Reply(head, body: body)
    } catch {
        if let answered = recorder.lastResponse { console.printResponse(answered) }
        throw error
    }
    console.printResponse(response)
    if let failure = error(response.response, response.body) { throw failure }
}

/// Runs a subcommand body, turning thrown errors into messages and exit codes.
func runReporting(_ console: Console, usage: String, _ body: () async throws -> Void) async -> Int32 {
    do {
        try await body()
        return ExitCode.ok
    } catch let error as UsageError {
        console.error("error: \(error.description)\n\n\(usage)")
        return ExitCode.usage
    } catch let error as AuthError {
        console.error("error: \(error)")
        return ExitCode.failure
    } catch {
        console.error("error: \(type(of: error))")
        return ExitCode.failure
    }
}

/// Reads a line from standard input without echoing it when it is a terminal.
func readSecretLine(prompt: String) -> String? {
    FileHandle.standardError.write(Data(prompt.utf8))
    var original = termios()
    let isTerminal = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &original) == 0
    if isTerminal {
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

/// The HTTP method a user typed, or a usage error.
func httpMethod(_ text: String) throws -> HTTPRequest.Method {
    guard let method = HTTPRequest.Method(text.uppercased()) else { throw UsageError("'\(text)' is not an HTTP method") }
    return method
}

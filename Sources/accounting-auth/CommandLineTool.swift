import AuthCore

/// The top-level dispatcher of `accounting-auth`.
enum CommandLineTool {
    static let usage = """
    accounting-auth — get, keep and use credentials for AFAS Profit, Profix-it and e-conomic.

    USAGE: accounting-auth <command> [options]

    COMMANDS:
      demo        Run every flow against the built-in sandboxes (no network, no credentials).
      profit      AFAS Profit app-connector tokens (OTP onboarding, authorized calls).
      profix      Profix-it OAuth2 (authorization code, client credentials, password grants).
      economic    e-conomic tokens (requestURL grant flow, REST headers, SOAP session).

    Run `accounting-auth <command> --help` for a command's options.
    Keys, secrets, passwords and tokens come only from environment variables, the token store or a
    no-echo prompt, never from arguments. The one-time code or callback URL of `profit otp-redeem`,
    `profix exchange` and `economic capture` may also be given as an argument (for scripts); they then
    warn on stderr: prefer `-`, which reads it from standard input.
    """

    static func run(_ arguments: [String]) async -> Int32 {
        let console = Console()
        guard let command = arguments.first else {
            console.error(usage)
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "-h", "--help", "help":
            console.print(usage)
            return ExitCode.ok
        case "demo":
            return await DemoCommand.run(rest, console: console)
        case "profit":
            return await ProfitCommand.run(rest, console: console)
        case "profix":
            return await ProfixCommand.run(rest, console: console)
        case "economic":
            return await EconomicCommand.run(rest, console: console)
        default:
            console.error("error: unknown command '\(command)'\n\n\(usage)")
            return ExitCode.usage
        }
    }
}

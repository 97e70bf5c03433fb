import AuthCore

/// `accounting-auth profit`: placeholder until the Profit provider module lands.
enum ProfitCommand {
    static let usage = "USAGE: accounting-auth profit <subcommand> (not available yet)"

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        console.error(usage)
        return ExitCode.usage
    }

    /// The profit part of `accounting-auth demo`; prints nothing until the provider lands.
    static func demo(console: Console) async throws {}
}

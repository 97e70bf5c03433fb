import AuthCore

/// `accounting-auth economic`: placeholder until the Economic provider module lands.
enum EconomicCommand {
    static let usage = "USAGE: accounting-auth economic <subcommand> (not available yet)"

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        console.error(usage)
        return ExitCode.usage
    }

    /// The economic part of `accounting-auth demo`; prints nothing until the provider lands.
    static func demo(console: Console) async throws {}
}

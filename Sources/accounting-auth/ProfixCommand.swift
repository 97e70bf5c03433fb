import AuthCore

/// `accounting-auth profix`: placeholder until the Profix provider module lands.
enum ProfixCommand {
    static let usage = "USAGE: accounting-auth profix <subcommand> (not available yet)"

    static func run(_ arguments: [String], console: Console) async -> Int32 {
        console.error(usage)
        return ExitCode.usage
    }

    /// The profix part of `accounting-auth demo`; prints nothing until the provider lands.
    static func demo(console: Console) async throws {}
}

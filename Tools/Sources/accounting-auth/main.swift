import AccountingAuthCommands
import ArgumentParser

// What `@main` does for an AsyncParsableCommand, written out: the root type lives in the
// commands library so the tests can reach it, and a bare `AccountingAuth.main()` here would pick
// the synchronous overload.
func runAsynchronously<Command: AsyncParsableCommand>(_ command: Command) async throws {
    var command = command
    let run: (inout Command) async throws -> Void = { try await $0.run() }
    try await run(&command)
}

do {
    var command = try await AccountingAuth.asyncParseAsRoot()
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsynchronously(asyncCommand)
    } else {
        try command.run()
    }
} catch {
    AccountingAuth.exit(withError: error)
}

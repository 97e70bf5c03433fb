import ArgumentParser
import AuthCore
import AuthSandboxServer
import Dispatch
import EconomicAuthTesting
import Foundation
import ProfitAuth
import ProfitAuthTesting
import ProfixOAuthTesting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `accounting-auth sandbox`: the three sandboxes over real HTTP on 127.0.0.1.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve the Profit, Profix-it and e-conomic sandboxes over HTTP on 127.0.0.1.",
        subcommands: [Serve.self]
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the three sandboxes until interrupted, and print their base URLs.",
            discussion: """
            Point your app (or this tool's --base-url options) at the printed URLs: nothing leaves the \
            machine and no real credential is needed. With --port P the sandboxes listen on P (Profit), \
            P+1 (Profix-it) and P+2 (e-conomic); without it, on free ports. Stop with Ctrl-C (SIGINT) or SIGTERM.
            """
        )
        @Option(help: ArgumentHelp("The first of three consecutive ports (default: free ports).", valueName: "port")) var port: Int?

        func validate() throws {
            if let port, !(1...65_533).contains(port) { throw ValidationError("--port must be between 1 and 65533") }
        }

        func run() async throws {
            try await reporting {
                let profix = ProfixSandbox()
                SandboxCommand.seed(profix)
                let ports = port.map { (profit: $0, profix: $0 + 1, economic: $0 + 2) } ?? (0, 0, 0)
                let server = try await SandboxServer.start(ports: ports, profix: profix)
                Console().print(SandboxCommand.describe(server))
                // Stop on SIGINT or SIGTERM.
                let stop = { Task { await server.stop() } }
                let sources = [SIGINT, SIGTERM].map { signalNumber -> any DispatchSourceSignal in
                    signal(signalNumber, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                    source.setEventHandler { _ = stop() }
                    source.resume()
                    return source
                }
                try await server.wait()
                sources.forEach { $0.cancel() }
                Console().print("sandbox server stopped")
            }
        }
    }

    /// The Profix-it clients and user the served sandbox knows from the start.
    static let profixClients = (
        code: (id: "sandbox-code-client", secret: "sandbox-code-secret"),
        service: (id: "sandbox-service-client", secret: "sandbox-service-secret"),
        password: (id: "sandbox-password-client", secret: "sandbox-password-secret")
    )

    /// The redirect URI the code client is registered with (your app's callback on this machine).
    static let profixRedirectURI = "http://127.0.0.1:8080/profix/callback"

    static func seed(_ profix: ProfixSandbox) {
        profix.registerClient(id: profixClients.code.id, secret: Secret(profixClients.code.secret), grant: .authorizationCode,
                              redirectURI: URL(string: profixRedirectURI))
        profix.registerClient(id: profixClients.service.id, secret: Secret(profixClients.service.secret), grant: .clientCredentials)
        profix.registerClient(id: profixClients.password.id, secret: Secret(profixClients.password.secret), grant: .password)
        profix.addUser(username: "planner@example.com", password: Secret("sandbox-password"))
    }

    /// What a user needs to point an app at the served sandboxes. These are the sandboxes' own
    /// made-up values, printed on purpose; they open nothing real.
    static func describe(_ server: SandboxServer) -> String {
        """
        Sandboxes on 127.0.0.1 (made-up test values; they open nothing real):

        AFAS Profit   \(server.profitURL.absoluteString)
          REST base:  \(server.profitURL.appendingPathComponent("ProfitRestServices").absoluteString)
          SOAP base:  \(server.profitURL.appendingPathComponent("profitservices").absoluteString)
          keys:       AFAS_API_KEY=\(ProfitSandbox.demoKeys.apiKey.revealed) AFAS_ENVIRONMENT_KEY=\(ProfitSandbox.demoKeys.environmentKey.revealed)
          user:       DavidB (the activation code shows in this server's outbox only)

        Profix-it     \(server.profixURL.absoluteString)   (use --base-url \(server.profixURL.absoluteString))
          authorization code: PROFIX_CLIENT_ID=\(profixClients.code.id) PROFIX_CLIENT_SECRET=\(profixClients.code.secret) PROFIX_REDIRECT_URI=\(profixRedirectURI)
          client credentials: PROFIX_CLIENT_ID=\(profixClients.service.id) PROFIX_CLIENT_SECRET=\(profixClients.service.secret)
          password:           PROFIX_CLIENT_ID=\(profixClients.password.id) PROFIX_CLIENT_SECRET=\(profixClients.password.secret) (user planner@example.com, password sandbox-password)

        e-conomic     \(server.economicURL.absoluteString)   (REST base; SOAP \(server.economicURL.appendingPathComponent("secure/api1/EconomicWebService.asmx").absoluteString))
          grant page: \(server.economicURL.appendingPathComponent("secure/api1/requestaccess.aspx").absoluteString)
          tokens:     ECONOMIC_APP_PUBLIC_TOKEN=\(server.economic.appPublicToken) ECONOMIC_APP_SECRET_TOKEN=\(server.economic.appSecretToken.revealed)

        Press Ctrl-C to stop.
        """
    }
}

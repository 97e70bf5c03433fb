#if Hummingbird
import AuthCore
public import EconomicAuthTesting
public import Foundation
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore
public import ProfitAuthTesting
public import ProfixOAuthTesting
import ServiceLifecycle

/// The three sandboxes (Profit, Profix-it, e-conomic) served over real HTTP on 127.0.0.1, each
/// on its own port, for integration tests and for pointing an app at during development.
///
/// Each sandbox routes on the path as the real service does, so a provider configured with the
/// sandbox's base URL works unchanged, over any transport: REST and SOAP endpoints, and the
/// browser redirects of the Profix-it authorization page and the e-conomic grant page (a `302`
/// to your redirect URI). Nothing leaves the machine, and no credential is needed.
///
/// ```swift
/// let server = try await SandboxServer.start()
/// defer { Task { await server.stop() } }
/// let provider = ProfixProvider(client: registration.with(baseURL: server.profixURL), transport: HTTPClientTransport.shared)
/// ```
///
/// The sandboxes are the server's own (``profit``, ``profix``, ``economic``): seed users and
/// clients on them, read their counters, move their clocks.
public final class SandboxServer: Sendable {
    /// The Profit sandbox, served at ``profitURL``.
    public let profit: ProfitSandbox
    /// The Profix-it sandbox, served at ``profixURL``.
    public let profix: ProfixSandbox
    /// The e-conomic sandbox, served at ``economicURL`` (REST, SOAP and the grant page).
    public let economic: EconomicSandbox
    /// `http://127.0.0.1:<port>` of the Profit sandbox.
    public let profitURL: URL
    /// `http://127.0.0.1:<port>` of the Profix-it sandbox.
    public let profixURL: URL
    /// `http://127.0.0.1:<port>` of the e-conomic sandbox.
    public let economicURL: URL

    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// The largest request body a sandbox accepts.
    static let maxRequestBytes = 1 << 20

    private init(profit: ProfitSandbox, profix: ProfixSandbox, economic: EconomicSandbox,
                 urls: [URL], group: ServiceGroup, running: Task<Void, any Error>) {
        self.profit = profit
        self.profix = profix
        self.economic = economic
        self.profitURL = urls[0]
        self.profixURL = urls[1]
        self.economicURL = urls[2]
        self.group = group
        self.running = running
    }

    /// Starts serving the sandboxes and returns once all three listen.
    ///
    /// - Parameters:
    ///   - ports: The ports for Profit, Profix-it and e-conomic; `0` (the default) picks free ones.
    ///   - profit: The Profit sandbox; default ``ProfitAuthTesting/ProfitSandbox/demo(now:)``
    ///     (``ProfitAuthTesting/ProfitSandbox/demoKeys``, the user `DavidB`).
    ///   - profix: The Profix-it sandbox.
    ///   - economic: The e-conomic sandbox.
    ///   - logger: Where the server logs; default warnings and errors only.
    /// - Throws: ``AuthCore/AuthError/Code/connectionFailed`` when a port cannot be bound.
    public static func start(
        ports: (profit: Int, profix: Int, economic: Int) = (0, 0, 0),
        profit: ProfitSandbox = ProfitSandbox.demo(),
        profix: ProfixSandbox = ProfixSandbox(),
        economic: EconomicSandbox = EconomicSandbox(),
        logger: Logger? = nil
    ) async throws -> SandboxServer {
        let logger = logger ?? {
            var quiet = Logger(label: "accounting-auth.sandbox-server")
            quiet.logLevel = .warning
            return quiet
        }()
        let (bound, announce) = AsyncStream<(Int, Int)>.makeStream()
        let served: [(any HTTPTransport, Int)] = [(profit, ports.profit), (profix, ports.profix), (economic, ports.economic)]
        var services: [any Service] = []
        for (index, (sandbox, port)) in served.enumerated() {
            let responder = CallbackResponder<BasicRequestContext> { request, _ in
                try await serve(request, with: sandbox)
            }
            services.append(Application(
                responder: responder,
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
                onServerRunning: { channel in announce.yield((index, channel.localAddress?.port ?? -1)) },
                logger: logger
            ))
        }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let running = Task { try await group.run() }
        var ports = [Int?](repeating: nil, count: served.count)
        // Wait for all three to listen, or for the group to fail (a port in use).
        let failure = Task {
            do { try await running.value } catch { announce.finish() }
            announce.finish()
        }
        for await (index, port) in bound {
            ports[index] = port
            if ports.allSatisfy({ $0 != nil }) { break }
        }
        failure.cancel()
        let urls = ports.compactMap { $0.flatMap { $0 > 0 ? URL(string: "http://127.0.0.1:\($0)") : nil } }
        guard urls.count == served.count else {
            await group.triggerGracefulShutdown()
            running.cancel()
            throw AuthError(.connectionFailed, message: "the sandbox server could not listen on 127.0.0.1 (ports \(ports.map { $0.map(String.init) ?? "?" }))")
        }
        return SandboxServer(profit: profit, profix: profix, economic: economic, urls: urls, group: group, running: running)
    }

    /// Stops the servers and waits until they are down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    /// Waits until the servers stop (after ``stop()``, or when the task is cancelled).
    public func wait() async throws {
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            running.cancel()
        }
    }

    /// Hands one request to `sandbox` and turns its answer into a response.
    static func serve(_ request: Request, with sandbox: any HTTPTransport) async throws -> Response {
        let body = request.body
        let bytes = try await body.collect(upTo: maxRequestBytes)
        var head = request.head
        head.scheme = "http"
        head.path = request.uri.string
        head.headerFields[.contentLength] = nil
        head.headerFields[.transferEncoding] = nil
        head.headerFields[.connection] = nil
        let (response, data) = try await sandbox.send(head, body: bytes.readableBytes == 0 ? nil : Data(bytes.readableBytesView))
        var fields = response.headerFields
        fields[.contentLength] = nil
        fields[.transferEncoding] = nil
        fields[.connection] = nil
        return Response(status: response.status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
#endif

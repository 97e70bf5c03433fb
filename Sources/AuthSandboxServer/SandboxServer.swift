#if Hummingbird
public import AuthCore
public import EconomicAuthTesting
public import Foundation
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore
public import ProfitAuthTesting
public import ProfixOAuthTesting
import ServiceLifecycle

/// Any ``AuthCore/HTTPTransport`` (a sandbox, a `MockTransport`, your own fake) served over HTTP
/// on 127.0.0.1, so that code under test reaches it through a real socket and a real client.
///
/// ```swift
/// let fake = MockTransport { _ in .json(404, #"{"error":"not_found"}"#) }
/// let server = try await HTTPTransportServer.start(serving: fake)
/// // point the code under test at server.baseURL …
/// await server.stop()
/// ```
///
/// Each request becomes an `HTTPRequest` for `http://<host>:<port><path>` with its header fields
/// and body (at most 1 MiB), and the transport's answer goes back as it is. A transport that throws
/// is answered with `502`.
public final class HTTPTransportServer: Sendable {
    /// `http://127.0.0.1:<port>`.
    public let baseURL: URL
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// The largest request body accepted.
    static let maxRequestBytes = 1 << 20

    private init(baseURL: URL, group: ServiceGroup, running: Task<Void, any Error>) {
        self.baseURL = baseURL
        self.group = group
        self.running = running
    }

    /// Starts serving `transport` and returns once it listens.
    ///
    /// - Parameters:
    ///   - port: The port; `0` (the default) picks a free one.
    ///   - logger: Where the server logs; default warnings and errors only.
    /// - Throws: ``AuthCore/AuthError/Code/connectionFailed`` when the port cannot be bound.
    public static func start(serving transport: any HTTPTransport, port: Int = 0, logger: Logger? = nil) async throws -> HTTPTransportServer {
        let logger = logger ?? {
            var quiet = Logger(label: "accounting-auth.sandbox-server")
            quiet.logLevel = .warning
            return quiet
        }()
        let (bound, announce) = AsyncStream<Int>.makeStream()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await serve(request, with: transport)
        }
        let application = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in
                announce.yield(channel.localAddress?.port ?? -1)
                announce.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        let running = Task { try await group.run() }
        // The group ends early (a port in use): stop waiting for the port.
        let watcher = Task {
            _ = try? await running.value
            announce.finish()
        }
        var listening: Int?
        for await port in bound { listening = port }
        watcher.cancel()
        guard let listening, listening > 0, let url = URL(string: "http://127.0.0.1:\(listening)") else {
            await group.triggerGracefulShutdown()
            running.cancel()
            throw AuthError(.connectionFailed, message: "the server could not listen on 127.0.0.1:\(port)")
        }
        return HTTPTransportServer(baseURL: url, group: group, running: running)
    }

    /// Stops the server and waits until it is down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    /// Waits until the server stops (after ``stop()``, or when the waiting task is cancelled).
    public func wait() async throws {
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            running.cancel()
        }
    }

    /// Hands one request to `transport` and turns its answer into a response.
    static func serve(_ request: Request, with transport: any HTTPTransport) async throws -> Response {
        let bytes = try await request.body.collect(upTo: maxRequestBytes)
        var head = request.head
        head.scheme = "http"
        head.path = request.uri.string
        head.headerFields[.contentLength] = nil
        head.headerFields[.transferEncoding] = nil
        head.headerFields[.connection] = nil
        let answer: (HTTPResponse, Data)
        do {
            answer = try await transport.send(head, body: bytes.readableBytes == 0 ? nil : Data(bytes.readableBytesView))
        } catch {
            return Response(status: .badGateway, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: "the served transport failed\n")))
        }
        var fields = answer.0.headerFields
        fields[.contentLength] = nil
        fields[.transferEncoding] = nil
        fields[.connection] = nil
        return Response(status: answer.0.status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.1)))
    }
}

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
/// let registration = ProfixRegistration(clientID: "app", clientSecret: Secret("s"), region: try .custom(server.profixURL))
/// // … run the app's flows against server.profitURL, server.profixURL, server.economicURL …
/// await server.stop()
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
    public var profitURL: URL { servers[0].baseURL }
    /// `http://127.0.0.1:<port>` of the Profix-it sandbox.
    public var profixURL: URL { servers[1].baseURL }
    /// `http://127.0.0.1:<port>` of the e-conomic sandbox.
    public var economicURL: URL { servers[2].baseURL }

    private let servers: [HTTPTransportServer]

    private init(profit: ProfitSandbox, profix: ProfixSandbox, economic: EconomicSandbox, servers: [HTTPTransportServer]) {
        self.profit = profit
        self.profix = profix
        self.economic = economic
        self.servers = servers
    }

    /// Starts serving the sandboxes and returns once all three listen.
    ///
    /// - Parameters:
    ///   - ports: The ports for Profit, Profix-it and e-conomic; `0` (the default) picks free ones.
    ///   - profit: The Profit sandbox; default ``ProfitAuthTesting/ProfitSandbox/demo(now:)``
    ///     (``ProfitAuthTesting/ProfitSandbox/demoKeys``, the user `DavidB`).
    ///   - profix: The Profix-it sandbox.
    ///   - economic: The e-conomic sandbox.
    ///   - logger: Where the servers log; default warnings and errors only.
    /// - Throws: ``AuthCore/AuthError/Code/connectionFailed`` when a port cannot be bound.
    public static func start(
        ports: (profit: Int, profix: Int, economic: Int) = (0, 0, 0),
        profit: ProfitSandbox = ProfitSandbox.demo(),
        profix: ProfixSandbox = ProfixSandbox(),
        economic: EconomicSandbox = EconomicSandbox(),
        logger: Logger? = nil
    ) async throws -> SandboxServer {
        var servers: [HTTPTransportServer] = []
        do {
            for (sandbox, port) in [(profit as any HTTPTransport, ports.profit), (profix, ports.profix), (economic, ports.economic)] {
                servers.append(try await HTTPTransportServer.start(serving: sandbox, port: port, logger: logger))
            }
        } catch {
            for server in servers { await server.stop() }
            throw error
        }
        return SandboxServer(profit: profit, profix: profix, economic: economic, servers: servers)
    }

    /// Stops the servers and waits until they are down.
    public func stop() async {
        for server in servers { await server.stop() }
    }

    /// Waits until the servers stop (after ``stop()``, or when the waiting task is cancelled).
    public func wait() async throws {
        for server in servers { try await server.wait() }
    }
}
#endif

#if AsyncHTTPClient
public import AsyncHTTPClient
public import AuthCore
public import Foundation
public import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An ``AuthCore/HTTPTransport`` over AsyncHTTPClient's `HTTPClient`, for apps built on SwiftNIO.
///
/// It keeps the promises of ``AuthCore/URLSessionTransport``, so the two are interchangeable:
/// - Redirects are followed by the transport itself, only within the same scheme, host and port
///   (``AuthCore/URLSessionTransport/RedirectPolicy/sameOrigin``, the default) or not at all. A
///   redirect to another host is returned to the caller, so no credential header (`Authorization`,
///   `X-AppSecretToken`, a session cookie, …) ever travels there.
/// - ``Configuration/timeout`` is a total deadline, from sending to the last byte of the body: a
///   server that trickles bytes cannot stretch it.
/// - ``Configuration/maxResponseBytes`` caps the body; a larger announced length fails at once.
/// - Failures become the same ``AuthCore/AuthError`` codes: `connection_failed` (naming host and
///   port), `timeout`, `dns_failure`, `tls_failure`, `cancelled`, `response_too_large`,
///   `transport_failure`.
///
/// ```swift
/// let provider = ProfixProvider(client: registration, transport: HTTPClientTransport.shared)
/// ```
///
/// By default every transport shares one `HTTPClient` that this module creates with redirects
/// disallowed (``sharedClient``). To use your own, create it with
/// `redirectConfiguration: .disallow`: AsyncHTTPClient's own redirect handling drops only
/// `Authorization` and `Cookie` when it leaves the origin, not the other credential headers the
/// providers send. A response that shows the client followed a redirect to another origin fails
/// with ``AuthCore/AuthError/Code/untrustedHost``.
public struct HTTPClientTransport: HTTPTransport {
    /// Options for the transport.
    public struct Configuration: Sendable {
        /// The longest a request may take in all, before it fails with
        /// ``AuthCore/AuthError/Code/timeout``. Default 30 s.
        public var timeout: Duration
        /// The largest response body accepted; `nil` for no cap. Default 8 MiB.
        public var maxResponseBytes: Int?
        /// Which redirects the transport follows. Default `.sameOrigin`.
        public var redirects: URLSessionTransport.RedirectPolicy
        /// How many same-origin redirects are followed before the 3xx is returned. Default 5.
        public var maxRedirects: Int

        /// Creates a configuration; every parameter has the documented default.
        public init(timeout: Duration = .seconds(30), maxResponseBytes: Int? = 8 << 20,
                    redirects: URLSessionTransport.RedirectPolicy = .sameOrigin, maxRedirects: Int = 5) {
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
            self.redirects = redirects
            self.maxRedirects = maxRedirects
        }
    }

    /// The `HTTPClient` every transport uses unless given another: redirects disallowed (the
    /// transport follows them itself), no decompression, a refused connection reported at once
    /// instead of retried until the deadline, up to 32 connections per host, and a 30 s
    /// connection timeout. AsyncHTTPClient applies that timeout also to a request waiting in its
    /// queue for a free connection, so a burst of requests on a busy host is not failed after its
    /// default 10 s while the transport's own deadline still runs. It lives as long as the
    /// process; do not shut it down.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30)),
            decompression: .disabled
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// A transport over ``sharedClient`` with the default configuration.
    public static let shared = HTTPClientTransport()

    /// The client that carries the requests.
    public let client: HTTPClient
    /// The transport's options.
    public let configuration: Configuration

    /// Creates a transport over `client` (default ``sharedClient``).
    ///
    /// - Parameter client: A client created with `redirectConfiguration: .disallow`; the
    ///   transport never shuts it down.
    public init(client: HTTPClient = HTTPClientTransport.sharedClient, configuration: Configuration = .init()) {
        self.client = client
        self.configuration = configuration
    }

    /// Sends `request` with `body` and returns the response head and body.
    ///
    /// - Throws: ``AuthCore/AuthError`` with ``AuthCore/AuthError/Code/invalidRequest`` for a
    ///   request without scheme and authority; ``AuthCore/AuthError/Code/timeout`` past
    ///   ``Configuration/timeout``; ``AuthCore/AuthError/Code/responseTooLarge`` past
    ///   ``Configuration/maxResponseBytes``; ``AuthCore/AuthError/Code/untrustedHost`` when the
    ///   client followed a redirect to another origin; a transport code when no answer came.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        let timeout = configuration.timeout
        let deadline = NIODeadline.now() + TimeAmount.nanoseconds(Self.nanoseconds(timeout))
        // The total deadline: AsyncHTTPClient's own ends when the head arrives. The exchange runs
        // in a task of its own and the caller resumes with the first outcome (the answer, the
        // deadline, its own cancellation) without waiting for the exchange to notice that it was
        // cancelled: a body read slow to notice cannot stretch the deadline (in a task group it
        // could, since a group waits for all its tasks).
        let first = FirstOutcome<(HTTPResponse, Data)>()
        let exchange = Task {
            do {
                first.finish(.success(try await self.exchange(request, body: body, deadline: deadline)))
            } catch {
                first.finish(.failure(error))
            }
        }
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }   // the exchange ended first
            first.finish(.failure(AuthError(.timeout, message: "the request took longer than \(timeout) in all")))
        }
        defer {
            exchange.cancel()
            timer.cancel()
        }
        do {
            return try await withTaskCancellationHandler {
                try await first.value()
            } onCancel: {
                first.finish(.failure(CancellationError()))
            }
        } catch is CancellationError {
            throw AuthError(.cancelled, message: "the request was cancelled")
        }
    }

    /// Sends the request and follows same-origin redirects as the policy allows.
    private func exchange(_ request: HTTPRequest, body: Data?, deadline: NIODeadline) async throws -> (HTTPResponse, Data) {
        var current = request
        var currentBody = body
        var hops = 0
        while true {
            let (response, data) = try await once(current, body: currentBody, deadline: deadline)
            guard configuration.redirects == .sameOrigin, hops < configuration.maxRedirects,
                  [301, 302, 303, 307, 308].contains(response.status.code),
                  let location = response.headerFields[.location],
                  let next = Self.redirect(from: current, to: location) else {
                return (response, data)
            }
            hops += 1
            // 303, and 301/302 after anything but GET or HEAD, become a GET without a body.
            if response.status.code == 303 || ([301, 302].contains(response.status.code) && current.method != .get && current.method != .head) {
                var get = next
                get.method = .get
                get.headerFields[.contentType] = nil
                get.headerFields[.contentLength] = nil
                current = get
                currentBody = nil
            } else {
                current = next
            }
        }
    }

    /// One request and its collected body.
    private func once(_ request: HTTPRequest, body: Data?, deadline: NIODeadline) async throws -> (HTTPResponse, Data) {
        guard let scheme = request.scheme, let authority = request.authority else {
            throw AuthError(.invalidRequest, message: "the request has no scheme and authority")
        }
        var outgoing = HTTPClientRequest(url: "\(scheme)://\(authority)\(request.path ?? "/")")
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headerFields where field.name != .contentLength {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let body { outgoing.body = .bytes(body) }
        do {
            let response = try await client.execute(outgoing, deadline: deadline)
            if response.history.count > 1, let first = response.history.first.flatMap({ URL(string: $0.request.url) }),
               let last = response.url, !first.hasSameOrigin(as: last) {
                throw AuthError(.untrustedHost, message: "the HTTPClient followed a redirect to another origin; create it with redirectConfiguration: .disallow")
            }
            let buffer = try await response.body.collect(upTo: configuration.maxResponseBytes ?? Int.max)
            var fields = HTTPFields()
            for header in response.headers {
                guard let name = HTTPField.Name(header.name) else { continue }
                fields.append(HTTPField(name: name, value: header.value))
            }
            let head = HTTPResponse(status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                                    headerFields: fields)
            return (head, Data(buffer.readableBytesView))
        } catch {
            throw Self.map(error, host: request.authority ?? "?")
        }
    }

    /// Maps an AsyncHTTPClient or SwiftNIO error to an ``AuthCore/AuthError``.
    static func map(_ error: any Error, host: String) -> AuthError {
        switch error {
        case let error as AuthError:
            return error
        case is CancellationError:
            return AuthError(.cancelled, message: "the request was cancelled")
        case is NIOTooManyBytesError:
            return AuthError(.responseTooLarge, message: "the response body passed the cap")
        case let error as NIOConnectionError:
            if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
                return AuthError(.dnsFailure, message: "could not resolve \(error.host)")
            }
            return AuthError(.connectionFailed, message: "could not connect to \(error.host):\(error.port)")
        case is SocketAddressError, is SocketAddressError.UnknownHost:
            return AuthError(.dnsFailure, message: "could not resolve \(host)")
        case is IOError:
            return AuthError(.connectionFailed, message: "the connection to \(host) failed")
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            return AuthError(.tlsFailure, message: "the TLS connection to \(host) failed")
        case let error as ChannelError:
            if case .connectTimeout = error { return AuthError(.timeout, message: "connecting to \(host) timed out") }
            return AuthError(.connectionFailed, message: "the connection to \(host) failed")
        case let error as HTTPClientError:
            switch error {
            case .getConnectionFromPoolTimeout:
                return AuthError(.timeout, message: "no connection to \(host) became free in time (AsyncHTTPClient's connection timeout)")
            case .connectTimeout:
                return AuthError(.timeout, message: "connecting to \(host) timed out")
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return AuthError(.timeout, message: "the request to \(host) timed out")
            case .tlsHandshakeTimeout:
                return AuthError(.tlsFailure, message: "the TLS handshake with \(host) timed out")
            case .remoteConnectionClosed:
                return AuthError(.connectionFailed, message: "\(host) closed the connection")
            case .cancelled:
                return AuthError(.cancelled, message: "the request was cancelled")
            default:
                return AuthError(.transportFailure, message: "AsyncHTTPClient failed: \(error.shortDescription)")
            }
        default:
            return AuthError(.transportFailure, message: "the transport failed (\(type(of: error)))")
        }
    }

    /// `location` resolved against `request`'s URL, when it stays on the same origin.
    static func redirect(from request: HTTPRequest, to location: String) -> HTTPRequest? {
        guard let scheme = request.scheme, let authority = request.authority,
              let base = URL(string: "\(scheme)://\(authority)\(request.path ?? "/")"),
              let target = URL(string: location, relativeTo: base)?.absoluteURL,
              base.hasSameOrigin(as: target) else { return nil }
        var next = request
        next.path = target.path.isEmpty ? "/" : target.path + (target.query.map { "?\($0)" } ?? "")
        return next
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

extension HTTPClientError {
    /// The error's name without its details (which may hold a URL).
    fileprivate var shortDescription: String {
        String(description.prefix { $0 != ":" && $0 != "(" })
    }
}
/// The first of several outcomes, for one waiter: the others are dropped.
private final class FirstOutcome<Value: Sendable>: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<Value, any Error>)
        case finished(Result<Value, any Error>)
        case delivered
    }

    private let state = Mutex(State.pending)

    /// Delivers `result` unless an outcome came first.
    func finish(_ result: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            switch state {
            case .pending:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .delivered
                return continuation
            case .finished, .delivered:
                return nil
            }
        }
        waiter?.resume(with: result)
    }

    /// The first outcome, once there is one.
    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Value, any Error>? in
                guard case .finished(let result) = state else {
                    state = .waiting(continuation)
                    return nil
                }
                state = .delivered
                return result
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
#endif

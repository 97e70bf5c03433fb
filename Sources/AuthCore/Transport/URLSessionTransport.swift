public import Foundation
public import HTTPTypes
import HTTPTypesFoundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An ``HTTPTransport`` built on Foundation's `URLSession`, with no dependencies.
///
/// It is set up for sending credentials safely:
/// - No cookies are stored or replayed, and nothing is cached.
/// - Redirects are followed only within the same scheme, host and port
///   (``RedirectPolicy/sameOrigin``, the default) or not at all (``RedirectPolicy/none``). A
///   redirect to another host is never followed, so an `Authorization` header cannot travel
///   there; the 3xx response is returned to the caller instead.
/// - Each request has a timeout (``Configuration/timeout``, or ``HTTPRequest/timeout``).
/// - The body can be capped (``Configuration/maxResponseBytes``); a larger one fails with
///   ``AuthError/Code/responseTooLarge`` as soon as the cap is passed.
/// - Failures become ``AuthError`` codes: ``AuthError/Code/connectionFailed``,
///   ``AuthError/Code/timeout``, ``AuthError/Code/dnsFailure``, ``AuthError/Code/tlsFailure``,
///   ``AuthError/Code/cancelled``, ``AuthError/Code/transportFailure``.
///
/// Create one transport and share it: each owns a `URLSession`.
public final class URLSessionTransport: HTTPTransport {
    /// Which redirects the transport follows.
    public struct RedirectPolicy: Sendable, Equatable {
        let followsSameOrigin: Bool
        /// Follow none: every 3xx is returned as it is.
        public static let none = RedirectPolicy(followsSameOrigin: false)
        /// Follow redirects that stay on the same scheme, host and port; return the others.
        public static let sameOrigin = RedirectPolicy(followsSameOrigin: true)
    }

    /// Options for the transport.
    public struct Configuration: Sendable {
        /// The longest a request may take in all, from sending to the last byte of the body, before
        /// it fails with ``AuthError/Code/timeout``. A server that trickles bytes cannot stretch it
        /// (URLSession's own timeout only measures silence). Default 30 s.
        public var timeout: Duration = .seconds(30)
        /// The largest response body accepted; `nil` for no cap. Default 8 MiB.
        public var maxResponseBytes: Int? = 8 << 20
        /// Which redirects are followed. Default ``RedirectPolicy/sameOrigin``.
        public var redirects: RedirectPolicy = .sameOrigin
        /// Creates a configuration; every parameter has the documented default.
        public init(timeout: Duration = .seconds(30), maxResponseBytes: Int? = 8 << 20, redirects: RedirectPolicy = .sameOrigin) {
            self.timeout = timeout
            self.maxResponseBytes = maxResponseBytes
            self.redirects = redirects
        }
    }

    /// One transport with the default configuration, shared by every client that does not bring
    /// its own (a `URLSession` per client would waste connections).
    public static let shared = URLSessionTransport()

    private let session: URLSession
    private let delegate: SessionDelegate
    private let configuration: Configuration

    /// Creates a transport with its own `URLSession`.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.httpCookieAcceptPolicy = .never
        sessionConfiguration.httpShouldSetCookies = false
        sessionConfiguration.httpCookieStorage = nil
        sessionConfiguration.urlCache = nil
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.timeoutIntervalForRequest = Self.foundationTimeout(for: configuration.timeout)
        self.delegate = SessionDelegate(redirects: configuration.redirects)
        self.session = URLSession(configuration: sessionConfiguration, delegate: delegate, delegateQueue: nil)
    }

    deinit {
        session.invalidateAndCancel()
    }

    /// Sends `request` with `body` and returns the response and its body.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidRequest`` for a request without a URL
    ///   Foundation can send; ``AuthError/Code/timeout`` when the whole exchange takes longer than
    ///   ``Configuration/timeout``; ``AuthError/Code/responseTooLarge`` past
    ///   ``Configuration/maxResponseBytes``; ``AuthError/Code/connectionFailed``,
    ///   ``AuthError/Code/dnsFailure``, ``AuthError/Code/tlsFailure``, ``AuthError/Code/cancelled``
    ///   or ``AuthError/Code/transportFailure`` when no answer came.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        guard var urlRequest = URLRequest(httpRequest: try Self.reachable(request)) else {
            throw AuthError(.invalidRequest, message: "the request has no URL Foundation can send")
        }
        urlRequest.httpShouldHandleCookies = false
        urlRequest.timeoutInterval = Self.foundationTimeout(for: configuration.timeout)
        urlRequest.httpBody = body

        let task = session.dataTask(with: urlRequest)
        let limit = configuration.maxResponseBytes
        let timeout = configuration.timeout
        let delegate = self.delegate
        // The total deadline: URLSession's timeout restarts whenever a byte arrives. A Dispatch
        // timer, not a sleeping task, so it fires on time even when the app keeps every thread
        // of Swift's cooperative pool busy.
        let deadline = DispatchWorkItem { delegate.expire(task: task, after: timeout) }
        let (seconds, attoseconds) = timeout.components
        DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18, execute: deadline)
        defer { deadline.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(HTTPResponse, Data), any Error>) in
                delegate.register(task: task, continuation: continuation, limit: limit, url: request.url)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// `request` as FoundationNetworking can send it. On Linux it refuses every IPv6 literal
    /// (`http://[::1]:8080` fails as a "bad URL"): the loopback literal goes to `localhost`
    /// instead (which resolves to `::1` and `127.0.0.1`); any other literal is a typed error.
    static func reachable(_ request: HTTPRequest) throws(AuthError) -> HTTPRequest {
        #if canImport(FoundationNetworking)
        guard let authority = request.authority, authority.hasPrefix("["), let close = authority.firstIndex(of: "]") else { return request }
        let host = authority[authority.index(after: authority.startIndex)..<close].lowercased()
        guard host == "::1" || host == "0:0:0:0:0:0:0:1" else {
            throw AuthError(.invalidRequest, message: "URLSession on Linux cannot connect to an IPv6 literal address (\(authority)); use a host name, or HTTPClientTransport")
        }
        var rewritten = request
        rewritten.authority = "localhost" + authority[authority.index(after: close)...]
        return rewritten
        #else
        return request
        #endif
    }

    /// URLSession's own timeout, set past the transport's deadline so that only the deadline
    /// fires: FoundationNetworking on Linux truncates a timeout to whole seconds (300 ms would
    /// fire at once, 1.5 s at 1 s, while the server still works on the request), and restarts it
    /// whenever a byte arrives.
    static func foundationTimeout(for timeout: Duration) -> TimeInterval {
        (max(0, timeout.timeInterval)).rounded(.up) + 2
    }

    /// Maps a Foundation networking error to an ``AuthError`` whose message names the host and
    /// port the request went to (never its path or query).
    static func map(_ error: any Error, url: URL? = nil) -> AuthError {
        let target = url.flatMap { url in
            url.host.map { host in " (\(host.contains(":") ? "[\(host)]" : host)\(url.port.map { ":\($0)" } ?? ""))" }
        } ?? ""
        let nsError = error as NSError
        let detail = TransportFailure(domain: nsError.domain, code: nsError.code)
        guard nsError.domain == NSURLErrorDomain else {
            return AuthError(.transportFailure, message: "transport error \(nsError.domain) \(nsError.code)\(target)", underlying: detail)
        }
        let code: AuthError.Code
        switch URLError.Code(rawValue: nsError.code) {
        case .timedOut:
            code = .timeout
        case .cannotConnectToHost, .networkConnectionLost, .notConnectedToInternet, .resourceUnavailable:
            code = .connectionFailed
        case .cannotFindHost, .dnsLookupFailed:
            code = .dnsFailure
        case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
             .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid, .clientCertificateRejected,
             .clientCertificateRequired:
            code = .tlsFailure
        case .cancelled:
            code = .cancelled
        default:
            code = .transportFailure
        }
        let what: String
        switch code {
        case .timeout: what = "the request timed out"
        case .connectionFailed: what = "could not connect"
        case .dnsFailure: what = "could not resolve the host"
        case .tlsFailure: what = "the TLS connection failed"
        case .cancelled: what = "the request was cancelled"
        default: what = "the request failed"
        }
        return AuthError(code, message: "\(what)\(target): URLSession error \(nsError.code)", underlying: detail)
    }
}

/// The domain and code of a transport failure, kept as the ``AuthError/underlying`` error.
public struct TransportFailure: Error, Sendable, Equatable {
    /// The error domain (`NSURLErrorDomain`, ...).
    public let domain: String
    /// The error code within the domain.
    public let code: Int
}

/// Collects each task's response and body and resumes its continuation when the task ends.
private final class SessionDelegate: NSObject, URLSessionDataDelegate, Sendable {
    private struct Pending {
        var continuation: CheckedContinuation<(HTTPResponse, Data), any Error>
        var limit: Int?
        /// The URL the caller asked for, named in error messages.
        var url: URL?
        var body = Data()
        var failure: AuthError?
    }

    private let pending = Locked<[Int: Pending]>([:])
    private let redirects: URLSessionTransport.RedirectPolicy

    init(redirects: URLSessionTransport.RedirectPolicy) {
        self.redirects = redirects
    }

    func register(task: URLSessionTask, continuation: CheckedContinuation<(HTTPResponse, Data), any Error>, limit: Int?, url: URL?) {
        pending.withLock { $0[task.taskIdentifier] = Pending(continuation: continuation, limit: limit, url: url) }
    }

    /// Ends a task that ran past its total deadline; it completes with ``AuthError/Code/timeout``.
    func expire(task: URLSessionTask, after timeout: Duration) {
        let expired = pending.withLock { state -> Bool in
            guard state[task.taskIdentifier] != nil, state[task.taskIdentifier]?.failure == nil else { return false }
            state[task.taskIdentifier]?.failure = AuthError(.timeout, message: "the request took longer than \(timeout) in all")
            return true
        }
        if expired { task.cancel() }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse, completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let expected = response.expectedContentLength
        let tooLarge = pending.withLock { state -> Bool in
            guard let limit = state[dataTask.taskIdentifier]?.limit, expected > Int64(limit) else { return false }
            state[dataTask.taskIdentifier]?.failure = AuthError(.responseTooLarge, message: "the response announced \(expected) bytes; the cap is \(limit)")
            return true
        }
        completionHandler(tooLarge ? .cancel : .allow)
        // FoundationNetworking on Linux does not end the task on `.cancel` until the server closes
        // the connection (a stalling server would hold it until the deadline): cancel it outright.
        if tooLarge { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let exceeded = pending.withLock { state -> Bool in
            guard var entry = state[dataTask.taskIdentifier], entry.failure == nil else { return false }
            entry.body.append(data)
            var over = false
            if let limit = entry.limit, entry.body.count > limit {
                entry.failure = AuthError(.responseTooLarge, message: "the response body passed the cap of \(limit) bytes")
                entry.body = Data()
                over = true
            }
            state[dataTask.taskIdentifier] = entry
            return over
        }
        if exceeded { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        guard redirects.followsSameOrigin,
              let from = task.originalRequest?.url, let to = request.url,
              from.hasSameOrigin(as: to) else {
            completionHandler(nil)
            return
        }
        completionHandler(request)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let entry = pending.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let failure = entry.failure {
            entry.continuation.resume(throwing: failure)
            return
        }
        if let error {
            entry.continuation.resume(throwing: URLSessionTransport.map(error, url: entry.url ?? task.originalRequest?.url))
            return
        }
        guard let http = task.response as? HTTPURLResponse, let response = http.httpResponse else {
            entry.continuation.resume(throwing: AuthError(.transportFailure, message: "the response is not HTTP"))
            return
        }
        entry.continuation.resume(returning: (response, entry.body))
    }

}

extension URL {
    /// Whether `other` has the same scheme, host and port (the default port of `http` and `https`
    /// when none is written): the only redirects the SDK's transports follow.
    package func hasSameOrigin(as other: URL) -> Bool {
        func port(_ url: URL) -> Int? {
            url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil)
        }
        return scheme?.lowercased() == other.scheme?.lowercased()
            && host?.lowercased() == other.host?.lowercased()
            && port(self) == port(other)
    }
}

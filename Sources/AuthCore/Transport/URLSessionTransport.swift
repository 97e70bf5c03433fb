import Foundation
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
        /// Creates the default configuration.
        public init() {}
    }

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

    /// Sends `request`.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidRequest`` for a header or method that
    ///   would inject another header, or a transport code when no response arrived.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.headers.isWellFormed else {
            throw AuthError(.invalidRequest, message: "a header name is invalid or a header value holds CR, LF or NUL")
        }
        guard request.method.isValid else {
            throw AuthError(.invalidRequest, message: "the HTTP method is not a valid token")
        }
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method.rawValue
        urlRequest.httpShouldHandleCookies = false
        urlRequest.timeoutInterval = Self.foundationTimeout(for: request.timeout ?? configuration.timeout)
        for field in request.headers {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name.rawName)
        }
        urlRequest.httpBody = request.body

        let task = session.dataTask(with: urlRequest)
        let limit = configuration.maxResponseBytes
        let timeout = request.timeout ?? configuration.timeout
        let delegate = self.delegate
        // The total deadline: URLSession's timeout restarts whenever a byte arrives.
        let deadline = Task {
            try await Task.sleep(for: timeout)
            delegate.expire(task: task, after: timeout)
        }
        defer { deadline.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                delegate.register(task: task, continuation: continuation, limit: limit)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// Maps a Foundation networking error to an ``AuthError``.
    /// URLSession's own timeout, set past the transport's deadline so that only the deadline
    /// fires: FoundationNetworking on Linux truncates a timeout to whole seconds (300 ms would
    /// fire at once, 1.5 s at 1 s, while the server still works on the request), and restarts it
    /// whenever a byte arrives.
    static func foundationTimeout(for timeout: Duration) -> TimeInterval {
        (max(0, timeout.timeInterval)).rounded(.up) + 2
    }

    static func map(_ error: any Error) -> AuthError {
        let nsError = error as NSError
        let detail = TransportFailure(domain: nsError.domain, code: nsError.code)
        guard nsError.domain == NSURLErrorDomain else {
            return AuthError(.transportFailure, message: "transport error \(nsError.domain) \(nsError.code)", underlying: detail)
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
        return AuthError(code, message: "URLSession error \(nsError.code)", underlying: detail)
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
        var continuation: CheckedContinuation<HTTPResponse, any Error>
        var limit: Int?
        var body = Data()
        var failure: AuthError?
    }

    private let pending = Locked<[Int: Pending]>([:])
    private let redirects: URLSessionTransport.RedirectPolicy

    init(redirects: URLSessionTransport.RedirectPolicy) {
        self.redirects = redirects
    }

    func register(task: URLSessionTask, continuation: CheckedContinuation<HTTPResponse, any Error>, limit: Int?) {
        pending.withLock { $0[task.taskIdentifier] = Pending(continuation: continuation, limit: limit) }
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
              Self.sameOrigin(from, to) else {
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
            entry.continuation.resume(throwing: URLSessionTransport.map(error))
            return
        }
        guard let http = task.response as? HTTPURLResponse else {
            entry.continuation.resume(throwing: AuthError(.transportFailure, message: "the response is not HTTP"))
            return
        }
        var headers = HTTPHeaders()
        for (name, value) in http.allHeaderFields {
            guard let name = name as? String else { continue }
            headers.add(HTTPHeaders.Name(name), "\(value)")
        }
        entry.continuation.resume(returning: HTTPResponse(status: http.statusCode, headers: headers, body: entry.body))
    }

    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func port(_ url: URL) -> Int? {
            url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil)
        }
        return a.scheme?.lowercased() == b.scheme?.lowercased()
            && a.host?.lowercased() == b.host?.lowercased()
            && port(a) == port(b)
    }
}

#if OpenAPI
public import AuthCore
public import Foundation
public import HTTPTypes
public import OpenAPIRuntime

/// A swift-openapi `ClientMiddleware` that authorizes every request of a generated client through
/// a ``CredentialProvider`` and recovers once from a 401 or 403.
///
/// ```swift
/// let client = Client(serverURL: try Servers.Server1.url(), transport: URLSessionTransport(),
///                     middlewares: [CredentialMiddleware(provider: profix)])
/// ```
///
/// Each request is authorized as the absolute URL it goes to (the client's base URL and the
/// operation's path), so the provider's host and `https` checks apply as they do for
/// ``AuthorizingTransport``; a URL that may not carry credentials fails with
/// ``AuthError/Code/insecureURL`` or ``AuthError/Code/untrustedHost`` before anything is sent.
///
/// When the service answers 401 or 403, the provider is asked to
/// ``CredentialProvider/recover(from:body:to:)`` (a Profix-it provider refreshes) and, if it
/// obtained new credentials, the request is authorized and sent exactly once more. That needs the
/// request body twice: a body that can be iterated more than once is reused; one that can be read
/// once is buffered first when its length is known and at most ``maxReplayableBodyBytes``. A
/// streamed body that cannot be replayed is sent once and its rejection returned as it is, and the
/// middleware says so through the observer (``AuthEvent/notRetriedAfterRejection(provider:status:)``).
///
/// The rejection that is not recovered is returned, not thrown, so the generated client reports
/// it as the operation's documented (or undocumented) response; the 401/403 body handed back is
/// the one the provider read.
public struct CredentialMiddleware: ClientMiddleware {
    /// The provider that adds credentials and recovers from rejections.
    public let provider: any CredentialProvider
    /// The largest single-pass request body buffered so the request can be retried. Default 1 MiB.
    public let maxReplayableBodyBytes: Int
    /// The largest rejection body read to give to the provider. Default 64 KiB.
    public let maxRejectionBodyBytes: Int
    private let observer: AuthEventObserver?

    /// Creates a middleware.
    ///
    /// - Parameters:
    ///   - provider: Any provider: `ProfixProvider`, `ProfitProvider`, `EconomicProvider`, or yours.
    ///   - maxReplayableBodyBytes: The largest single-pass body buffered for a retry (default 1 MiB).
    ///   - maxRejectionBodyBytes: The largest 401/403 body read for the provider (default 64 KiB).
    ///   - observer: Receives ``AuthEvent/retriedAfterRejection(provider:status:)`` and
    ///     ``AuthEvent/notRetriedAfterRejection(provider:status:)``.
    public init(provider: any CredentialProvider, maxReplayableBodyBytes: Int = 1 << 20,
                maxRejectionBodyBytes: Int = 64 << 10, observer: AuthEventObserver? = nil) {
        self.provider = provider
        self.maxReplayableBodyBytes = maxReplayableBodyBytes
        self.maxRejectionBodyBytes = maxRejectionBodyBytes
        self.observer = observer
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (body, replayable) = try await replayableBody(body)
        let first = try await authorized(request, baseURL: baseURL)
        let (response, responseBody) = try await next(first, body, baseURL)
        guard response.status == .unauthorized || response.status == .forbidden else { return (response, responseBody) }

        let rejection = try await collect(responseBody)
        guard try await provider.recover(from: response, body: rejection, to: try Self.absoluteRequest(first, baseURL: baseURL)) else {
            return (response, HTTPBody(rejection))
        }
        guard replayable else {
            observer?.receive(.notRetriedAfterRejection(provider: provider.name, status: response.status.code))
            return (response, HTTPBody(rejection))
        }
        observer?.receive(.retriedAfterRejection(provider: provider.name, status: response.status.code))
        let second = try await authorized(request, baseURL: baseURL)
        return try await next(second, body, baseURL)
    }

    // MARK: - Parts

    /// `request` with the provider's header fields, authorized as the absolute URL it goes to.
    private func authorized(_ request: HTTPRequest, baseURL: URL) async throws -> HTTPRequest {
        var absolute = try Self.absoluteRequest(request, baseURL: baseURL)
        let name = provider.name
        try SecureURLPolicy.check(absolute, provider: name)
        try await provider.authorize(&absolute)
        try SecureURLPolicy.check(absolute, provider: name)
        var authorized = request
        authorized.headerFields = absolute.headerFields
        return authorized
    }

    /// The body to send (twice if need be), and whether it can be sent twice.
    private func replayableBody(_ body: HTTPBody?) async throws -> (HTTPBody?, Bool) {
        guard let body else { return (nil, true) }
        if body.iterationBehavior == .multiple { return (body, true) }
        guard case .known(let length) = body.length, length <= Int64(maxReplayableBodyBytes) else { return (body, false) }
        let bytes = try await Data(collecting: body, upTo: maxReplayableBodyBytes)
        return (HTTPBody(bytes), true)
    }

    /// The rejection's body, up to ``maxRejectionBodyBytes``; a larger one is
    /// ``AuthError/Code/responseTooLarge``, and any other failure while reading passes through.
    private func collect(_ body: HTTPBody?) async throws -> Data {
        guard let body else { return Data() }
        var data = Data()
        for try await chunk in body {
            guard data.count + chunk.count <= maxRejectionBodyBytes else {
                throw AuthError(.responseTooLarge, provider: provider.name,
                                message: "a rejection's body is larger than \(maxRejectionBodyBytes) bytes")
            }
            data.append(contentsOf: chunk)
        }
        return data
    }

    /// The request with the base URL's scheme, authority and path prefix.
    static func absoluteRequest(_ request: HTTPRequest, baseURL: URL) throws -> HTTPRequest {
        guard let url = absolute(request, baseURL: baseURL) else {
            throw AuthError(.invalidRequest, message: "the base URL and the operation's path do not make a URL")
        }
        var absolute = HTTPRequest(method: request.method, url: url, headerFields: request.headerFields)
        absolute.extendedConnectProtocol = request.extendedConnectProtocol
        return absolute
    }

    static func absolute(_ request: HTTPRequest, baseURL: URL) -> URL? {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let path = request.path ?? ""
        return URL(string: base + (path.hasPrefix("/") || path.isEmpty ? path : "/" + path))
    }
}
#endif

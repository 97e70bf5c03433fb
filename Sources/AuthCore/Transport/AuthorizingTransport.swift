/// A transport that adds credentials to every request and recovers once from a rejection.
///
/// It checks that the URL may carry credentials (``SecureURLPolicy``), asks the provider to
/// authorize a copy of the request, and sends it through the base transport. When the service
/// answers 401 or 403 it asks the provider to ``CredentialProvider/recover(from:to:)``; if the
/// provider obtained new credentials the request is authorized and sent exactly once more. A
/// rejection that is not recovered, or a second rejection, becomes an ``AuthError``:
/// ``AuthError/Code/invalidCredentials`` for 401 and ``AuthError/Code/forbidden`` for 403.
///
/// ```swift
/// let client = AuthorizingTransport(base: URLSessionTransport(), provider: provider)
/// let response = try await client.send(HTTPRequest(url: url))
/// ```
public struct AuthorizingTransport<Base: HTTPTransport, Provider: CredentialProvider>: HTTPTransport {
    /// The transport that moves the bytes.
    public let base: Base
    /// The provider that adds credentials.
    public let provider: Provider
    private let observer: AuthEventObserver?
    private var providerName: String { provider.name }

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - base: The transport that sends the authorized requests.
    ///   - provider: The provider that adds credentials and recovers from rejections.
    ///   - observer: Receives ``AuthEvent/retriedAfterRejection(provider:status:)``.
    ///
    /// Errors and events name the provider by its ``CredentialProvider/name``.
    public init(base: Base, provider: Provider, observer: AuthEventObserver? = nil) {
        self.base = base
        self.provider = provider
        self.observer = observer
    }

    /// Sends `request` with credentials, recovering at most once from 401/403.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/insecureURL`` before sending to a URL that
    ///   may not carry credentials; ``AuthError/Code/invalidCredentials`` or
    ///   ``AuthError/Code/forbidden`` after an unrecovered rejection; whatever the provider or the
    ///   base transport throws.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try SecureURLPolicy.check(request.url, provider: providerName)
        let first = try await provider.authorize(request)
        try checkAuthorized(first)
        let response = try await base.send(first)
        guard Self.isRejection(response.status) else { return response }

        guard try await provider.recover(from: response, to: first) else {
            throw rejection(response, afterRetry: false)
        }
        observer?.receive(.retriedAfterRejection(provider: providerName, status: response.status))
        let second = try await provider.authorize(request)
        try checkAuthorized(second)
        let retried = try await base.send(second)
        if Self.isRejection(retried.status) {
            throw rejection(retried, afterRetry: true)
        }
        return retried
    }

    /// What the provider returned must still go to a URL that may carry credentials, and carry
    /// no header a line break could split: any transport, not only ``URLSessionTransport``, then
    /// gets only well-formed headers.
    private func checkAuthorized(_ request: HTTPRequest) throws(AuthError) {
        try SecureURLPolicy.check(request.url, provider: providerName)
        guard request.method.isValid, request.headers.isWellFormed else {
            throw AuthError(.invalidRequest, provider: providerName,
                            message: "the authorized request has a malformed method, header name or header value (CR, LF or NUL)")
        }
    }

    static func isRejection(_ status: Int) -> Bool { status == 401 || status == 403 }

    private func rejection(_ response: HTTPResponse, afterRetry: Bool) -> AuthError {
        let code: AuthError.Code = response.status == 403 ? .forbidden : .invalidCredentials
        let message = afterRetry
            ? "the service rejected the request again after new credentials were obtained"
            : "the service rejected the credentials"
        return AuthError(code, provider: providerName, status: response.status, message: message)
    }
}

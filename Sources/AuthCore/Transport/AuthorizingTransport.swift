public import Foundation
public import HTTPTypes

/// A transport that adds credentials to every request and recovers once from a rejection,
/// generic over its base transport and provider (see ``AuthorizedClient`` for the form an app
/// keeps in a property).
///
/// It checks that the request's URL may carry credentials (``SecureURLPolicy``), asks the provider
/// to authorize a copy, checks the copy's URL again, and sends it through the base transport; for
/// the SDK's providers, which refuse such URLs themselves, it skips its own checks
/// (``CredentialProvider/requestTargetCheck``). When the service
/// answers 401 or 403 it asks the provider to ``CredentialProvider/recover(from:body:to:)``; if
/// the provider obtained new credentials the request is authorized and sent exactly once more. A
/// rejection that is not recovered, or a second rejection, becomes an ``AuthError``:
/// ``AuthError/Code/invalidCredentials`` for 401 and ``AuthError/Code/forbidden`` for 403.
///
/// ```swift
/// let client = AuthorizingTransport(base: URLSessionTransport(), provider: provider)
/// let (response, body) = try await client.send(HTTPRequest(url: url))
/// ```
public struct AuthorizingTransport<Base: HTTPTransport, Provider: CredentialProvider>: HTTPTransport {
    /// The transport that moves the bytes.
    public let base: Base
    /// The provider that adds credentials.
    public let provider: Provider
    @usableFromInline
    let observer: AuthEventObserver?

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
    /// - Returns: The answer, whatever its status besides a rejection.
    /// - Throws: ``AuthError`` with ``AuthError/Code/insecureURL`` before sending to a URL that
    ///   may not carry credentials; ``AuthError/Code/invalidCredentials`` or
    ///   ``AuthError/Code/forbidden`` after an unrecovered rejection; whatever the provider or the
    ///   base transport throws.
    ///
    /// A credential at hand is added and the request sent without a suspension of its own: this
    /// path is inlinable, so it is specialized for `Base` and `Provider` where it is called.
    @inlinable @inline(__always)
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await AuthorizationFlow.send(request, body: body, through: base, by: provider, observer: observer)
    }

    /// Like ``send(_:body:)``, but an answer that is not 2xx throws the provider's typed error
    /// (``CredentialProvider/error(for:body:)``).
    public func fetch(_ request: HTTPRequest, body: Data? = nil) async throws -> (HTTPResponse, Data) {
        try AuthorizationFlow.requireSuccess(try await send(request, body: body), from: provider)
    }
}

/// What every authorizing client does, written once for the generic and the stored form.
///
/// Its fast path (``send(_:body:through:by:observer:)``) is generic and inlined into each client's
/// `send`; everything off that path takes existentials, not generics: called from other modules a
/// generic body that is not inlined would not be specialized, and would look up type metadata
/// (tuples of its results) on every call.
@usableFromInline
enum AuthorizationFlow {
    /// The request path of both clients: a credential at hand is added and the request sent
    /// without a suspension of its own; the rest (a provider that must wait, a rejection) goes out
    /// of line. Inlined where a client's `send` is called: specialized for the generic form's
    /// types, and for the stored form's opened existentials, so that the stored form's only extra
    /// call on this path is its base transport's (not a frame of its own and one of this path's).
    @inlinable @inline(__always)
    static func send<Base: HTTPTransport, Provider: CredentialProvider>(
        _ request: HTTPRequest, body: Data?, through base: Base, by provider: Provider, observer: AuthEventObserver?
    ) async throws -> (HTTPResponse, Data) {
        let checkedByClient = !Provider.requestTargetCheck.byProvider
        if checkedByClient { try SecureURLPolicy.check(request, provider: provider.name) }
        var authorized = request
        guard try provider.authorizeIfReady(&authorized) else {
            return try await send(request, body: body, base: base, provider: provider, observer: observer, notReady: true)
        }
        if checkedByClient { try SecureURLPolicy.check(authorized, provider: provider.name) }
        let answer = try await base.send(authorized, body: body)
        guard isRejection(answer.0) else { return answer }
        return try await retry(after: answer, to: authorized, request: request, body: body, base: base, provider: provider, observer: observer)
    }

    /// - Parameter notReady: The provider already answered `false` to
    ///   ``CredentialProvider/authorizeIfReady(_:)`` for this request: straight to the awaited path.
    @usableFromInline
    static func send(
        _ request: HTTPRequest, body: Data?, base: any HTTPTransport, provider: any CredentialProvider,
        observer: AuthEventObserver?, notReady: Bool = false
    ) async throws -> (HTTPResponse, Data) {
        let name = provider.name
        let (first, firstBody) = notReady
            ? try await authorizeAwaiting(request, body: body, by: provider, named: name)
            : try await authorize(request, body: body, by: provider, named: name)
        let answer = try await base.send(first, body: firstBody)
        guard isRejection(answer.0) else { return answer }
        return try await retry(after: answer, to: first, request: request, body: body, base: base, provider: provider, observer: observer)
    }

    /// After `answer` rejected `sent` (401 or 403): asks the provider to recover, then authorizes
    /// `request` again and sends it exactly once more.
    @usableFromInline
    static func retry(
        after answer: (HTTPResponse, Data), to sent: HTTPRequest, request: HTTPRequest, body: Data?,
        base: any HTTPTransport, provider: any CredentialProvider, observer: AuthEventObserver?
    ) async throws -> (HTTPResponse, Data) {
        let name = provider.name
        let (response, data) = answer
        guard try await provider.recover(from: response, body: data, to: sent) else {
            throw rejection(response, provider: name, afterRetry: false)
        }
        observer?.receive(.retriedAfterRejection(provider: name, status: response.status.code))
        let (second, secondBody) = try await authorize(request, body: body, by: provider, named: name)
        let (retried, retriedData) = try await base.send(second, body: secondBody)
        if isRejection(retried) {
            throw rejection(retried, provider: name, afterRetry: true)
        }
        return (retried, retriedData)
    }

    /// `request` with the provider's credentials and its URL checked (``SecureURLPolicy``); the
    /// first attempt and the retry both come here.
    ///
    /// A credential at hand is added without a suspension (``CredentialProvider/authorizeIfReady(_:)``).
    /// The request is checked before and after the provider touched it, unless the provider checks
    /// it itself (``CredentialProvider/requestTargetCheck``, the SDK's providers); the awaited path
    /// is always checked before and after.
    @inline(__always)
    static func authorize(
        _ request: HTTPRequest, body: Data?, by provider: any CredentialProvider, named name: String
    ) async throws -> (HTTPRequest, Data?) {
        let checkedByClient = !type(of: provider).requestTargetCheck.byProvider
        if checkedByClient { try SecureURLPolicy.check(request, provider: name) }
        var authorized = request
        if try provider.authorizeIfReady(&authorized) {
            if checkedByClient { try SecureURLPolicy.check(authorized, provider: name) }
            return (authorized, body)
        }
        return try await authorizeAwaiting(request, body: body, by: provider, named: name)
    }

    /// The awaited path of ``authorize(_:body:by:named:)``, the URL checked before and after the
    /// provider touched the request; kept out of line so that the fast path inlines into the
    /// caller without the awaiting call's frame.
    @inline(never)
    static func authorizeAwaiting(
        _ request: HTTPRequest, body: Data?, by provider: any CredentialProvider, named name: String
    ) async throws -> (HTTPRequest, Data?) {
        try SecureURLPolicy.check(request, provider: name)
        var authorized = request
        var authorizedBody = body
        try await provider.authorize(&authorized, body: &authorizedBody)
        try SecureURLPolicy.check(authorized, provider: name)
        return (authorized, authorizedBody)
    }

    static func requireSuccess(_ answer: (HTTPResponse, Data), from provider: any CredentialProvider) throws -> (HTTPResponse, Data) {
        if let error = provider.error(for: answer.0, body: answer.1) { throw error }
        return answer
    }

    /// Whether `response` is a 401 or a 403. Borrowed: taking the response (or its `status`) as
    /// a value made a copy of it on every request, two reference counts taken and dropped.
    @inlinable
    static func isRejection(_ response: borrowing HTTPResponse) -> Bool {
        let code = response.status.code
        return code == 401 || code == 403
    }

    private static func rejection(_ response: HTTPResponse, provider: String, afterRetry: Bool) -> AuthError {
        let code: AuthError.Code = response.status == .forbidden ? .forbidden : .invalidCredentials
        let message = afterRetry
            ? "the service rejected the request again after new credentials were obtained"
            : "the service rejected the credentials"
        return AuthError(code, provider: provider, status: response.status.code, message: message)
    }
}

public import Foundation
public import HTTPTypes

/// Something that adds credentials to requests and knows what to do when they are rejected.
///
/// Each provider module (`ProfitAuth`, `ProfixOAuth`, `EconomicAuth`) offers one; send requests
/// through it with ``AuthorizedClient`` (or the generic ``AuthorizingTransport``).
///
/// ### Implement a custom provider
/// Only ``authorize(_:)`` is required: add the credentials to the request. Never mutate shared
/// state from it without synchronisation (providers are usually actors).
///
/// ```swift
/// struct StaticBearer: CredentialProvider {
///     let token: Secret
///     func authorize(_ request: inout HTTPRequest) async throws {
///         request.headerFields[.authorization] = "Bearer \(token.revealed)"
///     }
/// }
/// ```
public protocol CredentialProvider: Sendable {
    /// The provider's name in errors and events (`"profit"`, `"profix"`, `"economic"`).
    ///
    /// The default is the type's name.
    var name: String { get }

    /// Adds credentials to `request`.
    ///
    /// - Throws: ``AuthError`` when no credential can be had (for example
    ///   ``AuthError/Code/notAuthenticated`` or ``AuthError/Code/reauthorizationRequired``).
    func authorize(_ request: inout HTTPRequest) async throws

    /// Adds credentials to `request` and, for a provider that puts them in the body (AFAS Profit's
    /// legacy SOAP `<token>` element), to `body`. The default calls ``authorize(_:)``.
    func authorize(_ request: inout HTTPRequest, body: inout Data?) async throws

    /// Adds credentials that are at hand right now, without waiting: the authorizing clients'
    /// fast path for a cached, valid credential.
    ///
    /// Return `true` when `request` now carries its credentials; return `false` when they must be
    /// awaited (nothing loaded yet, a refresh is due, the body must change), and the client then
    /// calls ``authorize(_:body:)``. An implementation may add or replace header fields only; it
    /// checks the URL as ``authorize(_:)`` does, and throws what that would throw for it. The
    /// default returns `false`.
    func authorizeIfReady(_ request: inout HTTPRequest) throws -> Bool

    /// Who checks, around ``authorizeIfReady(_:)``, that a request's URL may carry credentials:
    /// the authorizing clients (``RequestTargetCheck/byClients``, the default), or, for the SDK's
    /// own providers only, the provider itself.
    static var requestTargetCheck: RequestTargetCheck { get }

    /// Called when the service answered 401 or 403 to an authorized request.
    ///
    /// `request` is the request as it was sent, with the credentials that were rejected, so a
    /// provider can tell a rejection of an old token (someone already refreshed: just retry)
    /// from a rejection of the current one (refresh now).
    ///
    /// Return `true` when new credentials were obtained and the request is worth sending once
    /// more; return `false` to let the client report the rejection; or throw a more specific
    /// ``AuthError``. The default returns `false`.
    func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool

    /// The typed error a non-2xx answer of the provider's service stands for, or `nil` for a 2xx.
    ///
    /// The providers read their service's error bodies (error codes, messages, log references;
    /// never a secret). The default maps the status alone: 400 → ``AuthError/Code/invalidRequest``,
    /// 401 → ``AuthError/Code/invalidCredentials``, 403 → ``AuthError/Code/forbidden``, 429 →
    /// ``AuthError/Code/rateLimited``, 5xx → ``AuthError/Code/serviceUnavailable``, anything else →
    /// ``AuthError/Code/unexpectedStatus``.
    func error(for response: HTTPResponse, body: Data) -> AuthError?
}

extension CredentialProvider {
    /// The type's name.
    public var name: String { String(describing: Self.self) }

    /// Calls ``authorize(_:)``; the body is left as it is.
    public func authorize(_ request: inout HTTPRequest, body: inout Data?) async throws {
        try await authorize(&request)
    }

    /// ``RequestTargetCheck/byClients``: the clients check the URL of every request, before and
    /// after the provider touched it.
    public static var requestTargetCheck: RequestTargetCheck { .byClients }

    /// Nothing is at hand without waiting: the clients call ``authorize(_:body:)``.
    public func authorizeIfReady(_ request: inout HTTPRequest) throws -> Bool {
        false
    }

    /// Does not recover: the rejection is reported.
    public func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        false
    }

    /// Maps the status alone (see ``CredentialProvider/error(for:body:)``).
    public func error(for response: HTTPResponse, body: Data) -> AuthError? {
        AuthError.forStatus(response, provider: name)
    }

    /// A copy of `request` with credentials added.
    public func authorized(_ request: HTTPRequest) async throws -> HTTPRequest {
        var copy = request
        try await authorize(&copy)
        return copy
    }
}

extension AuthError.Code {
    /// The code a non-2xx status stands for when the body says nothing more: 400 invalid
    /// request, 401 invalid credentials, 403 forbidden, 429 rate limited, 5xx service
    /// unavailable, anything else unexpected status.
    package static func forStatus(_ status: Int) -> AuthError.Code {
        switch status {
        case 400: .invalidRequest
        case 401: .invalidCredentials
        case 403: .forbidden
        case 429: .rateLimited
        case 500...599: .serviceUnavailable
        default: .unexpectedStatus
        }
    }
}

extension AuthError {
    /// The error a non-2xx status stands for when nothing more is known, or `nil` for a 2xx.
    public static func forStatus(_ response: HTTPResponse, provider: String?) -> AuthError? {
        guard !response.isSuccess else { return nil }
        let status = response.status.code
        return AuthError(Code.forStatus(status), provider: provider, status: status, message: "the service answered HTTP \(status)",
                         retryAfter: RetryPolicy.retryAfter(in: response, now: Date()))
    }
}

/// A provider backed by closures, for one-offs and tests.
public struct ClosureCredentialProvider: CredentialProvider {
    /// The name given at creation.
    public let name: String
    private let authorizeHandler: @Sendable (inout HTTPRequest) async throws -> Void
    private let recoverHandler: @Sendable (HTTPResponse, HTTPRequest) async throws -> Bool

    /// Creates a provider from closures; `recover` defaults to "do not recover".
    public init(
        name: String = "custom",
        authorize: @escaping @Sendable (inout HTTPRequest) async throws -> Void,
        recover: @escaping @Sendable (HTTPResponse, HTTPRequest) async throws -> Bool = { _, _ in false }
    ) {
        self.name = name
        self.authorizeHandler = authorize
        self.recoverHandler = recover
    }

    /// Calls the `authorize` closure.
    public func authorize(_ request: inout HTTPRequest) async throws {
        try await authorizeHandler(&request)
    }

    /// Calls the `recover` closure.
    public func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        try await recoverHandler(response, request)
    }
}

/// Who checks, on the authorizing clients' fast path, that a request's URL may carry credentials
/// (``SecureURLPolicy``).
///
/// By default the clients check a request before they ask the provider
/// (``CredentialProvider/authorizeIfReady(_:)``) and again after it answered, so a provider of
/// your own never sees, and never adds credentials to, a request for a URL that may not carry
/// them, and cannot move a request elsewhere. The SDK's providers refuse such URLs themselves,
/// before adding anything, and also hold every request to their ``CredentialAudience``; for them
/// the clients skip their own checks. Only the SDK can make that value: there is no way to turn
/// the clients' checks off for another provider.
public struct RequestTargetCheck: Sendable, Hashable {
    /// Whether the provider checks the URL itself (the SDK's providers only).
    @usableFromInline
    let byProvider: Bool

    @usableFromInline
    package init(byProvider: Bool) {
        self.byProvider = byProvider
    }

    /// The clients check the URL before and after the provider touched the request.
    public static var byClients: RequestTargetCheck { RequestTargetCheck(byProvider: false) }

    /// The provider checks it itself, before it adds anything (the SDK's providers).
    package static var byProvider: RequestTargetCheck { RequestTargetCheck(byProvider: true) }
}

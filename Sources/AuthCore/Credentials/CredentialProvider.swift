/// Something that adds credentials to requests and knows what to do when they are rejected.
///
/// Each provider module (`ProfitAuth`, `ProfixOAuth`, `EconomicAuth`) offers one; wrap a
/// transport with it through ``AuthorizingTransport``.
///
/// ### Implement a custom provider
/// Only ``authorize(_:)`` is required. Return a copy of the request with credentials added; never
/// mutate shared state from it without synchronisation (providers are usually actors).
///
/// ```swift
/// struct StaticBearer: CredentialProvider {
///     let token: Secret
///     func authorize(_ request: HTTPRequest) async throws -> HTTPRequest {
///         var request = request
///         request.headers[.authorization] = "Bearer \(token.revealed)"
///         return request
///     }
/// }
/// ```
public protocol CredentialProvider: Sendable {
    /// The provider's name in errors and events (`"profit"`, `"profix"`, `"economic"`).
    ///
    /// The default is the type's name.
    var name: String { get }

    /// Returns `request` with credentials added.
    ///
    /// - Throws: ``AuthError`` when no credential can be had (for example
    ///   ``AuthError/Code/notAuthenticated`` or ``AuthError/Code/reauthorizationRequired``).
    func authorize(_ request: HTTPRequest) async throws -> HTTPRequest

    /// Called when the service answered 401 or 403 to an authorized request.
    ///
    /// `request` is the request as it was sent, with the credentials that were rejected, so a
    /// provider can tell a rejection of an old token (someone already refreshed: just retry)
    /// from a rejection of the current one (refresh now).
    ///
    /// Return `true` when new credentials were obtained and the request is worth sending once
    /// more; return `false` to let ``AuthorizingTransport`` report the rejection; or throw a more
    /// specific ``AuthError``. The default returns `false`.
    func recover(from response: HTTPResponse, to request: HTTPRequest) async throws -> Bool
}

extension CredentialProvider {
    /// The type's name.
    public var name: String { String(describing: Self.self) }

    /// Does not recover: the rejection is reported.
    public func recover(from response: HTTPResponse, to request: HTTPRequest) async throws -> Bool {
        false
    }
}

/// A provider backed by a closure, for one-offs and tests.
public struct ClosureCredentialProvider: CredentialProvider {
    /// The name given at creation.
    public let name: String
    private let authorizeHandler: @Sendable (HTTPRequest) async throws -> HTTPRequest
    private let recoverHandler: @Sendable (HTTPResponse, HTTPRequest) async throws -> Bool

    /// Creates a provider from closures; `recover` defaults to "do not recover".
    public init(
        name: String = "custom",
        authorize: @escaping @Sendable (HTTPRequest) async throws -> HTTPRequest,
        recover: @escaping @Sendable (HTTPResponse, HTTPRequest) async throws -> Bool = { _, _ in false }
    ) {
        self.name = name
        self.authorizeHandler = authorize
        self.recoverHandler = recover
    }

    /// Calls the `authorize` closure.
    public func authorize(_ request: HTTPRequest) async throws -> HTTPRequest {
        try await authorizeHandler(request)
    }

    /// Calls the `recover` closure.
    public func recover(from response: HTTPResponse, to request: HTTPRequest) async throws -> Bool {
        try await recoverHandler(response, request)
    }
}

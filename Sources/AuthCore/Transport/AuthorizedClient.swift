public import Foundation
public import HTTPTypes

/// An authorizing HTTP client an app can keep in a property: any transport, any provider.
///
/// The Swift form of golang/oauth2's `config.Client(ctx, token)`: one value that adds the
/// provider's credentials to every request, refreshes them when they expire (single-flight), and
/// retries once after the service rejected them.
///
/// ```swift
/// final class Invoices {
///     let client: AuthorizedClient
///     init(provider: ProfixProvider) {
///         client = provider.client()                       // over the shared URLSessionTransport
///     }
///     func list() async throws -> Data {
///         try await client.fetch(HTTPRequest(url: URL(string: "https://api.profix-it.nl/api/v1/invoices")!)).1
///     }
/// }
/// ```
///
/// ``fetch(_:body:)`` throws the provider's typed error for any answer that is not 2xx;
/// ``send(_:body:)`` returns every answer except an unrecovered rejection. The generic
/// ``AuthorizingTransport`` does the same with its types known at compile time.
public struct AuthorizedClient: HTTPTransport {
    /// The transport that moves the bytes.
    public let base: any HTTPTransport
    /// The provider that adds credentials.
    public let provider: any CredentialProvider
    @usableFromInline
    let observer: AuthEventObserver?

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - base: The transport; default ``URLSessionTransport/shared``.
    ///   - provider: The provider that adds credentials and recovers from rejections.
    ///   - observer: Receives ``AuthEvent/retriedAfterRejection(provider:status:)``.
    public init(base: any HTTPTransport = URLSessionTransport.shared, provider: any CredentialProvider, observer: AuthEventObserver? = nil) {
        self.base = base
        self.provider = provider
        self.observer = observer
    }

    /// Sends `request` with credentials, recovering at most once from 401/403.
    ///
    /// - Throws: see ``AuthorizingTransport/send(_:body:)``.
    @inlinable @inline(__always)
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await AuthorizationFlow.send(request, body: body, through: base, by: provider, observer: observer)
    }

    /// Like ``send(_:body:)``, but an answer that is not 2xx throws the provider's typed error
    /// (status, provider, the service's error code and log reference; never a secret).
    public func fetch(_ request: HTTPRequest, body: Data? = nil) async throws -> (HTTPResponse, Data) {
        try AuthorizationFlow.requireSuccess(try await send(request, body: body), from: provider)
    }
}

extension CredentialProvider {
    /// A client that sends requests with this provider's credentials over `base`.
    ///
    /// ```swift
    /// let client = provider.client()
    /// let (response, body) = try await client.fetch(HTTPRequest(url: url))
    /// ```
    public func client(over base: any HTTPTransport = URLSessionTransport.shared, observer: AuthEventObserver? = nil) -> AuthorizedClient {
        AuthorizedClient(base: base, provider: self, observer: observer)
    }
}

public import Foundation
public import HTTPTypes

/// Something that sends an HTTP request and returns the response: the seam between the SDK and
/// the network.
///
/// Requests and responses are swift-http-types' `HTTPRequest` and `HTTPResponse`, the currency
/// swift-openapi-runtime, Hummingbird and the AsyncHTTPClient bridges share; the body travels
/// beside the head, as `Data`.
///
/// The SDK ships ``URLSessionTransport``, and `HTTPClientTransport` over AsyncHTTPClient in the
/// `AuthAsyncHTTPClient` product (trait `AsyncHTTPClient`); ``AuthorizingTransport`` and ``AuthorizedClient`` wrap
/// any transport with a ``CredentialProvider``; `MockTransport` in `AuthTesting` answers from a
/// script in tests.
///
/// ### Implement a custom transport
/// Return the response for any status (a 404 is an answer, not an error) and throw ``AuthError``
/// with a transport code (``AuthError/Code/connectionFailed``, ``AuthError/Code/timeout``, …) when
/// no answer came.
///
/// ```swift
/// struct Recording: HTTPTransport {
///     let base: any HTTPTransport
///     func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
///         print(request.method, request.path ?? "")
///         return try await base.send(request, body: body)
///     }
/// }
/// ```
public protocol HTTPTransport: Sendable {
    /// Sends `request` with `body` and returns the response head and body.
    ///
    /// - Throws: ``AuthError`` when no response arrived.
    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data)
}

extension HTTPTransport {
    /// Sends `request` without a body.
    public func send(_ request: HTTPRequest) async throws -> (HTTPResponse, Data) {
        try await send(request, body: nil)
    }

    /// Sends `request` and returns the answer as one value.
    package func reply(_ request: HTTPRequest, body: Data? = nil) async throws -> Reply {
        let (response, data) = try await send(request, body: body)
        return Reply(response, body: data)
    }

    /// Sends `request` (head and body) and returns the answer as one value.
    package func reply(_ request: OutgoingRequest) async throws -> Reply {
        try await reply(request.head, body: request.body)
    }
}

/// A transport backed by a closure, for one-offs and tests.
public struct ClosureTransport: HTTPTransport {
    private let handler: @Sendable (HTTPRequest, Data?) async throws -> (HTTPResponse, Data)

    /// Creates a transport that answers with `handler`.
    public init(_ handler: @escaping @Sendable (HTTPRequest, Data?) async throws -> (HTTPResponse, Data)) {
        self.handler = handler
    }

    /// Calls the closure.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await handler(request, body)
    }
}

extension HTTPResponse {
    /// Whether the status is 2xx.
    public var isSuccess: Bool { status.kind == .successful }
}

/// Something that sends an HTTP request and returns the response.
///
/// The SDK talks to every service through this one requirement, so an app chooses how bytes
/// move: ``URLSessionTransport`` (Foundation, no dependencies), an AsyncHTTPClient-backed
/// transport from an integration target, or `MockTransport` from `AuthTesting` in unit tests.
///
/// ### Implement a custom transport
/// Return every response, whatever its status; throw only when no response arrived, and throw
/// ``AuthError`` with a transport code (``AuthError/Code/connectionFailed``,
/// ``AuthError/Code/timeout``, ...) so callers can tell transient failures apart.
///
/// ```swift
/// struct LoggingTransport<Base: HTTPTransport>: HTTPTransport {
///     let base: Base
///     func send(_ request: HTTPRequest) async throws -> HTTPResponse {
///         let response = try await base.send(request)
///         print(request.method, response.status)   // `request.description` redacts credentials
///         return response
///     }
/// }
/// ```
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the response, whatever its status.
    ///
    /// - Throws: ``AuthError`` when no response arrived.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A transport backed by a closure, for one-off adapters and tests.
public struct ClosureTransport: HTTPTransport {
    private let handler: @Sendable (HTTPRequest) async throws -> HTTPResponse

    /// Creates a transport that answers every request with `handler`.
    public init(_ handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse) {
        self.handler = handler
    }

    /// Answers `request` with the handler.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await handler(request)
    }
}

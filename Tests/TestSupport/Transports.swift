public import AuthCore
#if AsyncHTTPClient
import AuthAsyncHTTPClient
#endif

/// A transport the shared transport tests run against: URLSession always, AsyncHTTPClient with
/// the `AsyncHTTPClient` trait.
public struct TransportKind: Sendable, CustomStringConvertible {
    public let description: String
    private let factory: @Sendable (URLSessionTransport.Configuration) -> any HTTPTransport

    /// A transport with `configuration` (AsyncHTTPClient takes the same timeout, cap and redirects).
    public func make(_ configuration: URLSessionTransport.Configuration = .init()) -> any HTTPTransport {
        factory(configuration)
    }

    /// A transport with a total deadline of `timeout`.
    public func make(timeout: Duration) -> any HTTPTransport {
        factory(.init(timeout: timeout))
    }

    public static let urlSession = TransportKind(description: "URLSession") { URLSessionTransport(configuration: $0) }

    #if AsyncHTTPClient
    public static let asyncHTTPClient = TransportKind(description: "AsyncHTTPClient") {
        HTTPClientTransport(configuration: .init(timeout: $0.timeout, maxResponseBytes: $0.maxResponseBytes, redirects: $0.redirects))
    }
    #endif

    /// Every transport this build has.
    public static var all: [TransportKind] {
        #if AsyncHTTPClient
        [.urlSession, .asyncHTTPClient]
        #else
        [.urlSession]
        #endif
    }
}

public import Foundation

/// An HTTP request as a value.
///
/// Transports send it, providers return an authorized copy of it; nothing mutates a request
/// that someone else holds.
public struct HTTPRequest: Sendable, Equatable, Hashable {
    /// An HTTP method.
    public struct Method: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue.uppercased() }
        public init(stringLiteral value: String) { self.init(rawValue: value) }
        public var description: String { rawValue }

        public static let get: Method = "GET"
        public static let post: Method = "POST"
        public static let put: Method = "PUT"
        public static let patch: Method = "PATCH"
        public static let delete: Method = "DELETE"
        public static let head: Method = "HEAD"
    }

    /// The method.
    public var method: Method
    /// The absolute URL.
    public var url: URL
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body, if any.
    public var body: Data?
    /// A per-request timeout that overrides the transport's default.
    public var timeout: Duration?

    /// Creates a request.
    public init(method: Method = .get, url: URL, headers: HTTPHeaders = [:], body: Data? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

extension HTTPRequest: CustomStringConvertible {
    /// Method, URL without its query, and header names with credentials redacted.
    public var description: String {
        "\(method) \(URLDescription(url).text) \(headers)"
    }
}

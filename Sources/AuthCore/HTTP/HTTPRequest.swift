public import Foundation

/// An HTTP request as a value.
///
/// Transports send it, providers return an authorized copy of it; nothing mutates a request
/// that someone else holds.
public struct HTTPRequest: Sendable, Equatable, Hashable {
    /// An HTTP method, upper-cased.
    public struct Method: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The method name as sent.
        public let rawValue: String
        /// Creates a method; the name is upper-cased.
        public init(rawValue: String) { self.rawValue = rawValue.uppercased() }
        /// Creates a method from a literal such as `"GET"`.
        public init(stringLiteral value: String) { self.init(rawValue: value) }
        /// The method name.
        public var description: String { rawValue }

        /// Whether the name is a valid HTTP token (RFC 9110), so it cannot smuggle a request line
        /// or header onto the wire.
        public var isValid: Bool { HTTPHeaders.Name(rawValue).isValid }

        /// `GET`.
        public static let get: Method = "GET"
        /// `POST`.
        public static let post: Method = "POST"
        /// `PUT`.
        public static let put: Method = "PUT"
        /// `PATCH`.
        public static let patch: Method = "PATCH"
        /// `DELETE`.
        public static let delete: Method = "DELETE"
        /// `HEAD`.
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

extension HTTPRequest: CustomStringConvertible, CustomReflectable {
    /// Method, URL without its query, and header names with credentials redacted.
    public var description: String {
        "\(method) \(URLDescription(url).text) \(headers)"
    }

    /// What `dump` and debuggers show: the method, the URL without its query (which may carry a
    /// code or token), the headers with credentials redacted, and the body's size only.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "method": method.rawValue,
            "url": URLDescription(url).text,
            "headers": headers,
            "body": body.map { "\($0.count) bytes" } ?? "none",
        ], displayStyle: .struct)
    }
}

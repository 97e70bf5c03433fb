public import Foundation

/// An HTTP response as a value.
public struct HTTPResponse: Sendable, Equatable, Hashable {
    /// The status code.
    public var status: Int
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body (empty when there was none).
    public var body: Data

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Whether the status is in the 2xx range.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Whether the status is a redirect (3xx).
    public var isRedirect: Bool { (300..<400).contains(status) }

    /// The body decoded as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Whether the `Content-Type` names JSON (`application/json` or any `+json` type).
    public var hasJSONContentType: Bool {
        guard let type = headers[.contentType]?.lowercased() else { return false }
        let mediaType = type.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingWhitespace() } ?? ""
        return mediaType == "application/json" || mediaType.hasSuffix("+json")
    }

    /// Whether the body looks like an HTML page (a proxy's or server's error page).
    public var looksLikeHTML: Bool {
        if let type = headers[.contentType]?.lowercased(), type.contains("text/html") { return true }
        let prefix = String(decoding: body.prefix(64), as: UTF8.self).trimmingWhitespace().lowercased()
        return prefix.hasPrefix("<!doctype html") || prefix.hasPrefix("<html")
    }
}

extension HTTPResponse {
    /// A response with a JSON body and `Content-Type: application/json`.
    public static func json(_ status: Int = 200, _ text: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return HTTPResponse(status: status, headers: headers, body: Data(text.utf8))
    }
}

package import Foundation
package import HTTPTypes

/// A response head and its body together: how the SDK's parsers and sandboxes read an answer.
///
/// The public API speaks swift-http-types (`HTTPResponse`, with the body beside it as `Data`);
/// this pair is the package's convenience for the code that inspects both.
package struct Reply: Sendable, Equatable {
    package var response: HTTPResponse
    package var body: Data

    package init(_ response: HTTPResponse, body: Data) {
        self.response = response
        self.body = body
    }

    package init(status: Int, headerFields: HTTPFields = [:], body: Data = Data()) {
        self.init(HTTPResponse(status: .init(code: status), headerFields: headerFields), body: body)
    }

    /// A JSON answer with `Content-Type: application/json; charset=utf-8`.
    package static func json(_ status: Int = 200, _ text: String, headerFields: HTTPFields = [:]) -> Reply {
        var fields = headerFields
        fields[.contentType] = "application/json; charset=utf-8"
        return Reply(status: status, headerFields: fields, body: Data(text.utf8))
    }

    /// The status code.
    package var status: Int { response.status.code }
    /// The header fields.
    package var headerFields: HTTPFields {
        get { response.headerFields }
        set { response.headerFields = newValue }
    }
    /// The pair as the transport protocol returns it.
    package var pair: (HTTPResponse, Data) { (response, body) }

    package var isSuccess: Bool { response.isSuccess }
    package var isRedirect: Bool { (300..<400).contains(status) }
    /// The body as UTF-8 text (invalid bytes replaced).
    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The first `Content-Type` value, lowercased (a duplicated field does not merge into one).
    package var contentType: String? { headerFields[values: .contentType].first?.lowercased() }

    /// Whether the `Content-Type` is JSON (`application/json` or `…+json`).
    package var hasJSONContentType: Bool {
        guard let type = contentType else { return false }
        let mediaType = type.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingWhitespace() } ?? ""
        return mediaType == "application/json" || mediaType.hasSuffix("+json")
    }

    /// Whether the answer is an HTML page (by content type or by its first bytes): an error page
    /// of a proxy or a login portal rather than the service's answer.
    package var looksLikeHTML: Bool {
        if let type = contentType, type.contains("text/html") { return true }
        let prefix = String(decoding: body.prefix(64), as: UTF8.self).trimmingWhitespace().lowercased()
        return prefix.hasPrefix("<!doctype html") || prefix.hasPrefix("<html")
    }
}


package import Foundation
package import HTTPTypes

/// A request head and its body together: how the SDK's endpoint code and sandboxes handle a
/// request. The public API passes them separately, as `HTTPTransport` does.
package struct OutgoingRequest: Sendable, Equatable {
    package var head: HTTPRequest
    package var body: Data?

    package init(_ head: HTTPRequest, body: Data?) {
        self.head = head
        self.body = body
    }

    package init(method: HTTPRequest.Method = .get, url: URL, headerFields: HTTPFields = [:], body: Data? = nil) {
        self.init(HTTPRequest(method: method, url: url, headerFields: headerFields), body: body)
    }

    /// A `POST` with a form-encoded body, `Content-Type: application/x-www-form-urlencoded` and
    /// (unless given) `Accept: application/json`.
    package static func form(url: URL, _ pairs: [(String, String)], headerFields: HTTPFields = [:]) -> OutgoingRequest {
        var fields = headerFields
        fields[.contentType] = "application/x-www-form-urlencoded"
        if fields[.accept] == nil { fields[.accept] = "application/json" }
        return OutgoingRequest(method: .post, url: url, headerFields: fields, body: FormEncoding.body(pairs))
    }

    /// The request's URL; a request without one (an `OPTIONS *`) reads as `about:blank`.
    package var url: URL { head.url ?? URL(string: "about:blank") ?? URL(fileURLWithPath: "/") }
    package var method: HTTPRequest.Method { head.method }
    package var headerFields: HTTPFields {
        get { head.headerFields }
        set { head.headerFields = newValue }
    }
    /// The body as UTF-8 text (empty without a body).
    package var text: String { String(decoding: body ?? Data(), as: UTF8.self) }
}

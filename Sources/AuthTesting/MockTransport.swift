public import AuthCore
public import Foundation
public import HTTPTypes

/// A transport that answers from a script or a closure and records every request, for unit tests.
///
/// ```swift
/// let mock = MockTransport(responses: [.json(200, #"{"items": []}"#)])
/// let client = provider.client(over: mock)
/// _ = try await client.send(HTTPRequest(url: url))
/// #expect(mock.requests.first?.headerFields[.authorization] != nil)
/// ```
///
/// Scripted answers are used first, in order; then the handler, if any. Without either, a request
/// fails with ``AuthError/Code/invalidConfiguration`` (a test that sends more than it scripted is
/// a broken test). Safe to use from many tasks at once.
public final class MockTransport: HTTPTransport {
    /// A scripted answer: status, fields and body.
    public struct Response: Sendable, Equatable {
        /// The status.
        public var status: HTTPResponse.Status
        /// The header fields.
        public var headerFields: HTTPFields
        /// The body.
        public var body: Data

        /// Creates an answer.
        public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: Data = Data()) {
            self.status = status
            self.headerFields = headerFields
            self.body = body
        }

        /// A JSON answer (`Content-Type: application/json; charset=utf-8`).
        public static func json(_ status: Int = 200, _ text: String, headerFields: HTTPFields = [:]) -> Response {
            var fields = headerFields
            fields[.contentType] = "application/json; charset=utf-8"
            return Response(status: .init(code: status), headerFields: fields, body: Data(text.utf8))
        }

        /// A plain-text answer.
        public static func text(_ status: Int = 200, _ text: String, headerFields: HTTPFields = [:]) -> Response {
            var fields = headerFields
            fields[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .init(code: status), headerFields: fields, body: Data(text.utf8))
        }

        /// The response head.
        public var head: HTTPResponse { HTTPResponse(status: status, headerFields: headerFields) }
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }

        package init(_ reply: Reply) {
            self.init(status: reply.response.status, headerFields: reply.headerFields, body: reply.body)
        }
    }

    /// A request as the mock received it. Its descriptions and `dump` hide credential values.
    public struct Request: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
        /// The request head.
        public let head: HTTPRequest
        /// The body, if any.
        public let body: Data?

        /// A request as a transport received it.
        public init(head: HTTPRequest, body: Data?) {
            self.head = head
            self.body = body
        }

        /// The URL (`about:blank` for a request without one).
        public var url: URL { head.url ?? URL(string: "about:blank") ?? URL(fileURLWithPath: "/") }
        /// The method.
        public var method: HTTPRequest.Method { head.method }
        /// The header fields.
        public var headerFields: HTTPFields { head.headerFields }
        /// The body as UTF-8 text (empty without a body).
        public var text: String { String(decoding: body ?? Data(), as: UTF8.self) }

        /// Method, URL without its query, and fields with credentials redacted.
        public var description: String {
            "\(head.method) \(URLDescription(url).text) \(head.headerFields.redactedDescription)"
        }

        /// What `dump` shows: ``description`` and the body's size.
        public var customMirror: Mirror {
            Mirror(self, children: ["request": description, "body": body.map { "\($0.count) bytes" } ?? "none"], displayStyle: .struct)
        }
    }

    private enum Scripted: Sendable {
        case response(Response)
        case failure(AuthError)
    }

    private struct State {
        var requests: [Request] = []
        var script: [Scripted] = []
    }

    private let state = Locked(State())
    private let handler: (@Sendable (Request) async throws -> Response)?
    private let latency: Duration?

    /// Creates a mock.
    ///
    /// - Parameters:
    ///   - responses: Answers used in order, one per request.
    ///   - latency: A real-time pause before each answer (for concurrency tests).
    ///   - handler: Answers once the script is used up.
    public init(
        responses: [Response] = [],
        latency: Duration? = nil,
        handler: (@Sendable (Request) async throws -> Response)? = nil
    ) {
        self.handler = handler
        self.latency = latency
        state.withLock { $0.script = responses.map(Scripted.response) }
    }

    /// Appends an answer to the script.
    public func enqueue(_ response: Response) {
        state.withLock { $0.script.append(.response(response)) }
    }

    /// Appends a failure to the script: the matching request throws `failure`.
    public func enqueue(failure: AuthError) {
        state.withLock { $0.script.append(.failure(failure)) }
    }

    /// Every request received, in order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// How many requests were received.
    public var requestCount: Int { state.withLock { $0.requests.count } }

    /// How many scripted answers are left.
    public var remainingReplies: Int { state.withLock { $0.script.count } }

    /// Forgets the recorded requests.
    public func clearRequests() { state.withLock { $0.requests.removeAll() } }

    /// Records the request and answers from the script or the handler.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        let received = Request(head: request, body: body)
        let next: Scripted? = state.withLock { state in
            state.requests.append(received)
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        if let latency {
            do { try await Task.sleep(for: latency) } catch { throw AuthError(.cancelled, message: "cancelled during mock latency") }
        }
        switch next {
        case .response(let response)?:
            return (response.head, response.body)
        case .failure(let error)?:
            throw error
        case nil:
            guard let handler else {
                throw AuthError(.invalidConfiguration, message: "MockTransport has no scripted reply and no handler for \(received.method) \(URLDescription(received.url).text)")
            }
            let response = try await handler(received)
            return (response.head, response.body)
        }
    }
}

extension MockTransport {
    /// A mock that answers every request with `status` and the JSON `body`.
    public static func ok(json body: String, status: Int = 200) -> MockTransport {
        MockTransport { _ in .json(status, body) }
    }

    /// A mock whose every request fails with `code`, as a transport does when no answer comes.
    public static func failing(_ code: AuthError.Code) -> MockTransport {
        MockTransport { _ in throw AuthError(code, message: "injected by MockTransport") }
    }
}

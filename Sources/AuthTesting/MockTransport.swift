public import AuthCore
import Foundation

/// An ``HTTPTransport`` for unit tests: it records every request and answers from a script.
///
/// Put it under a provider (or under ``AuthorizingTransport``) in your own tests to check what
/// your code sends and how it handles answers, with no network:
///
/// ```swift
/// let mock = MockTransport()
/// mock.enqueue(.json(200, #"{"ok": true}"#))
/// mock.enqueue(failure: AuthError(.timeout))
/// let client = AuthorizingTransport(base: mock, provider: provider)
/// _ = try await client.send(HTTPRequest(url: url))
/// #expect(mock.requests.first?.headers[.authorization] == "Bearer ...")
/// ```
///
/// Scripted replies are used first, in order; when none is left the `handler` answers; with
/// neither, `send` throws ``AuthError/Code/invalidConfiguration`` (not transient, so retry
/// policies do not quietly try again). It is safe to use from many tasks at
/// once: the record and the script sit behind a lock.
public final class MockTransport: HTTPTransport {
    /// One scripted answer.
    public enum Reply: Sendable {
        /// Answer with a response.
        case response(HTTPResponse)
        /// Fail as a transport would.
        case failure(AuthError)
    }

    private struct State {
        var requests: [HTTPRequest] = []
        var script: [Reply] = []
    }

    private let state = Locked(State())
    private let handler: (@Sendable (HTTPRequest) async throws -> HTTPResponse)?
    private let latency: Duration?

    /// Creates a mock.
    ///
    /// - Parameters:
    ///   - responses: Responses returned in order, one per request.
    ///   - latency: A delay before every answer (real time; keep it small).
    ///   - handler: Answers requests once the script is used up.
    public init(
        responses: [HTTPResponse] = [],
        latency: Duration? = nil,
        handler: (@Sendable (HTTPRequest) async throws -> HTTPResponse)? = nil
    ) {
        self.handler = handler
        self.latency = latency
        state.withLock { $0.script = responses.map(Reply.response) }
    }

    /// Appends a response to the script.
    public func enqueue(_ response: HTTPResponse) {
        state.withLock { $0.script.append(.response(response)) }
    }

    /// Appends a transport failure to the script.
    public func enqueue(failure: AuthError) {
        state.withLock { $0.script.append(.failure(failure)) }
    }

    /// Every request sent so far, in the order they arrived.
    public var requests: [HTTPRequest] { state.withLock { $0.requests } }

    /// The number of requests sent so far.
    public var requestCount: Int { state.withLock { $0.requests.count } }

    /// The number of scripted replies not used yet.
    public var remainingReplies: Int { state.withLock { $0.script.count } }

    /// Forgets the recorded requests (the script stays).
    public func clearRequests() { state.withLock { $0.requests.removeAll() } }

    /// Records `request`, then answers from the script, the handler, or with an error.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let reply: Reply? = state.withLock { state in
            state.requests.append(request)
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        if let latency {
            do { try await Task.sleep(for: latency) } catch { throw AuthError(.cancelled, message: "cancelled during mock latency") }
        }
        switch reply {
        case .response(let response)?:
            return response
        case .failure(let error)?:
            throw error
        case nil:
            guard let handler else {
                throw AuthError(.invalidConfiguration, message: "MockTransport has no scripted reply and no handler for \(request.method) \(URLDescription(request.url).text)")
            }
            return try await handler(request)
        }
    }
}

extension MockTransport {
    /// A mock that answers every request with `status` and the JSON `body`.
    public static func ok(json body: String, status: Int = 200) -> MockTransport {
        MockTransport { _ in .json(status, body) }
    }

    /// A mock that fails every request with `code`.
    public static func failing(_ code: AuthError.Code) -> MockTransport {
        MockTransport { _ in throw AuthError(code, message: "injected by MockTransport") }
    }
}

#if OpenAPI
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// A client shaped like the code swift-openapi-generator writes: a server URL, a transport and
/// middlewares run in order around it, and operations that build relative requests.
struct WorkOrdersClient: Sendable {
    let serverURL: URL
    let transport: any ClientTransport
    let middlewares: [any ClientMiddleware]

    func listWorkOrders() async throws -> (HTTPResponse, Data) {
        try await perform(HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/api/v1/workorders?limit=10"),
                          body: nil, operationID: "listWorkOrders")
    }

    func createWorkOrder(_ body: HTTPBody) async throws -> (HTTPResponse, Data) {
        var request = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api/v1/workorders")
        request.headerFields[.contentType] = "application/json"
        return try await perform(request, body: body, operationID: "createWorkOrder")
    }

    private func perform(_ request: HTTPRequest, body: HTTPBody?, operationID: String) async throws -> (HTTPResponse, Data) {
        var next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?) = { request, body, url in
            try await transport.send(request, body: body, baseURL: url, operationID: operationID)
        }
        for middleware in middlewares.reversed() {
            let inner = next
            next = { try await middleware.intercept($0, body: $1, baseURL: $2, operationID: operationID, next: inner) }
        }
        let (response, body) = try await next(request, body, serverURL)
        guard let body else { return (response, Data()) }
        return (response, try await Data(collecting: body, upTo: 1 << 20))
    }
}

/// A `ClientTransport` that records what reaches it and answers from a script.
final class ScriptedClientTransport: ClientTransport {
    struct Sent: Sendable {
        var request: HTTPRequest
        var body: Data?
        var baseURL: URL
    }

    private let state: Mutex<(answers: [(HTTPResponse.Status, String)], sent: [Sent])>

    init(_ answers: [(HTTPResponse.Status, String)]) { state = Mutex((answers, [])) }

    var sent: [Sent] { state.withLock { $0.sent } }

    func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (HTTPResponse, HTTPBody?) {
        var bytes: Data?
        if let body { bytes = try await Data(collecting: body, upTo: 1 << 20) }
        let answer = state.withLock { state -> (HTTPResponse.Status, String) in
            state.sent.append(Sent(request: request, body: bytes, baseURL: baseURL))
            return state.answers.isEmpty ? (.ok, "{}") : state.answers.removeFirst()
        }
        return (HTTPResponse(status: answer.0), HTTPBody(answer.1))
    }
}
#endif

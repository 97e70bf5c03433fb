public import AuthCore
import HTTPTypes
public import Foundation
import Dispatch

/// Serves any ``HTTPTransport`` (a sandbox from AuthTesting, a mock) over loopback HTTP, so that
/// other processes can talk to it with a real transport.
///
/// It is a ``LoopbackHTTPServer`` whose handler turns each received request into an
/// ``HTTPRequest`` for `http://127.0.0.1:<port><target>`, runs the transport's async `send` in a
/// detached task and waits for it on the server's own thread (a plain `Thread`, never a Swift
/// concurrency thread, so the wait cannot starve the cooperative pool). Requests are served one
/// at a time, in the order they are accepted. A transport that throws is answered with `502`.
public final class SandboxHTTPServer: Sendable {
    private let server: LoopbackHTTPServer
    private let failures = Locked(0)

    /// Starts serving `transport` on an ephemeral loopback port.
    public init(_ transport: any HTTPTransport) throws {
        let failures = self.failures
        let origin = Locked<URL?>(nil)
        server = try LoopbackHTTPServer { received in
            guard let base = origin.withLock({ $0 }),
                  let url = URL(string: base.absoluteString + received.target) else {
                return .text(400, "bad request target")
            }
            var headers = received.headerFields
            headers[.contentLength] = nil
            guard let method = HTTPRequest.Method(received.method) else { return .text(400, "bad method") }
            let request = HTTPRequest(method: method, url: url, headerFields: headers)
            switch Self.wait(for: transport, request, body: received.body.isEmpty ? nil : received.body) {
            case .success(let (response, body)):
                var fields: [(String, String)] = []
                for field in response.headerFields where field.name != .contentLength && field.name != .connection {
                    fields.append((field.name.rawName, field.value))
                }
                return LoopbackHTTPServer.Response(status: response.status.code, headers: fields, body: body)
            case .failure:
                failures.withLock { $0 += 1 }
                return .text(502, "the served transport failed")
            }
        }
        origin.withLock { $0 = server.baseURL }
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    public var baseURL: URL { server.baseURL }

    /// How many requests the server answered so far.
    public var requestCount: Int { server.requests.count }

    /// How many requests the served transport threw for (answered `502`).
    public var transportFailures: Int { failures.withLock { $0 } }

    /// Stops accepting connections.
    public func stop() { server.stop() }

    /// Runs `transport.send(request)` to completion and blocks the calling (non-concurrency)
    /// thread until it has an answer.
    private static func wait(for transport: any HTTPTransport, _ request: HTTPRequest, body: Data?) -> Result<(HTTPResponse, Data), any Error> {
        let outcome = Locked<Result<(HTTPResponse, Data), any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let result: Result<(HTTPResponse, Data), any Error>
            do {
                result = .success(try await transport.send(request, body: body))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return outcome.withLock { $0 } ?? .failure(AuthError(.transportFailure, message: "no answer"))
    }
}

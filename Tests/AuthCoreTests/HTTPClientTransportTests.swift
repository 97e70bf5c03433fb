#if AsyncHTTPClient
import AsyncHTTPClient
import AuthAsyncHTTPClient
import AuthCore
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// What only the AsyncHTTPClient transport has: an injected client.
@Suite(.serialized) struct HTTPClientTransportTests {
    /// An injected client that follows redirects itself sends the request on before the
    /// transport sees it; the transport notices the other origin and fails instead of returning
    /// the foreign answer as if it came from the provider.
    @Test func anInjectedClientThatFollowsACrossHostRedirectIsRefused() async throws {
        let target = try LoopbackHTTPServer { _ in .text(200, "elsewhere") }
        defer { target.stop() }
        let origin = try LoopbackHTTPServer { _ in .text(302, "", headers: [("Location", "http://localhost:\(target.port)/collect")]) }
        defer { origin.stop() }
        let following = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                   configuration: .init(redirectConfiguration: .follow(max: 3, allowCycles: false)))
        let transport = HTTPClientTransport(client: following)
        let error = await #expect(throws: AuthError.self) { try await transport.send(HTTPRequest(url: origin.baseURL)) }
        #expect(error?.code == .untrustedHost)
        try await following.shutdown()
    }

    /// The shared client does not follow redirects itself, so a same-origin hop is the
    /// transport's and a cross-origin one is returned.
    @Test func theSharedClientLeavesRedirectsToTheTransport() async throws {
        let server = try LoopbackHTTPServer { request in
            request.target == "/old" ? .text(307, "", headers: [("Location", "/new")]) : .text(200, "new")
        }
        defer { server.stop() }
        let (response, body) = try await HTTPClientTransport.shared.send(HTTPRequest(url: server.baseURL.appendingPathComponent("old")))
        #expect(response.status == .ok)
        #expect(String(decoding: body, as: UTF8.self) == "new")
        #expect(server.requests.map(\.target) == ["/old", "/new"])
    }
}
#endif

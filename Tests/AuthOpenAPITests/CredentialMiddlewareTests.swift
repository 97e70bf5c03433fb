#if OpenAPI
import AuthCore
import AuthOpenAPI
import AuthTesting
import Foundation
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession
#if AsyncHTTPClient
import OpenAPIAsyncHTTPClient
#endif
import ProfixOAuth
import ProfixOAuthTesting
import Testing
import TestSupport

@Suite struct CredentialMiddlewareTests {
    static let server = URL(string: "https://api.example.com/v2")!

    /// A provider that sets a numbered bearer token and recovers by moving to the next number.
    final class CountingProvider: CredentialProvider {
        private let generation = Locked(1)
        private let recovers: Bool
        init(recovers: Bool = true) { self.recovers = recovers }
        var name: String { "counting" }
        var recoveries: Int { generation.withLock { $0 } - 1 }
        func authorize(_ request: inout HTTPRequest) async throws {
            let number = generation.withLock { $0 }
            request.headerFields[.authorization] = "Bearer token-\(number)"
        }
        func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
            guard recovers else { return false }
            generation.withLock { $0 += 1 }
            return true
        }
    }

    @Test func authorizesTheRelativeRequestAsTheAbsoluteURL() async throws {
        let transport = ScriptedClientTransport([(.ok, #"{"items":[]}"#)])
        let client = WorkOrdersClient(serverURL: Self.server, transport: transport,
                                      middlewares: [CredentialMiddleware(provider: CountingProvider())])
        let (response, body) = try await client.listWorkOrders()
        #expect(response.status == .ok)
        #expect(String(decoding: body, as: UTF8.self) == #"{"items":[]}"#)
        let sent = try #require(transport.sent.first)
        #expect(sent.request.headerFields[.authorization] == "Bearer token-1")
        // The request stays relative: the transport joins it to the base URL, as generated code expects.
        #expect(sent.request.path == "/api/v1/workorders?limit=10")
        #expect(sent.request.authority == nil)
        #expect(sent.baseURL == Self.server)
    }

    @Test func recoversOnceAndReplaysABufferedBody() async throws {
        let transport = ScriptedClientTransport([(.unauthorized, #"{"error":"expired"}"#), (.created, "{}")])
        let provider = CountingProvider()
        let events = Recorder<AuthEvent.Kind>()
        let middleware = CredentialMiddleware(provider: provider, observer: AuthEventObserver { events.append($0.kind) })
        let client = WorkOrdersClient(serverURL: Self.server, transport: transport, middlewares: [middleware])
        // A body that can be read once, of known length: buffered so it can be sent twice.
        let payload = #"{"title":"Fix the boiler"}"#
        let body = HTTPBody(AsyncStream { continuation in
            continuation.yield(ArraySlice(payload.utf8))
            continuation.finish()
        }, length: .known(Int64(payload.utf8.count)), iterationBehavior: .single)
        let (response, _) = try await client.createWorkOrder(body)
        #expect(response.status == .created)
        #expect(provider.recoveries == 1)
        #expect(transport.sent.map { $0.request.headerFields[.authorization] } == ["Bearer token-1", "Bearer token-2"])
        #expect(transport.sent.map { $0.body.map { String(decoding: $0, as: UTF8.self) } } == [payload, payload])
        #expect(events.values == [.retriedAfterRejection])
    }

    @Test func aBodyThatCannotBeReplayedIsNotRetried() async throws {
        let transport = ScriptedClientTransport([(.unauthorized, #"{"error":"expired"}"#), (.created, "{}")])
        let provider = CountingProvider()
        let events = Recorder<AuthEvent>()
        let middleware = CredentialMiddleware(provider: provider, observer: AuthEventObserver { events.append($0) })
        let client = WorkOrdersClient(serverURL: Self.server, transport: transport, middlewares: [middleware])
        let body = HTTPBody(AsyncStream { continuation in
            continuation.yield(ArraySlice(#"{"title":"streamed"}"#.utf8))
            continuation.finish()
        }, length: .unknown, iterationBehavior: .single)
        let (response, rejection) = try await client.createWorkOrder(body)
        #expect(response.status == .unauthorized)
        #expect(String(decoding: rejection, as: UTF8.self) == #"{"error":"expired"}"#)
        #expect(transport.sent.count == 1)
        #expect(provider.recoveries == 1)   // new credentials for the next request
        #expect(events.values.map(\.kind) == [.notRetriedAfterRejection])
        #expect(events.values.first?.description.contains("not retried") == true)
    }

    @Test func aSecondRejectionIsReturnedWithoutAThirdAttempt() async throws {
        let transport = ScriptedClientTransport([(.forbidden, "no"), (.forbidden, "still no"), (.ok, "{}")])
        let client = WorkOrdersClient(serverURL: Self.server, transport: transport,
                                      middlewares: [CredentialMiddleware(provider: CountingProvider())])
        let (response, body) = try await client.listWorkOrders()
        #expect(response.status == .forbidden)
        #expect(String(decoding: body, as: UTF8.self) == "still no")
        #expect(transport.sent.count == 2)
    }

    @Test func anUnrecoveredRejectionIsReturnedWithItsBody() async throws {
        let transport = ScriptedClientTransport([(.unauthorized, "denied")])
        let client = WorkOrdersClient(serverURL: Self.server, transport: transport,
                                      middlewares: [CredentialMiddleware(provider: CountingProvider(recovers: false))])
        let (response, body) = try await client.listWorkOrders()
        #expect(response.status == .unauthorized)
        #expect(String(decoding: body, as: UTF8.self) == "denied")
        #expect(transport.sent.count == 1)
    }

    @Test func credentialsNeverGoOverPlainHTTPOrToAnotherHost() async throws {
        let transport = ScriptedClientTransport([])
        let insecure = WorkOrdersClient(serverURL: URL(string: "http://api.example.com")!, transport: transport,
                                        middlewares: [CredentialMiddleware(provider: CountingProvider())])
        await #expect(throws: AuthError(.insecureURL)) { _ = try await insecure.listWorkOrders() }

        // A Profix-it provider sends its token only to Profix-it's hosts.
        let store = InMemoryTokenStore()
        try await store.save(StoredCredential(accessToken: Secret("profix-access"), expiresAt: Date().addingTimeInterval(600)),
                             for: TokenKey(provider: "profix", account: "default"))
        let profix = ProfixProvider(client: ProfixRegistration(clientID: "id", clientSecret: Secret("s")), transport: MockTransport(), store: store)
        let elsewhere = WorkOrdersClient(serverURL: Self.server, transport: transport,
                                         middlewares: [CredentialMiddleware(provider: profix)])
        await #expect(throws: AuthError(.untrustedHost)) { _ = try await elsewhere.listWorkOrders() }
        #expect(transport.sent.isEmpty)
    }

    /// The OpenAPI transports the end-to-end test runs through: swift-openapi-urlsession always,
    /// swift-openapi-async-http-client with the AsyncHTTPClient trait.
    static var openAPITransports: [String] {
        #if AsyncHTTPClient
        ["URLSession", "AsyncHTTPClient"]
        #else
        ["URLSession"]
        #endif
    }

    static func openAPITransport(_ name: String) -> any ClientTransport {
        #if AsyncHTTPClient
        if name == "AsyncHTTPClient" { return AsyncHTTPClientTransport() }
        #endif
        return OpenAPIURLSession.URLSessionTransport()
    }

    /// The whole path over real sockets: an OpenAPI transport (URLSession's, and
    /// AsyncHTTPClient's with that trait), the middleware and a Profix-it provider against the
    /// sandbox served on loopback. An access token revoked on the server is refreshed once and the
    /// call succeeds.
    @Test(arguments: openAPITransports) func profixOverAnOpenAPITransportRefreshesOnARejection(_ transportName: String) async throws {
        let sandbox = ProfixSandbox()
        let server = try SandboxHTTPServer(sandbox)
        defer { server.stop() }
        var registration = ProfixRegistration(clientID: "openapi-app", clientSecret: Secret("openapi-secret"),
                                              redirectURI: URL(string: "https://app.example.com/cb"))
        registration.region = try .custom(server.baseURL)
        sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .authorizationCode,
                               redirectURI: registration.redirectURI)
        let provider = ProfixProvider(client: registration, transport: AuthCore.URLSessionTransport())
        let pending = try ProfixAuthorizationRequest(client: registration)
        try await provider.exchange(callbackURL: try sandbox.approve(authorizationURL: pending.url), for: pending)

        let client = WorkOrdersClient(serverURL: server.baseURL, transport: Self.openAPITransport(transportName),
                                      middlewares: [CredentialMiddleware(provider: provider)])
        #expect(try await client.listWorkOrders().0.status == .ok)
        sandbox.revokeAccessTokens()
        #expect(try await client.listWorkOrders().0.status == .ok)
        #expect(sandbox.counters.refreshes == 1)
        #expect(sandbox.counters.rejectedAPICalls == 1)
        #expect(sandbox.counters.apiCalls == 2)
    }

    /// A rejection body over the limit is `response_too_large`; any other failure while reading
    /// it (here the stream breaks) passes through as it is.
    @Test func onlyAnOversizeRejectionBodyIsResponseTooLarge() async throws {
        struct Broken: Error {}
        let middleware = CredentialMiddleware(provider: CountingProvider(), maxRejectionBodyBytes: 8)
        let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/workorders")
        let base = Self.server
        let big = await #expect(throws: AuthError.self) {
            _ = try await middleware.intercept(request, body: nil, baseURL: base, operationID: "op") { _, _, _ in
                (HTTPResponse(status: .unauthorized), HTTPBody(String(repeating: "x", count: 64)))
            }
        }
        #expect(big?.code == .responseTooLarge)
        let (stream, continuation) = AsyncThrowingStream<HTTPBody.ByteChunk, any Error>.makeStream()
        continuation.yield(ArraySlice("abc".utf8))
        continuation.finish(throwing: Broken())
        await #expect(throws: Broken.self) {
            _ = try await middleware.intercept(request, body: nil, baseURL: base, operationID: "op") { _, _, _ in
                (HTTPResponse(status: .unauthorized), HTTPBody(stream, length: .unknown))
            }
        }
    }
}
#endif

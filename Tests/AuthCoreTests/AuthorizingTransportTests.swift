import AuthCore
import AuthTesting
import Foundation
import Testing
import TestSupport

/// A provider that hands out `token-N` and moves to the next token when asked to recover.
private actor CountingProvider: CredentialProvider {
    nonisolated let name = "test"
    private(set) var generation = 1
    private(set) var recoverCalls = 0
    let recovers: Bool

    init(recovers: Bool) { self.recovers = recovers }

    func authorize(_ request: HTTPRequest) async throws -> HTTPRequest {
        var request = request
        request.headers[.authorization] = "Bearer token-\(generation)"
        return request
    }

    func recover(from response: HTTPResponse, to request: HTTPRequest) async throws -> Bool {
        recoverCalls += 1
        if recovers { generation += 1 }
        return recovers
    }
}

@Suite struct AuthorizingTransportTests {
    let url = URL(string: "https://api.example.com/items")!

    @Test func addsCredentialsWithoutChangingTheCallersRequest() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let client = AuthorizingTransport(base: mock, provider: CountingProvider(recovers: false))
        let request = HTTPRequest(url: url, headers: ["Accept": "application/json"])
        let response = try await client.send(request)
        #expect(response.status == 200)
        #expect(mock.requests.first?.headers[.authorization] == "Bearer token-1")
        #expect(mock.requests.first?.headers[.accept] == "application/json")
        #expect(request.headers[.authorization] == nil)
    }

    @Test func retriesExactlyOnceAfter401WithNewCredentials() async throws {
        let mock = MockTransport(responses: [.json(401, "{}"), .json(200, #"{"ok":true}"#)])
        let provider = CountingProvider(recovers: true)
        let events = Recorder<AuthEvent>()
        let client = AuthorizingTransport(base: mock, provider: provider,
                                          observer: AuthEventObserver { e in events.append(e) })
        let response = try await client.send(HTTPRequest(url: url))
        #expect(response.status == 200)
        #expect(mock.requestCount == 2)
        #expect(mock.requests.map { $0.headers[.authorization] } == ["Bearer token-1", "Bearer token-2"])
        #expect(await provider.recoverCalls == 1)
        #expect(events.values == [.retriedAfterRejection(provider: "test", status: 401)])
    }

    @Test func secondRejectionBecomesTypedErrorWithoutAThirdAttempt() async throws {
        let mock = MockTransport { _ in .json(401, "{}") }
        let provider = CountingProvider(recovers: true)
        let client = AuthorizingTransport(base: mock, provider: provider)
        let error = await #expect(throws: AuthError.self) { try await client.send(HTTPRequest(url: self.url)) }
        #expect(error?.code == .invalidCredentials)
        #expect(error?.status == 401)
        #expect(mock.requestCount == 2)
        #expect(await provider.recoverCalls == 1)
    }

    @Test func unrecovered401And403BecomeTypedErrors() async throws {
        for (status, code) in [(401, AuthError.Code.invalidCredentials), (403, .forbidden)] {
            let mock = MockTransport { _ in .json(status, "{}") }
            let client = AuthorizingTransport(base: mock, provider: CountingProvider(recovers: false))
            let error = await #expect(throws: AuthError.self) { try await client.send(HTTPRequest(url: self.url)) }
            #expect(error?.code == code)
            #expect(mock.requestCount == 1)
        }
    }

    @Test func otherStatusesPassThrough() async throws {
        let mock = MockTransport(responses: [.json(500, "{}"), .json(404, "{}")])
        let client = AuthorizingTransport(base: mock, provider: CountingProvider(recovers: true))
        #expect(try await client.send(HTTPRequest(url: url)).status == 500)
        #expect(try await client.send(HTTPRequest(url: url)).status == 404)
        #expect(mock.requestCount == 2)
    }

    @Test func refusesPlainHTTPBeforeAuthorizingOrSending() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let authorized = Recorder<Int>()
        let provider = ClosureCredentialProvider { request in
            authorized.append(1)
            return request
        }
        let client = AuthorizingTransport(base: mock, provider: provider)
        let insecure = try #require(URL(string: "http://api.example.com/items"))
        let error = await #expect(throws: AuthError.self) { try await client.send(HTTPRequest(url: insecure)) }
        #expect(error?.code == .insecureURL)
        #expect(mock.requestCount == 0)
        #expect(authorized.count == 0)
    }

    @Test func providerThatRedirectsToInsecureURLIsRefused() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ClosureCredentialProvider { request in
            var request = request
            request.url = URL(string: "http://evil.example.com/steal")!
            request.headers[.authorization] = "Bearer x"
            return request
        }
        let client = AuthorizingTransport(base: mock, provider: provider)
        let error = await #expect(throws: AuthError.self) { try await client.send(HTTPRequest(url: self.url)) }
        #expect(error?.code == .insecureURL)
        #expect(mock.requestCount == 0)
    }
}

@Suite struct AuthorizingTransportRecoverInputTests {
    @Test func recoverReceivesTheRejectedRequestWithItsCredentials() async throws {
        let seen = Recorder<String?>()
        let provider = ClosureCredentialProvider(
            authorize: { request in
                var request = request
                request.headers[.authorization] = "Bearer sent-token"
                return request
            },
            recover: { _, rejected in
                seen.append(rejected.headers[.authorization])
                return false
            }
        )
        let client = AuthorizingTransport(base: MockTransport(responses: [.json(401, "{}")]), provider: provider)
        await #expect(throws: AuthError.self) { try await client.send(HTTPRequest(url: URL(string: "https://api.example.com/x")!)) }
        #expect(seen.values == ["Bearer sent-token"])
    }
}

/// Header injection is refused by the authorizing transport itself, whatever transport is below.
@Suite struct AuthorizingTransportHeaderTests {
    @Test(arguments: ["Bearer a\r\nX-Evil: 1", "Bearer a\nb", "Bearer a\u{0}"])
    func aProviderThatInjectsALineBreakNeverReachesTheTransport(_ value: String) async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ClosureCredentialProvider(name: "t") { request in
            var request = request
            request.headers[.authorization] = value
            return request
        }
        let client = AuthorizingTransport(base: mock, provider: provider)
        let url = try #require(URL(string: "https://api.example.com/x"))
        await #expect(throws: AuthError(.invalidRequest)) { _ = try await client.send(HTTPRequest(url: url)) }
        #expect(mock.requestCount == 0)
    }
}

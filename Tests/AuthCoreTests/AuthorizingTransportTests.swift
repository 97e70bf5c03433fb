import AuthCore
import HTTPTypes
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

    func authorize(_ request: inout HTTPRequest) async throws {
        request.headerFields[.authorization] = "Bearer token-\(generation)"
    }

    func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
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
        let request = HTTPRequest(url: url, headerFields: [HTTPField.Name("Accept")!: "application/json"])
        let response = try await client.reply(request)
        #expect(response.status == 200)
        #expect(mock.requests.first?.headerFields[.authorization] == "Bearer token-1")
        #expect(mock.requests.first?.headerFields[.accept] == "application/json")
        #expect(request.headerFields[.authorization] == nil)
    }

    @Test func retriesExactlyOnceAfter401WithNewCredentials() async throws {
        let mock = MockTransport(responses: [.json(401, "{}"), .json(200, #"{"ok":true}"#)])
        let provider = CountingProvider(recovers: true)
        let events = Recorder<AuthEvent>()
        let client = AuthorizingTransport(base: mock, provider: provider,
                                          observer: AuthEventObserver { e in events.append(e) })
        let response = try await client.reply(HTTPRequest(url: url))
        #expect(response.status == 200)
        #expect(mock.requestCount == 2)
        #expect(mock.requests.map { $0.headerFields[.authorization] } == ["Bearer token-1", "Bearer token-2"])
        #expect(await provider.recoverCalls == 1)
        #expect(events.values == [.retriedAfterRejection(provider: "test", status: 401)])
    }

    @Test func secondRejectionBecomesTypedErrorWithoutAThirdAttempt() async throws {
        let mock = MockTransport { _ in .json(401, "{}") }
        let provider = CountingProvider(recovers: true)
        let client = AuthorizingTransport(base: mock, provider: provider)
        let error = await #expect(throws: AuthError.self) { try await client.reply(HTTPRequest(url: self.url)) }
        #expect(error?.code == .invalidCredentials)
        #expect(error?.status == 401)
        #expect(mock.requestCount == 2)
        #expect(await provider.recoverCalls == 1)
    }

    @Test func unrecovered401And403BecomeTypedErrors() async throws {
        for (status, code) in [(401, AuthError.Code.invalidCredentials), (403, .forbidden)] {
            let mock = MockTransport { _ in .json(status, "{}") }
            let client = AuthorizingTransport(base: mock, provider: CountingProvider(recovers: false))
            let error = await #expect(throws: AuthError.self) { try await client.reply(HTTPRequest(url: self.url)) }
            #expect(error?.code == code)
            #expect(mock.requestCount == 1)
        }
    }

    @Test func otherStatusesPassThrough() async throws {
        let mock = MockTransport(responses: [.json(500, "{}"), .json(404, "{}")])
        let client = AuthorizingTransport(base: mock, provider: CountingProvider(recovers: true))
        #expect(try await client.reply(HTTPRequest(url: url)).status == 500)
        #expect(try await client.reply(HTTPRequest(url: url)).status == 404)
        #expect(mock.requestCount == 2)
    }

    @Test func refusesPlainHTTPBeforeAuthorizingOrSending() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let authorized = Recorder<Int>()
        let provider = ClosureCredentialProvider { _ in
            authorized.append(1)
        }
        let client = AuthorizingTransport(base: mock, provider: provider)
        let insecure = try #require(URL(string: "http://api.example.com/items"))
        let error = await #expect(throws: AuthError.self) { try await client.reply(HTTPRequest(url: insecure)) }
        #expect(error?.code == .insecureURL)
        #expect(mock.requestCount == 0)
        #expect(authorized.count == 0)
    }

    @Test func providerThatRedirectsToInsecureURLIsRefused() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ClosureCredentialProvider { request in
            request.url = URL(string: "http://evil.example.com/steal")!
            request.headerFields[.authorization] = "Bearer x"
        }
        let client = AuthorizingTransport(base: mock, provider: provider)
        let error = await #expect(throws: AuthError.self) { try await client.reply(HTTPRequest(url: self.url)) }
        #expect(error?.code == .insecureURL)
        #expect(mock.requestCount == 0)
    }
}

@Suite struct AuthorizingTransportRecoverInputTests {
    @Test func recoverReceivesTheRejectedRequestWithItsCredentials() async throws {
        let seen = Recorder<String?>()
        let provider = ClosureCredentialProvider(
            authorize: { request in
                request.headerFields[.authorization] = "Bearer sent-token"
            },
            recover: { _, rejected in
                seen.append(rejected.headerFields[.authorization])
                return false
            }
        )
        let client = AuthorizingTransport(base: MockTransport(responses: [.json(401, "{}")]), provider: provider)
        await #expect(throws: AuthError.self) { try await client.reply(HTTPRequest(url: URL(string: "https://api.example.com/x")!)) }
        #expect(seen.values == ["Bearer sent-token"])
    }
}

/// A header value cannot inject another header, whatever transport is below: swift-http-types
/// legalises every field value (a CR, LF or NUL becomes a space), so what reaches the transport
/// is one field without a line break.
@Suite struct AuthorizingTransportHeaderTests {
    @Test(arguments: ["Bearer a\r\nX-Evil: 1", "Bearer a\nX-Evil: 1", "Bearer a\u{0}X-Evil: 1"])
    func aProviderThatInjectsALineBreakCannotAddAHeader(_ value: String) async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ClosureCredentialProvider(name: "t") { request in
            request.headerFields[.authorization] = value
        }
        let client = AuthorizingTransport(base: mock, provider: provider)
        let url = try #require(URL(string: "https://api.example.com/x"))
        _ = try await client.reply(HTTPRequest(url: url))
        let sent = try #require(mock.requests.first)
        #expect(sent.headerFields[values: .authorization].count == 1)
        #expect(sent.headerFields[HTTPField.Name("X-Evil")!] == nil)
        let received = sent.headerFields[.authorization] ?? ""
        #expect(!received.contains("\r") && !received.contains("\n") && !received.contains("\u{0}"))
    }
}

/// The synchronous fast path (`authorizeIfReady`): what it adds is sent, the awaited path is not
/// taken, and a provider that moves the request elsewhere is checked again.
@Suite struct AuthorizingTransportFastPathTests {
    /// Adds a ready header, or answers `false`; optionally moves the request to `moveTo`.
    private struct ReadyProvider: CredentialProvider {
        let name = "ready"
        let ready: Bool
        var moveTo: (scheme: String, authority: String)?
        let awaited = Recorder<Int>()
        let asked = Recorder<Int>()

        func authorizeIfReady(_ request: inout HTTPRequest) throws -> Bool {
            asked.append(1)
            guard ready else { return false }
            if let moveTo {
                request.scheme = moveTo.scheme
                request.authority = moveTo.authority
            }
            request.headerFields[.authorization] = "Bearer ready"
            return true
        }

        func authorize(_ request: inout HTTPRequest) async throws {
            awaited.append(1)
            request.headerFields[.authorization] = "Bearer awaited"
        }
    }

    private let url = URL(string: "https://api.example.com/items")!

    @Test func aReadyCredentialIsSentWithoutTheAwaitedPath() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ReadyProvider(ready: true)
        _ = try await AuthorizingTransport(base: mock, provider: provider).reply(HTTPRequest(url: url))
        #expect(mock.requests.first?.headerFields[.authorization] == "Bearer ready")
        #expect(provider.awaited.values.isEmpty)
    }

    @Test func notReadyTakesTheAwaitedPath() async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ReadyProvider(ready: false)
        _ = try await AuthorizedClient(base: mock, provider: provider).send(HTTPRequest(url: url), body: nil)
        #expect(mock.requests.first?.headerFields[.authorization] == "Bearer awaited")
        #expect(provider.awaited.values == [1])
    }

    /// A provider that leaves the URL to the clients (`requestTargetCheck` is `.byClients`, the
    /// default for every provider outside the SDK) is not even asked for a request the clients
    /// refuse, by either client form.
    @Test(arguments: [false, true])
    func aReadyRequestToPlainHTTPIsRefusedByTheClient(stored: Bool) async throws {
        #expect(ReadyProvider.requestTargetCheck == .byClients)
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ReadyProvider(ready: true)
        let insecure = HTTPRequest(url: try #require(URL(string: "http://api.example.com/items")))
        let error = await #expect(throws: AuthError.self) {
            if stored {
                _ = try await AuthorizedClient(base: mock, provider: provider).send(insecure, body: nil)
            } else {
                _ = try await AuthorizingTransport(base: mock, provider: provider).send(insecure, body: nil)
            }
        }
        #expect(error?.code == .insecureURL)
        #expect(mock.requestCount == 0)
        #expect(provider.asked.values.isEmpty)
        #expect(provider.awaited.values.isEmpty)
    }

    @Test(arguments: [false, true])
    func aFastPathThatMovesTheRequestToPlainHTTPIsRefused(stored: Bool) async throws {
        let mock = MockTransport(responses: [.json(200, "{}")])
        let provider = ReadyProvider(ready: true, moveTo: ("http", "evil.example.com"))
        let error = await #expect(throws: AuthError.self) {
            if stored {
                _ = try await AuthorizedClient(base: mock, provider: provider).send(HTTPRequest(url: self.url), body: nil)
            } else {
                _ = try await AuthorizingTransport(base: mock, provider: provider).send(HTTPRequest(url: self.url), body: nil)
            }
        }
        #expect(error?.code == .insecureURL)
        #expect(mock.requestCount == 0)
    }
}

import AuthCore
import HTTPTypes
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct TransportTests {
    @Test(arguments: TransportKind.all) func getRoundTripsHeaders(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { request in
            .text(200, "hello \(request.headerFields[HTTPField.Name("X-Echo")!] ?? "?")", headers: [("X-Reply", "yes"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        }
        defer { server.stop() }
        let transport = kind.make()
        let url = server.baseURL.appendingPathComponent("greet")
        let response = try await transport.reply(HTTPRequest(url: url, headerFields: [HTTPField.Name("X-Echo")!: "world", HTTPField.Name("Authorization")!: "Bearer abc"]))
        #expect(response.status == 200)
        #expect(response.text == "hello world")
        #expect(response.headerFields[HTTPField.Name("x-reply")!] == "yes")
        let cookies = response.headerFields[values: .setCookie].joined(separator: ",")
        #expect(cookies.contains("a=1") && cookies.contains("b=2"))
        let received = try #require(server.requests.first)
        #expect(received.method == "GET")
        #expect(received.target == "/greet")
        #expect(received.headerFields[.authorization] == "Bearer abc")
    }

    @Test(arguments: TransportKind.all) func postSendsTheBody(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { request in
            LoopbackHTTPServer.Response(status: 201, headers: [("Content-Type", "application/json")], body: request.body)
        }
        defer { server.stop() }
        let transport = kind.make()
        let body = Data(#"{"userId":"DavidB","n":[1,2,3]}"#.utf8)
        let request = OutgoingRequest(method: .post, url: server.baseURL.appendingPathComponent("OtpRequest"),
                                  headerFields: [.contentType: "application/json"], body: body)
        let response = try await transport.reply(request)
        #expect(response.status == 201)
        #expect(response.body == body)
        #expect(server.requests.first?.method == "POST")
        #expect(server.requests.first?.headerFields[.contentType] == "application/json")
    }

    @Test(arguments: TransportKind.all) func connectionRefusedIsTyped(_ kind: TransportKind) async throws {
        // Take a free port, then close the server so nothing listens there.
        let server = try LoopbackHTTPServer { _ in .text(200, "") }
        let url = server.baseURL
        server.stop()
        let transport = kind.make()
        let error = await #expect(throws: AuthError.self) { try await transport.reply(HTTPRequest(url: url.appendingPathComponent("secret-path"))) }
        #expect(error?.code == .connectionFailed)
        // The message says where the connection went, and not the path.
        #expect(error?.serverMessage?.contains("127.0.0.1:\(server.port)") == true)
        #expect(error?.serverMessage?.contains("secret-path") == false)
    }

    @Test(arguments: TransportKind.all) func crossHostRedirectIsNotFollowedAndLeaksNothing(_ kind: TransportKind) async throws {
        let target = try LoopbackHTTPServer { _ in .text(200, "you should not be here") }
        defer { target.stop() }
        // Same machine, other host name and port: a different origin.
        let elsewhere = "http://localhost:\(target.port)/collect"
        let origin = try LoopbackHTTPServer { _ in .text(302, "moved", headers: [("Location", elsewhere)]) }
        defer { origin.stop() }
        let transport = kind.make()
        let response = try await transport.reply(HTTPRequest(url: origin.baseURL.appendingPathComponent("start"),
                                                            headerFields: [.authorization: "Bearer must-not-travel"]))
        #expect(response.status == 302)
        #expect(response.headerFields[.location] == elsewhere)
        #expect(origin.requests.count == 1)
        #expect(target.requests.allSatisfy { $0.headerFields[.authorization] == nil })
        #expect(target.requests.isEmpty)
    }

    @Test(arguments: TransportKind.all) func sameOriginRedirectIsFollowed(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { request in
            request.target == "/old" ? .text(301, "", headers: [("Location", "/new")]) : .text(200, "new place")
        }
        defer { server.stop() }
        let response = try await kind.make().reply(HTTPRequest(url: server.baseURL.appendingPathComponent("old")))
        #expect(response.status == 200)
        #expect(response.text == "new place")

        var configuration = URLSessionTransport.Configuration()
        configuration.redirects = .none
        let strict = try await kind.make(configuration).reply(HTTPRequest(url: server.baseURL.appendingPathComponent("old")))
        #expect(strict.status == 301)
    }

    @Test(arguments: TransportKind.all) func bodyCapIsEnforced(_ kind: TransportKind) async throws {
        let big = Data(repeating: UInt8(ascii: "x"), count: 200_000)
        let server = try LoopbackHTTPServer { _ in LoopbackHTTPServer.Response(status: 200, body: big) }
        defer { server.stop() }
        var configuration = URLSessionTransport.Configuration()
        configuration.maxResponseBytes = 10_000
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(configuration).reply(HTTPRequest(url: server.baseURL))
        }
        #expect(error?.code == .responseTooLarge)
        configuration.maxResponseBytes = 300_000
        let response = try await kind.make(configuration).reply(HTTPRequest(url: server.baseURL))
        #expect(response.body.count == big.count)
    }

    @Test(arguments: TransportKind.all) func timeoutIsTyped(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { _ in
            Thread.sleep(forTimeInterval: 1.5)
            return .text(200, "late")
        }
        defer { server.stop() }
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(timeout: .milliseconds(300)).reply(HTTPRequest(url: server.baseURL))
        }
        #expect(error?.code == .timeout)
    }

    /// An IPv6 loopback literal is a URL like any other: where nothing listens, the answer is a
    /// refused connection naming the address, not a malformed URL.
    @Test(arguments: TransportKind.all) func anIPv6LoopbackLiteralIsAnOrdinaryAddress(_ kind: TransportKind) async throws {
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(timeout: .seconds(5)).reply(HTTPRequest(url: URL(string: "http://[::1]:9/status")!))
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.serverMessage?.contains("::1") == true)
    }

    @Test(arguments: TransportKind.all) func unknownHostIsADNSFailure(_ kind: TransportKind) async throws {
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(timeout: .seconds(5)).reply(HTTPRequest(url: URL(string: "https://no-such-host.invalid/")!))
        }
        #expect(error?.code == .dnsFailure || error?.code == .connectionFailed)
    }
}

@Suite(.serialized) struct TransportInjectionTests {
    /// swift-http-types cannot build a method that would inject headers, so none can reach the
    /// wire; a header value's line break is legalised to a space before it is sent.
    @Test(arguments: TransportKind.all) func neitherAMethodNorAHeaderValueCanInjectHeaders(_ kind: TransportKind) async throws {
        #expect(HTTPRequest.Method("GET /a HTTP/1.1\r\nX-Injected: yes\r\nX-B:") == nil)
        let server = try LoopbackHTTPServer { _ in .text(200, "") }
        defer { server.stop() }
        var request = HTTPRequest(url: server.baseURL)
        request.headerFields[HTTPField.Name("X-A")!] = "b\r\nX-Injected: 1"
        _ = try await kind.make().reply(request)
        let received = try #require(server.requests.first)
        #expect(received.headerFields[HTTPField.Name("X-Injected")!] == nil)
    }
}

@Suite(.serialized) struct TransportDeadlineTests {
    /// Sub-second and fractional deadlines hold: a request to a server that answers after 8 s
    /// ends with a timeout no earlier than its own deadline, not at once (FoundationNetworking
    /// truncates 300 ms to 0) and not at a whole second (1.5 s became 1 s).
    @Test(arguments: TransportKind.all, [300, 800, 1_500])
    func theDeadlineHoldsAtAnyLength(_ kind: TransportKind, _ milliseconds: Int) async throws {
        let server = try LoopbackHTTPServer { _ in
            Thread.sleep(forTimeInterval: 8)
            return .text(200, "late")
        }
        defer { server.stop() }
        let timeout = Duration.milliseconds(milliseconds)
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(timeout: timeout).reply(HTTPRequest(url: server.baseURL))
        }
        let elapsed = clock.now - start
        // Not at once and not early (the truncation bugs); the server answers only after 8 s, so
        // a deadline that never fired would show up as a 200, not a timeout. No upper bound on
        // time: a loaded machine may run the timer late.
        #expect(error?.code == .timeout)
        #expect(elapsed >= timeout * 0.9)
    }

    /// A body announced larger than the cap ends the request when the headers arrive, without
    /// waiting for bytes that may never come (here the server stalls after 1 KiB).
    @Test(arguments: TransportKind.all) func anAnnouncedLengthOverTheCapEndsTheRequestAtOnce(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { _ in
            var response = LoopbackHTTPServer.Response(status: 200, body: Data(count: 1_024))
            response.announcedLength = 100_000_000
            response.holdAfterBody = .seconds(6)
            return response
        }
        defer { server.stop() }
        var configuration = URLSessionTransport.Configuration()
        configuration.maxResponseBytes = 64 * 1_024
        configuration.timeout = .seconds(5)
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(configuration).reply(HTTPRequest(url: server.baseURL))
        }
        #expect(error?.code == .responseTooLarge)
        #expect(clock.now - start < .seconds(3))
    }

    /// A body without a length is counted as it streams in and cut off at the cap.
    @Test(arguments: TransportKind.all) func aStreamedBodyWithoutALengthIsCutOffAtTheCap(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { _ in
            var response = LoopbackHTTPServer.Response(status: 200, body: Data(count: 200 * 1_024))
            response.announcedLength = -1
            return response
        }
        defer { server.stop() }
        var configuration = URLSessionTransport.Configuration()
        configuration.maxResponseBytes = 64 * 1_024
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(configuration).reply(HTTPRequest(url: server.baseURL))
        }
        #expect(error?.code == .responseTooLarge)
    }

    /// A server that answers well within a sub-second timeout is waited for.
    @Test(arguments: TransportKind.all) func anAnswerWithinASubsecondTimeoutArrives(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { _ in
            Thread.sleep(forTimeInterval: 0.25)
            return .text(200, "in time")
        }
        defer { server.stop() }
        let response = try await kind.make(timeout: .milliseconds(900)).reply(HTTPRequest(url: server.baseURL))
        #expect(response.status == 200)
        #expect(response.text == "in time")
    }

    /// A server that sends a byte every 100 ms keeps URLSession's idle timer happy forever; the
    /// transport's total deadline still ends the request.
    @Test(arguments: TransportKind.all) func aTricklingServerCannotStretchTheTimeout(_ kind: TransportKind) async throws {
        let server = try LoopbackHTTPServer { _ in
            LoopbackHTTPServer.Response(status: 200, body: Data(repeating: UInt8(ascii: "x"), count: 30), trickle: .milliseconds(100))
        }
        defer { server.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: AuthError.self) {
            try await kind.make(timeout: .milliseconds(700)).reply(HTTPRequest(url: server.baseURL))
        }
        #expect(error?.code == .timeout)
        #expect(clock.now - start < .seconds(2.5))   // the body alone would take 3 s
    }
}

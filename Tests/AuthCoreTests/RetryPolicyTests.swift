import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import Testing
import TestSupport

@Suite struct RetryPolicyTests {
    /// A policy whose sleeps are recorded, never slept.
    func policy(maxAttempts: Int, slept: Recorder<Duration>, random: Double = 0.5, maximumRetryAfter: Duration = .seconds(60)) -> RetryPolicy {
        RetryPolicy(
            maxAttempts: maxAttempts, baseDelay: .milliseconds(100), maxDelay: .seconds(1),
            multiplier: 2, jitter: 0.5, maximumRetryAfter: maximumRetryAfter,
            sleep: { d in slept.append(d) },
            random: { random },
            now: { Date(timeIntervalSince1970: 1_000_000) }
        )
    }

    @Test func delaysGrowExponentiallyWithJitterAndCap() {
        let p = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2, jitter: 0.5)
        #expect(p.delay(afterAttempt: 1, randomValue: 0) == .milliseconds(50))
        #expect(p.delay(afterAttempt: 1, randomValue: 1) == .milliseconds(100))
        #expect(p.delay(afterAttempt: 2, randomValue: 1) == .milliseconds(200))
        #expect(p.delay(afterAttempt: 3, randomValue: 1) == .milliseconds(400))
        #expect(p.delay(afterAttempt: 10, randomValue: 1) == .seconds(1))
        #expect(p.delay(afterAttempt: 10, randomValue: 0) == .milliseconds(500))
    }

    @Test func retriesTransientStatusesThenSucceeds() async throws {
        let slept = Recorder<Duration>()
        let mock = MockTransport(responses: [.json(503, "{}"), .json(502, "{}"), .json(200, "{}")])
        let request = HTTPRequest(url: URL(string: "https://x.example/token")!)
        let response = try await policy(maxAttempts: 3, slept: slept).run { try await mock.send(request) }
        #expect(response.0.status == 200)
        #expect(mock.requestCount == 3)
        #expect(slept.values == [.milliseconds(75), .milliseconds(150)])
    }

    @Test func stopsAfterMaxAttemptsAndReturnsTheLastResponse() async throws {
        let slept = Recorder<Duration>()
        let mock = MockTransport { _ in .json(500, "{}") }
        let request = HTTPRequest(url: URL(string: "https://x.example/token")!)
        let response = try await policy(maxAttempts: 4, slept: slept).run { try await mock.send(request) }
        #expect(response.0.status == 500)
        #expect(mock.requestCount == 4)
        #expect(slept.count == 3)
    }

    @Test func doesNotRetryClientErrorsOr501() async throws {
        for status in [400, 401, 404, 501] {
            let slept = Recorder<Duration>()
            let mock = MockTransport { _ in .json(status, "{}") }
            let request = HTTPRequest(url: URL(string: "https://x.example/token")!)
            let response = try await policy(maxAttempts: 3, slept: slept).run { try await mock.send(request) }
            #expect(response.0.status.code == status)
            #expect(mock.requestCount == 1)
        }
    }

    /// A `Retry-After` that is not printable ASCII is no date, and never reaches the date parser
    /// (Foundation's DateFormatter on Linux trapped on the bytes the fuzzer found).
    @Test func aRetryAfterThatIsNotASCIIIsIgnoredNotACrash() {
        let found = String(decoding: [0x3C, 0x53, 0x00, 0x00, 0xDE, 0xA9, 0xFF, 0xFF, 0x31, 0xFF] as [UInt8], as: UTF8.self)
        for value in [found, "Mon, 12 Jan 1970 13:46:47 GMT\u{07A9}", "ީ", String(repeating: "Mon, ", count: 20)] {
            let response = HTTPResponse(status: .serviceUnavailable, headerFields: [.retryAfter: value])
            #expect(RetryPolicy.retryAfter(in: response, now: Date(timeIntervalSince1970: 1_000_000)) == nil)
        }
        let date = HTTPResponse(status: .serviceUnavailable, headerFields: [.retryAfter: "Mon, 12 Jan 1970 13:46:47 GMT"])
        #expect(RetryPolicy.retryAfter(in: date, now: Date(timeIntervalSince1970: 1_000_000)) == .seconds(7))
    }

    @Test func honoursRetryAfterSecondsAndDates() async throws {
        let slept = Recorder<Duration>()
        let date = "Mon, 12 Jan 1970 13:46:47 GMT"   // 7 s after the injected now (1,000,000 s)
        let mock = MockTransport(responses: [
            .json(429, "{}", headerFields: [.retryAfter: "3"]),
            .json(503, "{}", headerFields: [.retryAfter: date]),
            .json(200, "{}"),
        ])
        let request = HTTPRequest(url: URL(string: "https://x.example/token")!)
        let response = try await policy(maxAttempts: 3, slept: slept).run { try await mock.send(request) }
        #expect(response.0.status == 200)
        #expect(slept.values == [.seconds(3), .seconds(7)])
    }

    @Test func tooLongRetryAfterBecomesRateLimitedWithoutSleeping() async throws {
        let slept = Recorder<Duration>()
        let mock = MockTransport { _ in .json(429, "{}", headerFields: [.retryAfter: "3600"]) }
        let request = HTTPRequest(url: URL(string: "https://x.example/token")!)
        let error = await #expect(throws: AuthError.self) {
            try await policy(maxAttempts: 3, slept: slept, maximumRetryAfter: .seconds(30)).run { try await mock.send(request) }
        }
        #expect(error?.code == .rateLimited)
        #expect(error?.retryAfter == .seconds(3600))
        #expect(slept.values.isEmpty)
        #expect(mock.requestCount == 1)
    }

    @Test func retriesTransientTransportErrorsButNotOthers() async throws {
        let slept = Recorder<Duration>()
        let mock = MockTransport(responses: [.json(200, "{}")])
        mock.clearRequests()
        let failing = MockTransport()
        failing.enqueue(failure: AuthError(.connectionFailed))
        failing.enqueue(failure: AuthError(.timeout))
        failing.enqueue(.json(200, "{}"))
        let request = HTTPRequest(url: URL(string: "https://x.example/token")!)
        let response = try await policy(maxAttempts: 3, slept: slept).run { try await failing.send(request) }
        #expect(response.0.status == 200)
        #expect(failing.requestCount == 3)

        let fatal = MockTransport.failing(.tlsFailure)
        let error = await #expect(throws: AuthError.self) {
            try await policy(maxAttempts: 3, slept: slept).run { try await fatal.send(request) }
        }
        #expect(error?.code == .tlsFailure)
        #expect(fatal.requestCount == 1)
    }
}

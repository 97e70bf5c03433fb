@testable import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import Testing

/// Every fault of ``FaultInjectingTransport`` does what its documentation says, and the seeded
/// random mode repeats exactly.
@Suite struct FaultInjectingTransportTests {
    static let url = URL(string: "https://api.example.com/token")!
    static let body = Data(#"{"access_token":"abc","token_type":"Bearer","expires_in":600}"#.utf8)

    /// A base that answers every request 200 with a JSON body and two header fields.
    static func base() -> MockTransport {
        MockTransport { _ in
            MockTransport.Response(status: 200, headerFields: [.contentType: "application/json", HTTPField.Name("X-Request-Id")!: "r-1"], body: body)
        }
    }

    static func request(_ path: String = "/token") -> HTTPRequest {
        HTTPRequest(method: .post, url: URL(string: "https://api.example.com" + path)!)
    }

    /// What one request produced, as comparable text.
    static func outcome(_ transport: FaultInjectingTransport<MockTransport>, _ request: HTTPRequest = request()) async -> String {
        do {
            let response = try await transport.reply(request)
            let headers = response.headerFields.map { "\($0.name.canonicalName)=\($0.value)" }.joined(separator: ",")
            return "\(response.status) [\(headers)] \(response.text)"
        } catch let error as AuthError {
            return "error \(error.code)"
        } catch {
            return "error \(type(of: error))"
        }
    }

    // MARK: - Scripted faults

    @Test func withoutFaultsEveryRequestPassesThroughUnchanged() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        for _ in 0..<3 {
            let response = try await faulty.reply(Self.request())
            #expect(response == (try await Self.base().reply(Self.request())))
        }
        #expect(base.requestCount == 3)
        #expect(faulty.forwardedCount == 3)
        #expect(faulty.receivedCount == 3)
        #expect(faulty.injected.isEmpty)
    }

    @Test func dropBeforeProcessingNeverReachesTheBase() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.dropBeforeProcessing)
        do {
            _ = try await faulty.reply(Self.request())
            Issue.record("expected a dropped connection")
        } catch let error as AuthError {
            #expect(error.code == .connectionFailed)
            #expect(error.isTransient)
        }
        #expect(base.requestCount == 0)
        #expect(faulty.forwardedCount == 0)
        #expect(faulty.receivedCount == 1)
        #expect(faulty.injected == [.dropBeforeProcessing])
        // The fault was used up: the next request passes.
        #expect(try await faulty.reply(Self.request()).status == 200)
        #expect(base.requestCount == 1)
    }

    @Test func dropAfterProcessingReachesTheBaseAndLosesTheAnswer() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.dropAfterProcessing)
        await #expect(throws: AuthError(.connectionFailed)) { try await faulty.reply(Self.request()) }
        #expect(base.requestCount == 1)   // the server saw (and processed) the request
        #expect(faulty.forwardedCount == 1)
        #expect(faulty.injected == [.dropAfterProcessing])
    }

    @Test func dropAfterProcessingPassesOnTheBasesOwnFailure() async throws {
        let faulty = FaultInjectingTransport(base: MockTransport.failing(.dnsFailure))
        faulty.inject(.dropAfterProcessing)
        await #expect(throws: AuthError(.dnsFailure)) { try await faulty.reply(Self.request()) }
        #expect(faulty.forwardedCount == 1)
    }

    @Test func timeoutNeverReachesTheBase() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.timeout)
        do {
            _ = try await faulty.reply(Self.request())
            Issue.record("expected a timeout")
        } catch let error as AuthError {
            #expect(error.code == .timeout)
            #expect(error.isTransient)
        }
        #expect(base.requestCount == 0)
    }

    @Test func delayAnswersWithTheBasesResponse() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.delay(.milliseconds(1)))
        let response = try await faulty.reply(Self.request())
        #expect(response.status == 200)
        #expect(response.body == Self.body)
        #expect(base.requestCount == 1)
        #expect(faulty.injected == [.delay(.milliseconds(1))])
    }

    @Test func cancellationDuringADelayIsReportedAndNeverReachesTheBase() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.delay(.seconds(30)))
        let task = Task { try await faulty.reply(Self.request()) }
        task.cancel()
        await #expect(throws: AuthError(.cancelled)) { try await task.value }
        #expect(base.requestCount == 0)
    }

    @Test(arguments: [(500, nil), (502, nil), (503, "1"), (503, nil), (429, "2"), (429, nil)] as [(Int, String?)])
    func statusAnswersWithoutReachingTheBase(status: Int, retryAfter: String?) async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.status(status, retryAfter: retryAfter))
        let response = try await faulty.reply(Self.request())
        #expect(response.status == status)
        #expect(response.headerFields[.retryAfter] == retryAfter)
        #expect(RetryPolicy.isTransient(response.response))
        #expect(RetryPolicy.retryAfter(in: response.response, now: Date()) == retryAfter.flatMap(Int.init).map { .seconds($0) })
        #expect(response.hasJSONContentType)
        #expect(base.requestCount == 0)
    }

    @Test(arguments: [0, 7, 1_000, -3])
    func truncatedBodyKeepsOnlyThePrefix(keep: Int) async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.truncateBody(keepBytes: keep))
        let response = try await faulty.reply(Self.request())
        #expect(base.requestCount == 1)   // the server processed the request
        #expect(response.status == 200)
        #expect(response.headerFields[.contentType] == "application/json")
        #expect(response.body == Self.body.prefix(max(0, keep)))
        if keep > 0, keep < Self.body.count {
            #expect((try? JSONSerialization.jsonObject(with: response.body)) == nil)
        }
    }

    @Test func htmlErrorPageComesFromAProxyNotTheServer() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.htmlErrorPage(status: 502))
        let response = try await faulty.reply(Self.request())
        #expect(response.status == 502)
        #expect(response.looksLikeHTML)
        #expect(!response.hasJSONContentType)
        #expect(response.text.lowercased().hasPrefix("<!doctype html>"))
        #expect(base.requestCount == 0)
    }

    @Test func duplicateHeadersSendsEveryFieldTwice() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.duplicateHeaders(value: "bogus"))
        let response = try await faulty.reply(Self.request())
        #expect(base.requestCount == 1)
        #expect(response.headerFields.count == 4)
        #expect(response.headerFields[values: .contentType] == ["application/json", "bogus"])
        #expect(response.headerFields[values: HTTPField.Name("x-request-id")!] == ["r-1", "bogus"])
        #expect(response.headerFields[values: .contentType].first == "application/json")   // the first value is the server's
        #expect(response.body == Self.body)
    }

    @Test func oauthErrorInA200NeverReachesTheBase() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.oauthErrorIn200(error: "temporarily_unavailable"))
        let response = try await faulty.reply(Self.request())
        #expect(response.status == 200)
        #expect(response.hasJSONContentType)
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: String])
        #expect(object["error"] == "temporarily_unavailable")
        #expect(object["access_token"] == nil)
        #expect(base.requestCount == 0)
    }

    @Test func scriptedFaultsAreUsedInOrderForMatchingRequestsOnly() async throws {
        let base = Self.base()
        let faulty = FaultInjectingTransport(base: base)
        faulty.inject(.timeout, times: 2, when: { $0.url.path == "/token" })
        faulty.inject(.status(503, retryAfter: nil))
        // An API request skips the token-only fault and takes the next matching one.
        #expect(try await faulty.reply(Self.request("/api")).status == 503)
        await #expect(throws: AuthError(.timeout)) { try await faulty.reply(Self.request()) }
        await #expect(throws: AuthError(.timeout)) { try await faulty.reply(Self.request()) }
        #expect(try await faulty.reply(Self.request()).status == 200)
        #expect(faulty.injected == [.status(503, retryAfter: nil), .timeout, .timeout])
        #expect(faulty.receivedCount == 4)
        #expect(faulty.forwardedCount == 1)

        faulty.inject(.dropBeforeProcessing, times: 5)
        faulty.clearFaults()
        #expect(try await faulty.reply(Self.request()).status == 200)
    }

    @Test func theCatalogueHoldsEveryKindOfFault() {
        func kind(_ fault: TransportFault) -> String {
            switch fault {
            case .dropBeforeProcessing: return "dropBefore"
            case .dropAfterProcessing: return "dropAfter"
            case .delay: return "delay"
            case .timeout: return "timeout"
            case .status(_, let retryAfter): return retryAfter == nil ? "status" : "statusRetryAfter"
            case .truncateBody: return "truncate"
            case .htmlErrorPage: return "html"
            case .duplicateHeaders: return "duplicateHeaders"
            case .oauthErrorIn200: return "oauthError"
            }
        }
        let kinds = Set(TransportFault.catalogue.map(kind))
        #expect(kinds == ["dropBefore", "dropAfter", "delay", "timeout", "status", "statusRetryAfter", "truncate", "html",
                          "duplicateHeaders", "oauthError"])
        let statuses = Set(TransportFault.catalogue.compactMap { fault -> Int? in
            if case .status(let status, _) = fault { return status }
            return nil
        })
        #expect(statuses == [500, 502, 503, 429])
        #expect(Set(TransportFault.catalogue.map(\.description)).count == TransportFault.catalogue.count)
    }

    // MARK: - Seeded random faults

    /// The outcome of `count` requests sent one at a time through a fresh seeded transport.
    static func run(seed: UInt64, probability: Double = 0.5, count: Int = 300) async -> (outcomes: [String], injected: [TransportFault]) {
        let faulty = FaultInjectingTransport(base: base(), seed: seed, probability: probability)
        var outcomes: [String] = []
        for _ in 0..<count { outcomes.append(await outcome(faulty)) }
        return (outcomes, faulty.injected)
    }

    @Test func theSameSeedGivesTheSameFaultsInTheSameOrder() async {
        let first = await Self.run(seed: 42)
        let second = await Self.run(seed: 42)
        #expect(first.outcomes == second.outcomes)
        #expect(first.injected == second.injected)
        // About half the requests got a fault, and they are not all the same one.
        #expect((100...200).contains(first.injected.count))
        #expect(Set(first.injected.map(\.description)).count > 5)
    }

    @Test func differentSeedsGiveDifferentFaults() async {
        let a = await Self.run(seed: 1)
        let b = await Self.run(seed: 2)
        #expect(a.injected != b.injected)
        #expect(a.outcomes != b.outcomes)
    }

    @Test func probabilityZeroInjectsNothingAndOneInjectsAlways() async {
        let never = await Self.run(seed: 7, probability: 0, count: 100)
        #expect(never.injected.isEmpty)
        let always = await Self.run(seed: 7, probability: 1, count: 100)
        #expect(always.injected.count == 100)
    }

    @Test func everyCatalogueFaultIsDrawnEventually() async {
        let faulty = FaultInjectingTransport(base: Self.base(), seed: 2024, probability: 1,
                                             faults: TransportFault.catalogue.filter { if case .delay = $0 { false } else { true } })
        for _ in 0..<400 { _ = await Self.outcome(faulty) }
        let drawn = Set(faulty.injected.map(\.description))
        #expect(drawn.count == TransportFault.catalogue.count - 1)
    }

    @Test func requestsThatDoNotMatchNeitherGetFaultsNorShiftTheSequence() async {
        let isToken: @Sendable (MockTransport.Request) -> Bool = { $0.url.path == "/token" }
        let plain = FaultInjectingTransport(base: Self.base(), seed: 99, probability: 0.6, when: isToken)
        let mixed = FaultInjectingTransport(base: Self.base(), seed: 99, probability: 0.6, when: isToken)
        var plainOutcomes: [String] = []
        var mixedOutcomes: [String] = []
        for index in 0..<200 {
            plainOutcomes.append(await Self.outcome(plain))
            if index % 3 == 0 {
                // Interleaved API requests pass untouched and leave the token sequence as it was.
                #expect(await Self.outcome(mixed, Self.request("/api")).hasPrefix("200 "))
            }
            mixedOutcomes.append(await Self.outcome(mixed))
        }
        #expect(plainOutcomes == mixedOutcomes)
        #expect(plain.injected == mixed.injected)
    }

    @Test func scriptedFaultsComeBeforeRandomOnes() async {
        let faulty = FaultInjectingTransport(base: Self.base(), seed: 5, probability: 1, faults: [.timeout])
        faulty.inject(.status(429, retryAfter: "3"))
        #expect(await Self.outcome(faulty).hasPrefix("429 "))
        #expect(await Self.outcome(faulty) == "error timeout")
        #expect(faulty.injected == [.status(429, retryAfter: "3"), .timeout])
    }
}

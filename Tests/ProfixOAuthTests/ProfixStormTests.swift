import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing

/// Ten thousand concurrent authorized requests through one provider whose token just expired.
///
/// Run under ThreadSanitizer with
/// `swift test --sanitize=thread --scratch-path .build-tsan -Xswiftc -DAUTH_TSAN_LOCKS --filter Storm`.
@Suite struct ProfixStormTests {
    static let requests = 10_000
    static let isToken: @Sendable (MockTransport.Request) -> Bool = { $0.url.path.hasSuffix("/token") }

    /// Sends `count` authorized API requests at once; returns their statuses.
    static func storm<Base: HTTPTransport>(_ api: AuthorizingTransport<Base, ProfixProvider>, count: Int = requests) async throws -> [Int] {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask { try await api.reply(HTTPRequest(url: Fixture.apiURL)).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
    }

    @Test func tenThousandRequestsOnAnExpiredTokenCauseOneTokenCall() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock) { $0.tokenLatency = .milliseconds(20) }
        let store = InMemoryTokenStore()
        let provider = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let old = try #require(try await store.load(provider.key))
        let before = sandbox.counters
        clock.advance(600)

        let statuses = try await Self.storm(AuthorizingTransport(base: sandbox, provider: provider))

        #expect(statuses.count == Self.requests)
        #expect(statuses.allSatisfy { $0 == 200 })
        let after = sandbox.counters
        #expect(after.tokenRequests == before.tokenRequests + 1)
        #expect(after.refreshes == 1)
        #expect(after.apiCalls - before.apiCalls == Self.requests)
        #expect(after.rejectedAPICalls == 0)
        let new = try #require(try await store.load(provider.key))
        #expect(new.accessToken != old.accessToken)
        #expect(new == (try await provider.credential()))
    }

    @Test func stormWhileTheRefreshFailsTwiceThenSucceeds() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock) { $0.tokenLatency = .milliseconds(20) }
        let faulty = FaultInjectingTransport(base: sandbox)
        let events = EventCollector()
        // Real (short) back-off, so the storm piles up behind the failing attempts.
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), jitter: 0)
        let provider = Fixture.provider(sandbox: faulty, clock: clock,
                                        configuration: .init(retryPolicy: retry), observer: events.observer)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let before = sandbox.counters
        let sent = faulty.receivedCount
        clock.advance(600)
        faulty.inject(.status(503, retryAfter: nil), times: 2, when: Self.isToken)

        let statuses = try await Self.storm(AuthorizingTransport(base: sandbox, provider: provider))

        #expect(statuses.count == Self.requests)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(faulty.receivedCount - sent == 3)   // two 503s and the attempt that worked: bounded by maxAttempts
        #expect(faulty.injected == [.status(503, retryAfter: nil), .status(503, retryAfter: nil)])
        #expect(sandbox.counters.tokenRequests == before.tokenRequests + 1)
        #expect(sandbox.counters.refreshes == 1)   // one rotation
        #expect(sandbox.counters.rejectedAPICalls == 0)
        let retries = events.all.filter { $0.kind == .transientRetry }
        #expect(retries.count == 2)
        #expect(events.all.filter { $0.kind == .credentialRefreshed }.count == 1)
    }

    /// The refresh is held at the door of `/token`; then the task that started it and half of
    /// the ten thousand waiting tasks are cancelled, and the door opens. The shared refresh must
    /// not be cancelled with them: the sandbox's latency hook (a cancellable sleep) runs inside
    /// the refresh and would fail it if it were.
    @Test func cancellingHalfTheWaitersDoesNotCancelTheSharedRefresh() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock) { $0.tokenLatency = .milliseconds(20) }
        let gate = TokenGate(base: sandbox)
        let provider = Fixture.provider(sandbox: gate, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let before = sandbox.counters
        let api = AuthorizingTransport(base: sandbox, provider: provider)
        clock.advance(600)
        gate.close()

        let leader = Task { try await api.reply(HTTPRequest(url: Fixture.apiURL)).status }
        await gate.waitForArrival()   // the refresh is in flight, started by `leader`
        let started = Countdown(Self.requests)
        var waiters: [Task<Int, any Error>] = []
        waiters.reserveCapacity(Self.requests)
        for _ in 0..<Self.requests {
            waiters.append(Task {
                started.tick()
                return try await api.reply(HTTPRequest(url: Fixture.apiURL)).status
            })
        }
        await started.wait()
        leader.cancel()
        for (index, waiter) in waiters.enumerated() where index.isMultiple(of: 2) { waiter.cancel() }
        gate.open()

        var kept: [Int] = []
        var cancelledOutcomes: [String] = []
        for (index, waiter) in waiters.enumerated() {
            let result = await waiter.result
            if index.isMultiple(of: 2) {
                switch result {
                case .success(let status): cancelledOutcomes.append(String(status))
                case .failure(let error): cancelledOutcomes.append((error as? AuthError)?.code.rawValue ?? "\(type(of: error))")
                }
            } else {
                kept.append((try? result.get()) ?? -1)
            }
        }
        let leaderOutcome = await leader.result

        #expect(kept.count == Self.requests / 2)
        #expect(kept.allSatisfy { $0 == 200 })
        // A cancelled waiter either got its answer anyway or was told it was cancelled; never
        // another error, and never a second refresh.
        #expect(cancelledOutcomes.allSatisfy { $0 == "200" || $0 == AuthError.Code.cancelled.rawValue })
        if case .failure(let error) = leaderOutcome { #expect((error as? AuthError)?.code == .cancelled) }
        #expect(gate.arrivals == 1)
        #expect(sandbox.counters.tokenRequests == before.tokenRequests + 1)
        #expect(sandbox.counters.refreshes == 1)
        #expect(sandbox.counters.tokenErrors == 0)
        #expect(!(await provider.requiresReauthorization))
    }
}

/// Holds `/token` requests while closed, so a test knows a refresh is in flight and can act
/// before it completes.
final class TokenGate: HTTPTransport {
    private struct State {
        var closed = false
        var arrivals = 0
        var held: [CheckedContinuation<Void, Never>] = []
        var watchers: [CheckedContinuation<Void, Never>] = []
    }

    let base: any HTTPTransport
    private let state = Locked(State())

    init(base: any HTTPTransport) { self.base = base }

    /// How many `/token` requests were held.
    var arrivals: Int { state.withLock { $0.arrivals } }

    func close() { state.withLock { $0.closed = true } }

    func open() {
        let held = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = false
            defer { state.held = [] }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    /// Returns once a `/token` request waits at the closed gate.
    func waitForArrival() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let arrived = state.withLock { state -> Bool in
                if state.arrivals > 0 { return true }
                state.watchers.append(continuation)
                return false
            }
            if arrived { continuation.resume() }
        }
    }

    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        if request.url?.path.hasSuffix("/token") == true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (pass, watchers) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    guard state.closed else { return (true, []) }
                    state.arrivals += 1
                    state.held.append(continuation)
                    defer { state.watchers = [] }
                    return (false, state.watchers)
                }
                for watcher in watchers { watcher.resume() }
                if pass { continuation.resume() }
            }
        }
        return try await base.send(request, body: body)
    }
}

/// Counts down to zero; `wait()` returns once it got there.
final class Countdown: Sendable {
    private struct State {
        var remaining: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Locked<State>

    init(_ count: Int) { state = Locked(State(remaining: count)) }

    func tick() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.remaining -= 1
            guard state.remaining <= 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in ready { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.remaining <= 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import ProfitAuthTesting
import Foundation
import Testing
import TestSupport
@testable import ProfitAuth

/// `addToken`, `redeemOTP` and `deleteToken` running at the same time, against ``ProfitSandbox``:
/// whatever the interleaving, the token in memory and the token in the store end up the same,
/// and a deletion that did not remove the local token says so.
@Suite struct ProfitConcurrencyTests {
    /// Two adds; the first one's save is held until the second has started. The second add is
    /// the later operation, so its token must be the one in memory and in the store.
    @Test func concurrentAddsEndOnOneTokenInMemoryAndStore() async throws {
        let sandbox = Fixtures.sandbox()
        let store = GatedStore()
        let events = EventStream()
        let provider = try Self.provider(transport: sandbox, store: store, events: events)
        let first = try sandbox.issueToken(for: "DavidB")
        let second = try sandbox.issueToken(for: "DavidB")

        store.arm()
        let adding = Task { try await provider.addToken(first, userId: "DavidB") }
        await store.firstWriteHeld()
        let replacing = Task { try await provider.addToken(second, userId: "DavidB") }
        await events.acquired(count: 2)
        store.open()
        try await adding.value
        try await replacing.value

        try await expectConsistent(provider, store, holding: second)
        #expect(try await ProfitConcurrencyTests.call(provider, sandbox) == 200)
    }

    /// An add and a redemption through the sandbox, the add's save held: the redemption started
    /// later, so its token wins everywhere.
    @Test func addRacingARedemptionEndsOnTheRedeemedToken() async throws {
        let sandbox = Fixtures.sandbox()
        let store = GatedStore()
        let events = EventStream()
        let provider = try Self.provider(transport: sandbox, store: store, events: events)
        try await provider.requestOTP(userId: "DavidB")
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        let manual = try sandbox.issueToken(for: "DavidB")

        store.arm()
        let adding = Task { try await provider.addToken(manual) }
        await store.firstWriteHeld()
        let redeeming = Task { try await provider.redeemOTP(code, userId: "DavidB") }
        await events.acquired(count: 2)
        store.open()
        try await adding.value
        let redeemed = try await redeeming.value

        try await expectConsistent(provider, store, holding: redeemed)
        #expect(try await ProfitConcurrencyTests.call(provider, sandbox) == 200)
    }

    /// A local deletion whose store removal is held while a token is added: the add is the later
    /// operation, so the added token must survive in memory and in the store, and the deletion
    /// must report that it did not remove the local token.
    @Test func deletionRacingAnAddKeepsTheAddedTokenAndSaysSo() async throws {
        let sandbox = Fixtures.sandbox()
        let store = GatedStore()
        let events = EventStream()
        let provider = try Self.provider(transport: sandbox, store: store, events: events)
        try await provider.addToken(try sandbox.issueToken(for: "DavidB"))
        let added = try sandbox.issueToken(for: "DavidB")

        store.arm()
        let deleting = Task { try await provider.deleteToken(revokingOnServer: false) }
        await store.firstWriteHeld()
        let adding = Task { try await provider.addToken(added) }
        await events.acquired(count: 2)
        store.open()
        let removedLocally = try await deleting.value
        try await adding.value

        #expect(removedLocally == false)
        try await expectConsistent(provider, store, holding: added)
        #expect(!events.events.contains(.credentialRemoved(provider: "profit")))
    }

    /// A deletion revokes the token in Profit; while `DeleteToken` is on its way another token is
    /// added. The added token was never revoked, so it stays, and the deletion reports that the
    /// local token was left alone (before, it returned as if it had removed it).
    @Test func deletionReportsWhenAnotherTokenArrivedWhileRevoking() async throws {
        let sandbox = Fixtures.sandbox()
        let held = HeldTransport(base: sandbox, holding: "DeleteToken")
        let store = InMemoryTokenStore()
        let provider = try Fixtures.provider(transport: held, store: store)
        let revoked = try sandbox.issueToken(for: "DavidB")
        try await provider.addToken(revoked)
        let added = try sandbox.issueToken(for: "DavidB")

        let deleting = Task { try await provider.deleteToken() }
        await held.requestHeld()
        try await provider.addToken(added)
        held.release()
        let removedLocally = try await deleting.value

        #expect(removedLocally == false)
        #expect(sandbox.activeTokenCount == 1)   // `revoked` is gone in Profit, `added` is not
        try await expectConsistent(provider, store, holding: added)
        #expect(try await ProfitConcurrencyTests.call(provider, sandbox) == 200)

        // Without a race the deletion reports that it removed the token.
        #expect(try await provider.deleteToken() == true)
        #expect(sandbox.activeTokenCount == 0)
        try await expectConsistent(provider, store, holding: nil)
    }

    /// 60 rounds of 8 random operations at once (seeded): adds, redemptions, local and server
    /// deletions, over a store whose writes finish in a shuffled order. After every round memory
    /// and store hold the same token, and the one in use works against the sandbox.
    @Test func seededStormKeepsMemoryAndStoreTogether() async throws {
        let sandbox = Fixtures.sandbox()
        let store = ShufflingStore(seed: 0x5EED_0004)
        let provider = try Fixtures.provider(transport: sandbox, store: store)
        var generator = SplitMix64(seed: 0xC0FF_EE04)
        var operations = 0
        var unreported = 0
        for _ in 0..<60 {
            var plan: [(kind: UInt64, token: ProfitToken?, code: Secret?)] = []
            for _ in 0..<8 {
                let kind = generator.next() % 4
                switch kind {
                case 0: plan.append((kind, try sandbox.issueToken(for: "DavidB"), nil))
                case 1:
                    try await provider.requestOTP(userId: "DavidB")
                    let code: Secret = try #require(sandbox.latestCode(for: "DavidB"))
                    plan.append((kind, nil, code))
                default: plan.append((kind, nil, nil))
                }
            }
            let outcomes = await withTaskGroup(of: String?.self) { group in
                for step in plan {
                    group.addTask {
                        do {
                            switch step.kind {
                            case 0: try await provider.addToken(step.token ?? ProfitToken(Fixtures.hex))
                            case 1: try await provider.redeemOTP(step.code ?? Secret(""), userId: "DavidB")
                            case 2: try await provider.deleteToken(revokingOnServer: false)
                            default: try await provider.deleteToken()
                            }
                            return nil
                        } catch let error as AuthError where [.notAuthenticated, .invalidCredentials].contains(error.code) {
                            return nil   // nothing to delete, or a token another task revoked first
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                var failures: [String] = []
                for await outcome in group { if let outcome { failures.append(outcome) } }
                return failures
            }
            operations += plan.count
            unreported += outcomes.count
            #expect(outcomes.isEmpty, "unexpected errors: \(outcomes)")
            let inMemory = try await ProfitConcurrencyTests.header(provider)
            let stored = try await store.load(Fixtures.key).map { try ProfitToken($0.accessToken.revealed).authorizationValue.revealed }
            let together = inMemory == stored   // compared, never printed
            #expect(together)
            if inMemory != nil { #expect(try await ProfitConcurrencyTests.call(provider, sandbox) == 200) }
        }
        #expect(operations == 480)
        #expect(unreported == 0)
        #expect(store.writes > 0)
    }

    // MARK: - Helpers

    static func provider(transport: any HTTPTransport, store: any TokenStore, events: EventStream) throws -> ProfitProvider {
        ProfitProvider(environment: try Fixtures.environment(),
                       keys: Fixtures.keys,
                       transport: transport,
                       store: store,
                       key: TokenKey(provider: "profit", account: "DavidB"),
                       configuration: Fixtures.configuration(),
                       observer: events.observer,
                       now: { Fixtures.start })
    }

    /// Memory (what `authorize` sends), the store, and a second provider reading the store all
    /// hold `token` (or nothing).
    func expectConsistent(_ provider: ProfitProvider, _ store: any TokenStore, holding token: ProfitToken?,
                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let inMemory = try await Self.header(provider)
        let stored = try await store.load(Fixtures.key).map { try ProfitToken($0.accessToken.revealed) }
        let reloaded = try await Self.header(try Fixtures.provider(transport: MockTransport(), store: store))
        let memoryMatches = inMemory == token?.authorizationValue.revealed   // compared, never printed
        let storeMatches = stored == token
        let reloadMatches = reloaded == token?.authorizationValue.revealed
        #expect(memoryMatches, "the token in memory is not the expected one", sourceLocation: sourceLocation)
        #expect(storeMatches, "the stored token is not the expected one", sourceLocation: sourceLocation)
        #expect(reloadMatches, "a provider reading the store gets another token", sourceLocation: sourceLocation)
    }

    /// The `Authorization` value the provider sends, or `nil` when it has no token.
    static func header(_ provider: ProfitProvider) async throws -> String? {
        do {
            return try await provider.authorized(HTTPRequest(url: try provider.environment.restURL("ProfitVersion"))).headerFields[.authorization]
        } catch let error as AuthError where error.code == .notAuthenticated {
            return nil
        }
    }

    static func call(_ provider: ProfitProvider, _ sandbox: ProfitSandbox) async throws -> Int {
        try await AuthorizingTransport(base: sandbox, provider: provider).reply(HTTPRequest(url: try provider.environment.restURL("ProfitVersion"))).status
    }
}

/// Counts `credentialAcquired` events and lets a test wait for the n-th one.
final class EventStream: Sendable {
    private struct State {
        var events: [AuthEvent] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Locked(State())

    var events: [AuthEvent] { state.withLock { $0.events } }

    var observer: AuthEventObserver {
        AuthEventObserver { event in
            let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.events.append(event)
                let acquired = Self.acquiredCount(state.events)
                let ready = state.waiters.filter { $0.count <= acquired }.map(\.continuation)
                state.waiters.removeAll { $0.count <= acquired }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }
    }

    /// Returns once `count` `credentialAcquired` events arrived.
    func acquired(count: Int) async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if Self.acquiredCount(state.events) >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    private static func acquiredCount(_ events: [AuthEvent]) -> Int {
        events.filter { $0.kind == .credentialAcquired }.count
    }
}

/// A store whose first write (save or remove) after ``arm()`` waits until ``open()``.
final class GatedStore: TokenStore {
    private struct State {
        var armed = false
        var isOpen = false
        var held: CheckedContinuation<Void, Never>?
        var heldSignalled = false
        var heldWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let inner = InMemoryTokenStore()
    private let state = Locked(State())

    func arm() { state.withLock { $0.armed = true } }

    /// Resumes the held write, and lets every later one through.
    func open() {
        let held = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isOpen = true
            defer { state.held = nil }
            return state.held
        }
        held?.resume()
    }

    /// Returns once the first write is held.
    func firstWriteHeld() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.heldSignalled { return true }
                state.heldWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func gate() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (pass, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                guard state.armed, !state.isOpen, !state.heldSignalled else { return (true, []) }
                state.held = continuation
                state.heldSignalled = true
                defer { state.heldWaiters = [] }
                return (false, state.heldWaiters)
            }
            if pass { continuation.resume() }
            for waiter in waiters { waiter.resume() }
        }
    }

    func load(_ key: TokenKey) async throws -> StoredCredential? { try await inner.load(key) }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        await gate()
        try await inner.save(credential, for: key)
    }
    func remove(_ key: TokenKey) async throws {
        await gate()
        try await inner.remove(key)
    }
}

/// Passes requests to `base`, but holds the first one whose SOAP action names `operation` until
/// ``release()``.
final class HeldTransport: HTTPTransport {
    private struct State {
        var held: CheckedContinuation<Void, Never>?
        var didHold = false
        var released = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let base: any HTTPTransport
    let operation: String
    private let state = Locked(State())

    init(base: any HTTPTransport, holding operation: String) {
        self.base = base
        self.operation = operation
    }

    func requestHeld() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.didHold { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let held = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.released = true
            defer { state.held = nil }
            return state.held
        }
        held?.resume()
    }

    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        if (request.headerFields[.soapAction] ?? "").contains("/" + operation) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (pass, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    guard !state.didHold, !state.released else { return (true, []) }
                    state.didHold = true
                    state.held = continuation
                    defer { state.waiters = [] }
                    return (false, state.waiters)
                }
                if pass { continuation.resume() }
                for waiter in waiters { waiter.resume() }
            }
        }
        return try await base.send(request, body: body)
    }
}

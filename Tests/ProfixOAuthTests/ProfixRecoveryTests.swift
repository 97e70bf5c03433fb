import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing
import TestSupport

/// Recovery from rejections, overlapping grants and lost rotations: each test fails when its guarantee is removed.
@Suite struct ProfixRecoveryTests {
    /// A 401 for a token that was already replaced is retried without another refresh; a 401 for
    /// the current token refreshes once.
    @Test func recoverRefreshesOnlyWhenTheCurrentTokenWasRejected() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        let old = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        clock.advance(10)
        try await provider.refresh()
        #expect(sandbox.counters.refreshes == 1)

        // The old token's rejection: someone already refreshed, so just retry.
        #expect(try await provider.recover(from: MockTransport.Response(status: 401), to: old))
        #expect(sandbox.counters.refreshes == 1)

        // The current token's rejection (10 s after the refresh: inside the old 5 s heuristic's
        // reach only by chance) refreshes now.
        let current = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))
        #expect(try await provider.recover(from: MockTransport.Response(status: 401), to: current))
        #expect(sandbox.counters.refreshes == 2)
    }

    /// Overlapping grants and sign-outs leave memory and the store on the same credential.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func overlappingGrantsAndSignOutsAgree(seed: UInt64) async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock)
        let store = ShufflingStore(seed: seed)
        let provider = Fixture.provider(Fixture.serviceClient, sandbox: sandbox, clock: clock, store: store)
        var generator = SplitMix64(seed: seed)
        for _ in 0..<10 {
            let plan = (0..<6).map { _ in generator.next() % 3 }
            await withTaskGroup(of: Void.self) { group in
                for step in plan {
                    group.addTask {
                        if step == 0 { try? await provider.signOut() } else { _ = try? await provider.requestClientCredentialsToken() }
                    }
                }
            }
            let inMemory = try await provider.credential()
            let stored = try await store.load(provider.key)
            #expect(inMemory == stored, "memory and store disagree")
        }
    }

    /// Two instances share a store without coordination: the one that loses the rotation race
    /// adopts the stored pair instead of demanding re-authorization.
    @Test func losingARotationRaceAdoptsTheStoredPair() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock)
        let store = InMemoryTokenStore()
        let first = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        try await Fixture.authorize(first, sandbox: sandbox)
        let second = Fixture.provider(sandbox: sandbox, clock: clock, store: store)
        _ = try await second.credential()   // loads the same pair
        clock.advance(600)
        try await first.refresh()            // rotates: the second instance's refresh token is dead
        let refreshed = try await second.refresh()
        #expect(await second.requiresReauthorization == false)
        #expect(refreshed == (try await store.load(second.key)))
        #expect(sandbox.accepts(accessToken: refreshed.accessToken))
        #expect(sandbox.counters.refreshes == 1)
    }

    /// A configured leeway longer than the lifetime is capped at half of it.
    @Test func leewayIsCappedAtHalfTheLifetime() {
        let issued = Date(timeIntervalSince1970: 1_000)
        let credential = StoredCredential(accessToken: Secret("a"), expiresAt: issued.addingTimeInterval(600), issuedAt: issued)
        #expect(ProfixProvider.leeway(for: credential, configured: .seconds(900)) == 300)
        #expect(ProfixProvider.leeway(for: credential, configured: .seconds(30)) == 30)
        #expect(ProfixProvider.leeway(for: credential, configured: nil) == 60)
        #expect(!ProfixProvider.needsRefresh(credential, at: issued.addingTimeInterval(1), leeway: .seconds(900), soft: nil))
    }

    /// Tokens that a header cannot carry are refused.
    @Test(arguments: ["abc def", "abc\r\nX-Injected: 1", "tab\there", "ünïcode"])
    func accessTokenCharactersAreChecked(_ token: String) throws {
        let body = try JSONSerialization.data(withJSONObject: ["access_token": token, "token_type": "Bearer", "expires_in": 600])
        let error = #expect(throws: AuthError.self) {
            try ProfixTokenEndpoint.parseToken(Reply(status: 200, headerFields: [.contentType: "application/json"], body: body), maxBytes: 1 << 20)
        }
        #expect(error?.code == .malformedResponse)
    }

    /// A refresh that timed out is not retried: the server may have rotated already.
    @Test func aTimedOutRefreshIsNotRetried() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock)
        let faulty = FaultInjectingTransport(base: sandbox)
        let provider = Fixture.provider(sandbox: faulty, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(600)
        faulty.inject(.timeout, times: 3, when: { $0.url.path.hasSuffix("/token") })
        let error = await #expect(throws: AuthError.self) { try await provider.refresh() }
        #expect(error?.code == .timeout)
        #expect(faulty.receivedCount == 1 + 1)   // the grant and one refresh attempt
    }
}

@Suite struct ProfixForbiddenCooldownTests {
    /// A 403 from `/token` (licence) is not asked again for every wave of requests.
    @Test func aForbiddenRefreshIsNotRepeatedDuringTheCooldown() async throws {
        let clock = TestClock()
        let sandbox = Fixture.sandbox(clock)
        let provider = Fixture.provider(sandbox: sandbox, clock: clock)
        try await Fixture.authorize(provider, sandbox: sandbox)
        clock.advance(600)
        sandbox.enqueueTokenReply(.json(403, #"{"message":"licence"}"#))
        let first = await #expect(throws: AuthError.self) { _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
        #expect(first?.code == .forbidden)
        let tokenCalls = sandbox.counters.tokenRequests
        for _ in 0..<20 {
            let again = await #expect(throws: AuthError.self) { _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL)) }
            #expect(again?.code == .forbidden)
        }
        #expect(sandbox.counters.tokenRequests == tokenCalls)   // no /token call during the cooldown
        #expect(await provider.requiresReauthorization == false)
        clock.advance(61)
        _ = try await provider.authorized(HTTPRequest(url: Fixture.apiURL))   // tries again, succeeds
        #expect(sandbox.counters.tokenRequests == tokenCalls + 1)
        #expect(sandbox.counters.refreshes == 1)
    }
}

import AuthCore
import HTTPTypes
import AuthRuntime
@testable import DocSnippets
import AuthTesting
import Foundation
import Testing

// The fourth provider of Docs/AddingAProvider.md: `AcmeProvider` and `AcmeWire` are the guide's
// own code blocks, compiled into DocSnippets by Scripts/docsnippets.py; these tests run them.
/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let current = Locked(Date(timeIntervalSince1970: 1_800_000_000))
    var now: @Sendable () -> Date { { self.current.withLock { $0 } } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite struct AddingAProviderTests {
    /// An Acme token server: counts token calls, issues `token-N` for 600 s.
    private func server(_ calls: Locked<Int>) -> MockTransport {
        MockTransport { request in
            if request.url == AcmeWire.tokenURL {
                let n = calls.withLock { $0 += 1; return $0 }
                return .json(200, #"{"access_token":"token-\#(n)","expires_in":600}"#)
            }
            return .json(200, "{}")
        }
    }

    @Test func thousandConcurrentCallsOnAnExpiredTokenCauseOneTokenCall() async throws {
        let calls = Locked(0)
        let clock = ManualClock()
        let acme = AcmeProvider(clientID: "id", clientSecret: Secret("secret"), transport: server(calls), now: clock.now)
        try await acme.signIn()
        #expect(calls.withLock { $0 } == 1)

        clock.advance(600)
        let request = HTTPRequest(url: URL(string: "https://api.acme.example/items")!)
        let headers = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<1_000 { group.addTask { try await acme.authorized(request).headerFields[.authorization] } }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(calls.withLock { $0 } == 2)
        #expect(headers == ["Bearer token-2"])
    }

    @Test func theTokenIsKeptInTheStoreAndServedWithoutAnotherCall() async throws {
        let calls = Locked(0)
        let clock = ManualClock()
        let store = InMemoryTokenStore()
        let first = AcmeProvider(clientID: "id", clientSecret: Secret("secret"), transport: server(calls), store: store, now: clock.now)
        try await first.signIn()
        let second = AcmeProvider(clientID: "id", clientSecret: Secret("secret"), transport: server(calls), store: store, now: clock.now)
        let request = try await second.authorized(HTTPRequest(url: URL(string: "https://api.acme.example/items")!))
        #expect(request.headerFields[.authorization] == "Bearer token-1")
        #expect(calls.withLock { $0 } == 1)
    }
}

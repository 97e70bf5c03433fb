import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import ProfitAuthTesting
import Testing
@testable import ProfitAuth

/// Ten thousand concurrent authorized calls through one freshly created provider.
@Suite struct ProfitStormTests {
    static let requests = 10_000

    /// A store that counts loads and answers them slowly, so callers pile up on the first.
    final class CountingStore: TokenStore {
        let inner = InMemoryTokenStore()
        private let counter = Locked(0)
        var loads: Int { counter.withLock { $0 } }

        func load(_ key: TokenKey) async throws -> StoredCredential? {
            counter.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(20))
            return try await inner.load(key)
        }
        func save(_ credential: StoredCredential, for key: TokenKey) async throws { try await inner.save(credential, for: key) }
        func remove(_ key: TokenKey) async throws { try await inner.remove(key) }
    }

    @Test func tenThousandCallsLoadTheStoreOnce() async throws {
        let sandbox = Fixtures.sandbox()
        let store = CountingStore()
        let token = try sandbox.issueToken(for: "DavidB")
        try await store.inner.save(StoredCredential(accessToken: token.xml, attributes: ["userId": "DavidB"]), for: Fixtures.key)
        let provider = try Fixtures.provider(transport: sandbox, store: store)
        let api = AuthorizingTransport(base: sandbox, provider: provider)
        let url = try provider.environment.restURL("ProfitVersion")

        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<Self.requests {
                group.addTask { try await api.reply(HTTPRequest(url: url)).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }

        #expect(statuses.count == Self.requests)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(store.loads == 1)   // zero loads beyond the first
        #expect(sandbox.calls.count == Self.requests)
        #expect(sandbox.calls.allSatisfy { $0.status == 200 })
        #expect(sandbox.outbox.isEmpty)
    }
}

import AuthCore
import HTTPTypes
import AuthRuntime
import AuthTesting
import Foundation
import Testing

// The fourth provider of Docs/AddingAProvider.md, as the guide shows it. Only the
// service-specific parts are written here; the engine does loading, single-flight refresh,
// coordination through the store, ordered writes, events and the fast path.

/// "Acme" issues bearer tokens with the client-credentials grant; they expire and are
/// re-acquired.
actor AcmeProvider: CredentialProvider {
    nonisolated var name: String { "acme" }
    nonisolated let cell: CredentialCell<String>
    private nonisolated let acquire: @Sendable () async throws -> StoredCredential

    init(
        clientID: String,
        clientSecret: Secret,
        transport: any HTTPTransport,
        store: any TokenStore = InMemoryTokenStore(),
        key: TokenKey = TokenKey(provider: "acme", account: "default"),
        observer: AuthEventObserver? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let endpoint = EndpointClient(provider: "acme", transport: transport, retryPolicy: .exponential(maxAttempts: 3),
                                      maxResponseBytes: 1 << 20, observer: observer)
        let acquire: @Sendable () async throws -> StoredCredential = {
            try await AcmeWire.acquire(through: endpoint, clientID: clientID, clientSecret: clientSecret, now: now())
        }
        self.acquire = acquire
        // 2. How a credential is renewed: Acme simply issues a new one.
        let renewal = CredentialCell<String>.Renewal(
            renew: { _ in try await acquire() },
            // 3. Which failures mean "refused" (no point asking again).
            isRejection: { $0.status == 400 || $0.status == 401 }
        )
        let parts = CredentialCell<String>.Parts(
            name: "acme", store: store, key: key, observer: observer, now: now, onChange: nil,
            missingMessage: "no Acme token yet: call signIn()")
        // 4. What the fast path needs: the whole header value, computed once per token.
        cell = CredentialCell(parts, renewal: renewal) { "Bearer " + $0.accessToken.revealed }
    }

    // 5. The face: authorize from the snapshot, or let the cell load or refresh.
    nonisolated func authorize(_ request: inout HTTPRequest) async throws {
        try SecureURLPolicy.check(request, provider: name)
        if let cached = cell.cached() {
            request.headerFields.setCredential(cached, for: .authorization)
        } else {
            request.headerFields.setCredential(try await cell.current(), for: .authorization)
        }
    }

    /// Acquires a token and stores it (the grant; later tokens come from the renewal).
    nonisolated func signIn() async throws {
        let credential = try await acquire()
        _ = await cell.install(credential, event: .credentialAcquired(provider: name, grant: "client_credentials", expiresAt: credential.expiresAt))
    }
}

// 1. The wire: one request, one parser.
enum AcmeWire {
    static let tokenURL = URL(string: "https://auth.acme.example/token")!

    static func acquire(through endpoint: EndpointClient, clientID: String, clientSecret: Secret, now: Date) async throws -> StoredCredential {
        let response = try await endpoint.send(.form(url: tokenURL, [
            ("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret.revealed),
        ]))
        return try credential(from: response, now: now)
    }

    static func credential(from response: Reply, now: Date) throws(AuthError) -> StoredCredential {
        guard response.isSuccess else { throw AuthError.unexpectedStatus(response.status, provider: "acme") }
        guard let object = JSONValue.object(in: response.body), let token = object.text("access_token") else {
            throw AuthError.malformedResponse("no access_token", provider: "acme", status: response.status)
        }
        let lifetime = object.value("expires_in")?.number ?? 3600
        return StoredCredential(accessToken: Secret(token), expiresAt: now.addingTimeInterval(lifetime), issuedAt: now)
    }
}

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

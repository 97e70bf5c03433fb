import AuthCore
import HTTPTypes
import AuthTesting
import ProfitAuthTesting
import Foundation
import Testing
@testable import ProfitAuth

/// Shared values for the ProfitAuth tests.
enum Fixtures {
    static let apiKey = Secret("AF2F0E3B9C8D4E5F60718293A4B5C6D7")
    static let environmentKey = Secret("820DBB4C1E2F3A4B5C6D7E8F90A1B2C3")
    static let keys = ProfitProvider.AppConnectorKeys(apiKey: apiKey, environmentKey: environmentKey)
    static let hex = "D5A1E0F2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E"
    static let tokenXML = "<token><version>1</version><data>\(hex)</data></token>"
    /// `printf '%s' '<token><version>1</version><data>D5A1…5D6E</data></token>' | base64`, computed on the shell.
    static let tokenBase64 = "PHRva2VuPjx2ZXJzaW9uPjE8L3ZlcnNpb24+PGRhdGE+RDVBMUUwRjJCM0M0RDVFNkY3MDgxOTJBM0I0QzVENkU3RjgwOTFBMkIzQzRENUU2RjcwODE5MkEzQjRDNUQ2RTwvZGF0YT48L3Rva2VuPg=="
    static let start = Date(timeIntervalSince1970: 1_750_000_000)

    static func environment() throws -> ProfitEnvironment { try ProfitEnvironment(number: "12345") }

    static func sandbox(otpLifetime: Duration = .seconds(600), tokenValidity: Duration? = nil) -> ProfitSandbox {
        ProfitSandbox(apiKey: apiKey, environmentKey: environmentKey,
                      users: ["DavidB": "david@example.com", "NoMail": nil],
                      otpLifetime: otpLifetime, tokenValidity: tokenValidity, now: { start })
    }

    static func configuration(_ change: (inout ProfitProvider.Configuration) -> Void = { _ in }) -> ProfitProvider.Configuration {
        var configuration = ProfitProvider.Configuration()
        configuration.retryPolicy = RetryPolicy(maxAttempts: 2, sleep: { _ in })
        change(&configuration)
        return configuration
    }

    static func provider(
        transport: any HTTPTransport,
        store: any TokenStore = InMemoryTokenStore(),
        keys: ProfitProvider.AppConnectorKeys? = Fixtures.keys,
        environment: ProfitEnvironment? = nil,
        configuration: ProfitProvider.Configuration = Fixtures.configuration(),
        events: EventLog? = nil
    ) throws -> ProfitProvider {
        ProfitProvider(environment: try environment ?? Self.environment(), keys: keys, transport: transport, store: store,
                       key: TokenKey(provider: "profit", account: "DavidB"), configuration: configuration,
                       observer: events?.observer, now: { start })
    }

    /// The JSON object of a request body, as strings.
    static func jsonFields(_ request: MockTransport.Request) throws -> [String: String] {
        let body = try #require(request.body)
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: String])
    }

    static var key: TokenKey { TokenKey(provider: "profit", account: "DavidB") }
}

/// Collects events.
final class EventLog: Sendable {
    private let storage = Locked<[AuthEvent]>([])
    var events: [AuthEvent] { storage.withLock { $0 } }
    var observer: AuthEventObserver { AuthEventObserver { event in self.storage.withLock { $0.append(event) } } }
}

/// A store whose saves fail.
struct FailingStore: TokenStore {
    let inner = InMemoryTokenStore()
    func load(_ key: TokenKey) async throws -> StoredCredential? { try await inner.load(key) }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws { throw AuthError(.storeFailure, message: "disk full") }
    func remove(_ key: TokenKey) async throws { try await inner.remove(key) }
}

import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
@testable import ProfixOAuth

/// A shared, ordered log of what happened ("save <token>", "use <token>").
final class EventLog: Sendable {
    private let entries = Locked<[String]>([])
    func append(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// A store that logs every save into an ``EventLog`` and can be told to fail.
final class RecordingStore: TokenStore {
    let base = InMemoryTokenStore()
    let log: EventLog
    private let failing = Locked(false)
    private let failures = Locked(0)
    init(log: EventLog) { self.log = log }
    func setFailing(_ value: Bool) { failing.withLock { $0 = value } }
    /// Makes only the next `count` saves fail.
    func failNext(_ count: Int) { failures.withLock { $0 = count } }

    func load(_ key: TokenKey) async throws -> StoredCredential? { try await base.load(key) }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        let failsNow = failures.withLock { count -> Bool in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        if failsNow || failing.withLock({ $0 }) { throw AuthError(.storeFailure, message: "disk full (injected)") }
        log.append("save \(credential.accessToken.revealed)")
        try await base.save(credential, for: key)
    }
    func remove(_ key: TokenKey) async throws { try await base.remove(key) }
}

/// A transport that logs the bearer token of every API request before passing it on.
struct LoggingTransport: HTTPTransport {
    let base: any HTTPTransport
    let log: EventLog
    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        if let header = request.headerFields[.authorization] { log.append("use " + header.replacingOccurrences(of: "Bearer ", with: "")) }
        return try await base.send(request, body: body)
    }
}

/// Collects events; `next(matching:)` awaits one without timing.
final class EventCollector: Sendable {
    private let events = Locked<[AuthEvent]>([])
    let stream: AsyncStream<AuthEvent>
    private let continuation: AsyncStream<AuthEvent>.Continuation
    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }
    var observer: AuthEventObserver {
        AuthEventObserver { event in
            self.events.withLock { $0.append(event) }
            self.continuation.yield(event)
        }
    }
    var all: [AuthEvent] { events.withLock { $0 } }
}

/// A retry policy that does not sleep.
let noSleepRetry = RetryPolicy(maxAttempts: 3, sleep: { _ in }, random: { 0 })

enum Fixture {
    static let redirect = URL(string: "https://app.example.com/profix/callback")!
    static let codeClient = ProfixRegistration(clientID: "b81cc4de-d192-400e-bcb4-09254394c52a", clientSecret: Secret("n3G7KAhcv8OH"),
                                         redirectURI: redirect, region: .nl)
    static let serviceClient = ProfixRegistration(clientID: "0d6f6a39-service", clientSecret: Secret("svc-secret"), region: .be)
    static let passwordClient = ProfixRegistration(clientID: "5e0c1d2b-password", clientSecret: Secret("pw-secret"), region: .nl)
    static let apiURL = URL(string: "https://api.profix-it.nl/api/v1/workorders")!
    /// The work-order endpoint in `client`'s region (the only host its token may go to).
    static func apiURL(for client: ProfixRegistration) -> URL { client.region.baseURL.appendingPathComponent("api/v1/workorders") }

    static func sandbox(_ clock: TestClock, configure: (inout ProfixSandbox.Configuration) -> Void = { _ in }) -> ProfixSandbox {
        var configuration = ProfixSandbox.Configuration()
        configure(&configuration)
        let sandbox = ProfixSandbox(configuration: configuration, now: clock.now)
        sandbox.registerClient(id: codeClient.clientID, secret: codeClient.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        sandbox.registerClient(id: serviceClient.clientID, secret: serviceClient.clientSecret, grant: .clientCredentials)
        sandbox.registerClient(id: passwordClient.clientID, secret: passwordClient.clientSecret, grant: .password)
        sandbox.addUser(username: "support@example.com", password: Secret("correct horse"))
        sandbox.addUser(username: "new@example.com", password: Secret("initial-pw"), userID: "123", mustChangePassword: true)
        return sandbox
    }

    static func provider(
        _ client: ProfixRegistration = codeClient, sandbox: any HTTPTransport, clock: TestClock,
        store: any TokenStore = InMemoryTokenStore(),
        configuration: ProfixProvider.Configuration = ProfixProvider.Configuration(retryPolicy: noSleepRetry),
        observer: AuthEventObserver? = nil,
        onCredentialChange: (@Sendable (StoredCredential?) async -> Void)? = nil
    ) -> ProfixProvider {
        ProfixProvider(client: client, transport: sandbox, store: store, configuration: configuration,
                       observer: observer, now: clock.now, onCredentialChange: onCredentialChange)
    }

    /// Runs the authorization-code grant against the sandbox.
    static func authorize(_ provider: ProfixProvider, sandbox: ProfixSandbox) async throws {
        let pending = try ProfixAuthorizationRequest(client: codeClient)
        let callback = try sandbox.approve(authorizationURL: pending.url)
        try await provider.exchange(callbackURL: callback, for: pending)
    }
}

// The fixtures the request benchmarks and the `request-instructions` probe share: the no-op
// transport, the hand-written floors, and the providers, each holding a valid token. Every `send`
// here is inlinable, so a caller specializes it as it would a transport of its own module.
import AuthCore
import EconomicAuth
import EconomicAuthTesting
import Foundation
import HTTPTypes
import ProfitAuth
import ProfitAuthTesting
import ProfixOAuth
import ProfixOAuthTesting
import Synchronization

/// Answers every request with an empty 200 at once: what remains is the authorization's cost.
/// One answer for all: 3 ns per request, 1 ns on two threads (nothing in it is written by both);
/// an answer made per transport instead cost 20 ns, a reference count taken and dropped.
public struct NoOpTransport: HTTPTransport {
    public static let answer = (HTTPResponse(status: .ok), Data())
    public init() {}
    @inlinable public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) { Self.answer }
}

/// The hand-written floor: a struct transport that sets a pre-encoded `Authorization` value read
/// from a `Synchronization.Mutex`, then hands the request on.
public struct FloorTransport: HTTPTransport {
    public final class Header: Sendable {
        public static let literal = "Bearer AAEAAGxWulSxg7ZT-MPQMWOqQmssMzGa0123456789"
        @usableFromInline let value: Mutex<String>

        /// The value as a string literal (the floor the performance issue measured): a literal's
        /// storage is immortal, so copying it out writes no reference count.
        public init() { value = Mutex(Self.literal) }

        /// The value made at run time, as a token received from a server is: every request takes
        /// and drops a reference to its storage, as the providers' prepared fields do.
        public init(madeAtRunTime: Void) { value = Mutex(String(decoding: Array(Self.literal.utf8), as: UTF8.self)) }
    }
    public let header: Header
    @usableFromInline let base: NoOpTransport

    /// A floor with a header of its own, or sharing `header` (one tenant served by two threads).
    public init(header: Header = Header()) {
        self.header = header
        base = NoOpTransport()
    }

    @inlinable public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        var authorized = request
        authorized.headerFields[.authorization] = header.value.withLock { $0 }
        return try await base.send(authorized, body: body)
    }
}

/// The same floor for e-conomic's protocol, which puts three fields on every request: its two
/// pre-encoded token fields, read from a `Synchronization.Mutex`, and the JSON content type.
public struct EconomicFloorTransport: HTTPTransport {
    @usableFromInline final class Fields: Sendable {
        @usableFromInline let value = Mutex((HTTPField(name: Fields.name("X-AppSecretToken"), value: "app-secret-token-1f2e3d4c5b6a"),
                           HTTPField(name: Fields.name("X-AgreementGrantToken"), value: "grant-7d2c1a9e0b3f4a5d8c6e")))
        static func name(_ text: String) -> HTTPField.Name {
            guard let name = HTTPField.Name(text) else { preconditionFailure("\(text) is not a field name") }
            return name
        }
    }
    @usableFromInline static let json = HTTPField(name: .contentType, value: "application/json")
    @usableFromInline let fields = Fields()
    @usableFromInline let base = NoOpTransport()
    public init() {}
    @inlinable public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        var authorized = request
        let (appSecret, grant) = fields.value.withLock { $0 }
        authorized.headerFields[appSecret.name] = appSecret.value
        authorized.headerFields[grant.name] = grant.value
        authorized.headerFields[.contentType] = Self.json.value
        return try await base.send(authorized, body: body)
    }
}

/// What a multi-tenant server does on every request: takes its tenant's provider from a
/// ``ProviderRegistry``, then authorizes through it.
public struct RegistryTransport<Provider: CredentialProvider>: HTTPTransport {
    public let registry: ProviderRegistry<Int, Provider>
    public let tenant: Int
    public init(registry: ProviderRegistry<Int, Provider>, tenant: Int) {
        self.registry = registry
        self.tenant = tenant
    }
    @inlinable public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await AuthorizingTransport(base: NoOpTransport(), provider: registry.provider(for: tenant)).send(request, body: body)
    }
}

/// `request` with strings of its own (not sharing storage with `request`'s).
public func ownCopy(of request: HTTPRequest) -> HTTPRequest {
    func copy(_ text: String?) -> String? { text.map { String(decoding: Array($0.utf8), as: UTF8.self) } }
    return HTTPRequest(method: request.method, scheme: copy(request.scheme), authority: copy(request.authority), path: copy(request.path))
}

/// A clock the storm moves by hand.
public final class ManualClock: Sendable {
    private let date = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    public var now: @Sendable () -> Date { { [self] in self.date.withLock { $0 } } }
    public func advance(by seconds: TimeInterval) { date.withLock { $0 += seconds } }
}

/// The providers, each holding a valid token, and their requests.
public final class Fixtures: Sendable {
    public static let shared: Fixtures? = try? Fixtures()

    public let noop = NoOpTransport()
    public let floor = FloorTransport()
    public let floorRuntimeToken = FloorTransport(header: FloorTransport.Header(madeAtRunTime: ()))
    public let economicFloor = EconomicFloorTransport()
    public let clock = ManualClock()
    public let profixSandbox: ProfixSandbox
    public let profix: ProfixProvider
    /// The same registration on the system clock, for the throughput benchmarks: the storm's
    /// hand-moved clock is a lock both threads would share.
    public let profixOnSystemClock: ProfixProvider
    public let profit: ProfitProvider
    public let profitSandbox: ProfitSandbox
    public let economic: EconomicProvider
    /// Two tenants of each kind made by one app, for the throughput
    /// benchmarks' form in which each thread authorizes for a tenant of its own, as most of a
    /// multi-tenant server's concurrent requests do (what the app shares, both threads read).
    public let profixTenants: [ProfixProvider]
    public let profitTenants: [ProfitProvider]
    public let economicTenants: [EconomicProvider]
    public let profixRequest = HTTPRequest(method: .get, scheme: "https", authority: "api.profix-it.nl", path: "/api/v1/workorders")
    public let profitRequest: HTTPRequest
    public let economicRequest = HTTPRequest(method: .get, scheme: "https", authority: "restapi.e-conomic.com", path: "/customers")
    /// The same request with a field of its own: the provider cannot hand over its prepared fields
    /// and appends them one by one.
    public let economicRequestWithAccept = HTTPRequest(method: .get, scheme: "https", authority: "restapi.e-conomic.com", path: "/customers",
                                                headerFields: [.accept: "application/json"])
    private let primed = Mutex(false)

    public init() throws {
        profixSandbox = ProfixSandbox(now: clock.now)
        let registration = ProfixRegistration(clientID: "bench", clientSecret: Secret("bench-secret"))
        profixSandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .password)
        profixSandbox.addUser(username: "bench-user", password: Secret("bench-password"))
        profix = ProfixProvider(client: registration, transport: profixSandbox, now: clock.now)
        profixOnSystemClock = ProfixProvider(client: registration, transport: profixSandbox, key: TokenKey(provider: "profix", account: "system-clock"))
        profitSandbox = ProfitSandbox.demo()
        let environment = try ProfitEnvironment(number: "12345")
        profit = ProfitProvider(environment: environment, transport: profitSandbox, key: TokenKey(provider: "profit", account: "DavidB"))
        profitRequest = HTTPRequest(url: try environment.restURL("ProfitVersion"))
        economic = try EconomicProvider(credentials: EconomicCredentials(appSecretToken: Secret("app-secret-token-1f2e3d4c5b6a"),
                                                                         agreementGrantToken: Secret("grant-7d2c1a9e0b3f4a5d8c6e")),
                                         transport: EconomicSandbox())
        let profixApp = ProfixApp(client: registration, transport: profixSandbox)
        profixTenants = ["tenant-a", "tenant-b"].map { profixApp.provider(key: TokenKey(provider: "profix", account: $0)) }
        let profitApp = ProfitApp(environment: environment, transport: profitSandbox)
        profitTenants = ["tenant-a", "tenant-b"].map { profitApp.provider(key: TokenKey(provider: "profit", account: $0)) }
        let economicApp = EconomicApp(appSecretToken: Secret("app-secret-token-1f2e3d4c5b6a"), transport: EconomicSandbox())
        economicTenants = try ["grant-7d2c1a9e0b3f4a5d8c6e", "grant-second-3b9a7c1d5e2f"].map { try economicApp.provider(grantToken: Secret($0)) }
    }

    /// Obtains the tokens once.
    public func prime() async throws {
        guard !primed.withLock({ $0 }) else { return }
        _ = try await profix.logIn(username: "bench-user", password: Secret("bench-password"))
        _ = try await profixOnSystemClock.logIn(username: "bench-user", password: Secret("bench-password"))
        try await profit.addToken(try profitSandbox.issueToken(for: "DavidB"))
        for tenant in profixTenants { _ = try await tenant.logIn(username: "bench-user", password: Secret("bench-password")) }
        for tenant in profitTenants { try await tenant.addToken(try profitSandbox.issueToken(for: "DavidB")) }
        primed.withLock { $0 = true }
    }
}

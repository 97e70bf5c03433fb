// Memory per idle tenant: the scenario the `memory/` benchmarks and the `idle-tenants` probe share.
import AuthCore
import EconomicAuth
import Foundation
import HTTPTypes
import ProfitAuth
import ProfitAuthTesting
import ProfixOAuth
#if canImport(Glibc)
import Glibc
#endif

/// Answers every request with an empty 200 (the providers never call it: each tenant's one
/// request only needs authorizing).
struct EmptyAnswers: HTTPTransport {
    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) { (HTTPResponse(status: .ok), Data()) }
}

/// `tenants` providers of one kind, made by a ``ProviderRegistry`` (by one app, or each alone), each
/// used for one authorized request and left idle.
public struct IdleTenants: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case profix = "Profix-it"
        case profit = "Profit"
        case economic = "e-conomic"
    }

    public var kind: Kind
    public var madeByApp: Bool
    public var tenants: Int

    public init(_ kind: Kind, madeByApp: Bool, tenants: Int = 100_000) {
        self.kind = kind
        self.madeByApp = madeByApp
        self.tenants = tenants
    }

    /// Every scenario: each kind, made by one app and made alone.
    public static var all: [IdleTenants] {
        Kind.allCases.flatMap { [IdleTenants($0, madeByApp: true), IdleTenants($0, madeByApp: false)] }
    }

    /// "Profix-it provider per idle tenant, made by one app".
    public var description: String { "\(kind.rawValue) provider per idle tenant, \(madeByApp ? "made by one app" : "made alone")" }

    /// Resident bytes each idle tenant keeps. Credentials are stored before the baseline, so the
    /// figure is what the registry and the providers keep, not the store. Run one scenario per
    /// process, so that no figure lands in pages another one freed.
    public func bytesPerIdleTenant() async throws -> Int {
        let tenants = self.tenants
        let later = Date().addingTimeInterval(3_600)
        let noop = EmptyAnswers()
        switch kind {
        case .profix:
            let store = InMemoryTokenStore()
            for index in 0..<tenants {
                try await store.save(StoredCredential(accessToken: Secret("access-\(index)-AAEAAGxWulSxg7ZT-MPQMWOqQmssMzGa"),
                                                      refreshToken: Secret("refresh-\(index)"), expiresAt: later),
                                     for: TokenKey(provider: "profix", account: "t\(index)"))
            }
            let registration = ProfixRegistration(clientID: "bench", clientSecret: Secret("bench-secret"))
            let app = ProfixApp(client: registration, transport: noop, store: store)
            let request = HTTPRequest(method: .get, scheme: "https", authority: "api.profix-it.nl", path: "/api/v1/workorders")
            return try await Self.measure(tenants: tenants, request: request) { [madeByApp] index in
                let key = TokenKey(provider: "profix", account: "t\(index)")
                return madeByApp ? app.provider(key: key) : ProfixProvider(client: registration, transport: noop, store: store, key: key)
            }
        case .profit:
            let sandbox = ProfitSandbox.demo()
            let environment = try ProfitEnvironment(number: "12345")
            let store = InMemoryTokenStore()
            let seeder = ProfitProvider(environment: environment, transport: sandbox, store: store, key: TokenKey(provider: "profit", account: "seed"))
            try await seeder.addToken(try sandbox.issueToken(for: "DavidB"))
            guard let stored = try await store.load(seeder.key) else { throw CocoaError(.coderValueNotFound) }
            for index in 0..<tenants { try await store.save(stored, for: TokenKey(provider: "profit", account: "t\(index)")) }
            let app = ProfitApp(environment: environment, transport: noop, store: store)
            let request = HTTPRequest(url: try environment.restURL("ProfitVersion"))
            return try await Self.measure(tenants: tenants, request: request) { [madeByApp] index in
                let key = TokenKey(provider: "profit", account: "t\(index)")
                return madeByApp ? app.provider(key: key) : ProfitProvider(environment: environment, transport: noop, store: store, key: key)
            }
        case .economic:
            let grants = (0..<tenants).map { Secret("grant-\($0)-7d2c1a9e0b3f4a5d8c6e") }
            let secret = Secret("app-secret-token-1f2e3d4c5b6a")
            let app = EconomicApp(appSecretToken: secret, transport: noop)
            let request = HTTPRequest(method: .get, scheme: "https", authority: "restapi.e-conomic.com", path: "/customers")
            return try await Self.measure(tenants: tenants, request: request) { [madeByApp] index in
                madeByApp ? try app.provider(grantToken: grants[index])
                          : try EconomicProvider(credentials: EconomicCredentials(appSecretToken: secret, agreementGrantToken: grants[index]), transport: noop)
            }
        }
    }

    private static func measure<Provider: CredentialProvider>(
        tenants: Int, request: HTTPRequest, make: @escaping @Sendable (Int) throws -> Provider
    ) async throws -> Int {
        let registry = ProviderRegistry<Int, Provider>(configuration: .init(maximumCount: tenants, idleTimeout: nil), make: make)
        let before = residentBytes()
        for index in 0..<tenants { _ = try await registry.provider(for: index).authorized(request) }
        let after = residentBytes()
        withExtendedLifetime(registry) {}
        return (after - before) / tenants
    }
}

/// Resident memory of this process (Linux `/proc/self/statm`; 0 elsewhere).
public func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

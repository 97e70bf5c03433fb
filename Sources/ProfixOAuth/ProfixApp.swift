public import AuthCore
internal import AuthRuntime
public import Foundation
import HTTPTypes

/// What every tenant of one Profix-it app has in common, kept once: the registration, the
/// options, the transport, the store, the observer and the clock. It makes a provider per tenant.
///
/// Providers made by one app share all of it, so an idle tenant keeps little more than its key and
/// its token; one made with ``ProfixProvider/init(client:transport:store:key:configuration:observer:now:onCredentialChange:)``
/// keeps a copy of its own. Each provider still serves one key, refreshes on its own and
/// coordinates with the others through the store.
///
/// ```swift
/// let app = ProfixApp(client: registration, store: try FileTokenStore(directory: folder))
/// let providers = ProviderRegistry<String, ProfixProvider> { tenant in
///     app.provider(key: TokenKey(provider: "profix", account: tenant))
/// }
/// ```
public struct ProfixApp: Sendable {
    /// What the providers of an app share besides their cells' parts: kept once, as those parts'
    /// context, so a provider reaches it through its cell and keeps no field for it.
    final class Shared: Sendable {
        let tokenClient: ProfixTokenClient
        let audience: CredentialAudience

        private init(tokenClient: ProfixTokenClient, audience: CredentialAudience) {
            self.tokenClient = tokenClient
            self.audience = audience
        }

        /// The parts every cell of one app shares, with the app's shared part as their context.
        static func parts(client: ProfixRegistration, transport: any HTTPTransport, store: any TokenStore,
                          configuration: ProfixProvider.Configuration, observer: AuthEventObserver?, now: (@Sendable () -> Date)?,
                          onChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)?) -> ProfixProvider.Parts {
            var audience = client.region.audience
            configuration.additionalHosts.forEach { audience.insert($0) }
            let tokenClient = ProfixTokenClient(client: client, configuration: configuration, transport: transport, observer: observer)
            return CredentialParts(
                name: ProfixProvider.providerName, store: store,
                leeway: configuration.refreshLeeway, softWindow: configuration.softRefreshWindow,
                observer: observer, now: now, onChange: onChange,
                missingMessage: "no Profix-it credential yet: run a grant first",
                renewal: ProfixProvider.renewal(tokenClient, now: now ?? SystemClock.now), preparer: ProfixProvider.preparer,
                context: Shared(tokenClient: tokenClient, audience: audience))
        }

        /// The request path's URL check, made here so that the audience is read in place (read
        /// through the shared object from outside, it was copied: two retains on every request,
        /// and two cores contending for its storage).
        func checkRequest(_ request: HTTPRequest) throws(AuthError) {
            try audience.checkRequest(request, provider: ProfixProvider.providerName)
        }
    }

    /// What every provider of the app shares: one object however many providers refer to it.
    let parts: ProfixProvider.Parts
    var shared: Shared { parts.context }

    /// The registered application.
    public var client: ProfixRegistration { shared.tokenClient.client }
    /// The options every provider of the app uses.
    public var configuration: ProfixProvider.Configuration { shared.tokenClient.configuration }

    /// Creates an app; its parameters mean what they mean for a single
    /// ``ProfixProvider/init(client:transport:store:key:configuration:observer:now:onCredentialChange:)``.
    ///
    /// - Parameter onCredentialChange: Called with the key and every new credential of any of the
    ///   app's providers (grant or refresh), after it was saved to `store` and before any request
    ///   uses it, and with `nil` after a provider's ``ProfixProvider/signOut()``.
    public init(
        client: ProfixRegistration,
        transport: any HTTPTransport = URLSessionTransport(),
        store: any TokenStore = InMemoryTokenStore(),
        configuration: ProfixProvider.Configuration = .init(),
        observer: AuthEventObserver? = nil,
        now: (@Sendable () -> Date)? = nil,
        onCredentialChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)? = nil
    ) {
        parts = Shared.parts(client: client, transport: transport, store: store, configuration: configuration,
                             observer: observer, now: now, onChange: onCredentialChange)
    }

    /// A provider for the credential stored under `key`; nothing is loaded until it is used.
    ///
    /// Make one provider per key and keep it (a ``ProviderRegistry`` does): two providers of
    /// one key in one process each keep their own copy of the token.
    public func provider(key: TokenKey) -> ProfixProvider {
        ProfixProvider(key: key, parts: parts)
    }
}

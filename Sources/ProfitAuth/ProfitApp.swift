public import AuthCore
internal import AuthRuntime
public import Foundation
import HTTPTypes

/// What every user of one AFAS Profit app connector has in common, kept once: the environment,
/// the app connector's keys, the options, the transport, the store, the observer and the clock.
/// It makes a provider per user (per token).
///
/// Providers made by one app share all of it, so an idle user keeps little more than the key and
/// the token; one made with ``ProfitProvider/init(environment:keys:transport:store:key:configuration:observer:now:onCredentialChange:)``
/// keeps a copy of its own.
///
/// ```swift
/// let app = ProfitApp(environment: try ProfitEnvironment(number: "12345"), keys: keys,
///                     store: try FileTokenStore(directory: folder))
/// let providers = ProviderRegistry<String, ProfitProvider> { user in
///     app.provider(key: TokenKey(provider: "profit", account: user))
/// }
/// ```
public struct ProfitApp: Sendable {
    /// What the providers of an app share besides their cells' parts: kept once, as those parts'
    /// context, so a provider reaches it through its cell and keeps no field for it.
    final class Shared: Sendable {
        let environment: ProfitEnvironment
        let keys: ProfitProvider.AppConnectorKeys?
        let transport: any HTTPTransport
        let configuration: ProfitProvider.Configuration
        let audience: CredentialAudience
        /// What the request path reads of ``configuration``, kept apart: reading a field of the
        /// configuration there copied the whole value.
        let soapTokenInBody: Bool
        let addsFields: Bool

        private init(environment: ProfitEnvironment, keys: ProfitProvider.AppConnectorKeys?, transport: any HTTPTransport,
                     configuration: ProfitProvider.Configuration) {
            self.environment = environment
            self.keys = keys
            self.transport = transport
            self.configuration = configuration
            soapTokenInBody = configuration.soapToken == .element
            addsFields = configuration.addsFields
            var audience = environment.audience
            configuration.additionalHosts.forEach { audience.insert($0) }
            self.audience = audience
        }

        /// The parts every cell of one app shares, with the app's shared part as their context.
        static func parts(environment: ProfitEnvironment, keys: ProfitProvider.AppConnectorKeys?, transport: any HTTPTransport,
                          store: any TokenStore, configuration: ProfitProvider.Configuration, observer: AuthEventObserver?,
                          now: @escaping @Sendable () -> Date,
                          onChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)?) -> ProfitProvider.Parts {
            // An AFAS token does not expire and cannot be refreshed: no renewal.
            CredentialParts(
                name: ProfitProvider.providerName, store: store, observer: observer, now: now, onChange: onChange,
                missingMessage: "no AFAS token yet: run the OTP flow or add a token", renewal: nil,
                preparer: ProfitProvider.preparer,
                context: Shared(environment: environment, keys: keys, transport: transport, configuration: configuration))
        }

        /// The request path's URL check, made here so that the audience is read in place (read
        /// through the shared object from outside, it was copied: two retains on every request,
        /// and two cores contending for its storage).
        func checkRequest(_ request: HTTPRequest) throws(AuthError) {
            try audience.checkRequest(request, provider: ProfitProvider.providerName)
        }
    }

    /// What every provider of the app shares: one object however many providers refer to it.
    let parts: ProfitProvider.Parts
    var shared: Shared { parts.context }

    /// The environment every provider of the app talks to.
    public var environment: ProfitEnvironment { shared.environment }
    /// The options every provider of the app uses.
    public var configuration: ProfitProvider.Configuration { shared.configuration }

    /// Creates an app; its parameters mean what they mean for a single
    /// ``ProfitProvider/init(environment:keys:transport:store:key:configuration:observer:now:onCredentialChange:)``.
    ///
    /// - Parameter onCredentialChange: Called with the key and every token any of the app's
    ///   providers saves (OTP, added by hand) before it is used, and with `nil` after a
    ///   provider's ``ProfitProvider/deleteToken(revokingOnServer:)``.
    public init(
        environment: ProfitEnvironment,
        keys: ProfitProvider.AppConnectorKeys? = nil,
        transport: any HTTPTransport = URLSessionTransport(),
        store: any TokenStore = InMemoryTokenStore(),
        configuration: ProfitProvider.Configuration = .init(),
        observer: AuthEventObserver? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        onCredentialChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)? = nil
    ) {
        parts = Shared.parts(environment: environment, keys: keys, transport: transport, store: store, configuration: configuration,
                             observer: observer, now: now, onChange: onCredentialChange)
    }

    /// A provider for the token stored under `key`; nothing is loaded until it is used.
    ///
    /// Make one provider per key and keep it (a ``ProviderRegistry`` does): two providers of
    /// one key in one process each keep their own copy of the token.
    public func provider(key: TokenKey) -> ProfitProvider {
        ProfitProvider(key: key, parts: parts)
    }
}

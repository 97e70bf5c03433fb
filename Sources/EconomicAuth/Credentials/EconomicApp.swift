public import AuthCore
import HTTPTypes

/// One app's AppSecretToken shared by the providers and sessions of every agreement that
/// granted the app access.
///
/// An app has one AppSecretToken and one AgreementGrantToken per customer. Keep one
/// `EconomicApp` (with one transport) and make a provider per customer when needed: creating
/// one allocates a small actor and its prepared header fields, with no network; what every
/// agreement shares (configuration, allowed hosts, transport, observer) is kept once.
///
/// ```swift
/// let app = EconomicApp(appSecretToken: Secret(appSecret), transport: URLSessionTransport())
/// for grant in grantsFromDatabase {
///     let provider = try app.provider(grantToken: grant)
///     let agreement = try await provider.validate()
/// }
/// ```
public struct EconomicApp: Sendable {
    /// The app's secret token.
    public let appSecretToken: Secret
    /// The transport every provider and session of this app uses.
    public let transport: any HTTPTransport
    /// The configuration given to each provider.
    public var providerConfiguration: EconomicProvider.Configuration {
        didSet { shared = Self.shared(providerConfiguration, transport, observer) }
    }
    /// The configuration given to each SOAP session.
    public var sessionConfiguration: EconomicSOAPSession.Configuration
    /// The observer given to each provider and session.
    public var observer: AuthEventObserver? {
        didSet { shared = Self.shared(providerConfiguration, transport, observer) }
    }
    /// What the app's providers share (configuration, audience, transport, observer): made once,
    /// so an idle provider keeps a reference rather than a copy.
    private var shared: EconomicProvider.Shared

    private static func shared(_ configuration: EconomicProvider.Configuration, _ transport: any HTTPTransport,
                               _ observer: AuthEventObserver?) -> EconomicProvider.Shared {
        EconomicProvider.Shared(configuration: configuration, transport: transport, observer: observer)
    }

    /// Creates an app.
    public init(
        appSecretToken: Secret,
        transport: any HTTPTransport,
        providerConfiguration: EconomicProvider.Configuration = .init(),
        sessionConfiguration: EconomicSOAPSession.Configuration = .init(),
        observer: AuthEventObserver? = nil
    ) {
        self.appSecretToken = appSecretToken
        self.transport = transport
        self.providerConfiguration = providerConfiguration
        self.sessionConfiguration = sessionConfiguration
        self.observer = observer
        self.shared = Self.shared(providerConfiguration, transport, observer)
    }

    /// The credentials of one agreement.
    public func credentials(grantToken: Secret) -> EconomicCredentials {
        EconomicCredentials(appSecretToken: appSecretToken, agreementGrantToken: grantToken)
    }

    /// A REST provider for the agreement that issued `grantToken`.
    ///
    /// - Throws: ``AuthError/Code/invalidCredentialFormat`` for a malformed token;
    ///   ``AuthError/Code/insecureURL`` for a base URL that may not carry credentials.
    public func provider(grantToken: Secret) throws(AuthError) -> EconomicProvider {
        try EconomicProvider(credentials: credentials(grantToken: grantToken), shared: shared)
    }

    /// A SOAP session for the agreement that issued `grantToken`.
    ///
    /// - Throws: as ``provider(grantToken:)``.
    public func session(grantToken: Secret) throws(AuthError) -> EconomicSOAPSession {
        try EconomicSOAPSession(credentials: credentials(grantToken: grantToken), transport: transport, configuration: sessionConfiguration, observer: observer)
    }
}

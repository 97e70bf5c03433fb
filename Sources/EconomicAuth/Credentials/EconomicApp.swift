public import AuthCore
import HTTPTypes

/// One app's AppSecretToken shared by the providers and sessions of every agreement that
/// granted the app access.
///
/// An app has one AppSecretToken and one AgreementGrantToken per customer. Keep one
/// `EconomicApp` (with one transport) and make a provider per customer when needed: creating
/// one copies two strings and allocates an actor, with no network.
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
    public var providerConfiguration: EconomicProvider.Configuration
    /// The configuration given to each SOAP session.
    public var sessionConfiguration: EconomicSOAPSession.Configuration
    /// The observer given to each provider and session.
    public var observer: AuthEventObserver?

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
        try EconomicProvider(credentials: credentials(grantToken: grantToken), transport: transport, configuration: providerConfiguration, observer: observer)
    }

    /// A SOAP session for the agreement that issued `grantToken`.
    ///
    /// - Throws: as ``provider(grantToken:)``.
    public func session(grantToken: Secret) throws(AuthError) -> EconomicSOAPSession {
        try EconomicSOAPSession(credentials: credentials(grantToken: grantToken), transport: transport, configuration: sessionConfiguration, observer: observer)
    }
}

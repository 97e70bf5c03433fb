public import AuthCore
import HTTPTypes

/// The two tokens that open one e-conomic agreement: the app's AppSecretToken and the
/// AgreementGrantToken that agreement issued to the app.
///
/// Neither token expires; a grant ends when the customer revokes the app's access. One
/// AppSecretToken serves every agreement the app is granted (see ``EconomicApp``).
///
/// ```swift
/// let credentials = EconomicCredentials(
///     appSecretToken: Secret(appSecret),
///     agreementGrantToken: Secret(grantFromCallback)
/// )
/// print(credentials)   // EconomicCredentials(appSecretToken: <redacted>, agreementGrantToken: <redacted>)
/// ```
public struct EconomicCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The app's own secret token, sent as `X-AppSecretToken` (REST) or `appToken` (SOAP).
    public var appSecretToken: Secret
    /// The agreement's grant, sent as `X-AgreementGrantToken` (REST) or `token` (SOAP).
    public var agreementGrantToken: Secret

    /// Creates credentials from the two tokens.
    public init(appSecretToken: Secret, agreementGrantToken: Secret) {
        self.appSecretToken = appSecretToken
        self.agreementGrantToken = agreementGrantToken
    }

    /// e-conomic's public demo pair (`demo` / `demo`): read-only access to a demo agreement.
    public static var demo: EconomicCredentials {
        EconomicCredentials(appSecretToken: Secret("demo"), agreementGrantToken: Secret("demo"))
    }

    /// Both tokens redacted.
    public var description: String {
        "EconomicCredentials(appSecretToken: <redacted>, agreementGrantToken: <redacted>)"
    }

    /// Throws unless both tokens are non-empty and hold no whitespace or control characters
    /// (which could not travel in a header or would inject one).
    func validate() throws(AuthError) {
        try Self.validate(appSecretToken, name: "AppSecretToken")
        try Self.validate(agreementGrantToken, name: "AgreementGrantToken")
    }

    /// Throws ``AuthError/Code/invalidCredentialFormat`` unless `token` is non-empty and holds no
    /// whitespace or control characters; `name` (`"AgreementGrantToken"`, …) names it in the error.
    /// Use it on a token an administrator copied by hand before storing it.
    public static func validate(_ token: Secret, name: String) throws(AuthError) {
        guard !token.isEmpty else {
            throw AuthError(.invalidCredentialFormat, provider: EconomicEndpoints.providerName, message: "the \(name) is empty")
        }
        let bad = token.revealed.unicodeScalars.contains { scalar in
            scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
        }
        if bad {
            throw AuthError(.invalidCredentialFormat, provider: EconomicEndpoints.providerName, message: "the \(name) holds whitespace or control characters")
        }
    }
}

public import AuthCore
import HTTPTypes
public import Foundation

/// The identity of an application registered with Profix-it, and where its Profix-it lives.
///
/// Profix-it issues a client id (a UUID) and a client secret per application and pins each pair
/// to exactly one grant type (authorization code, client credentials or password). The redirect
/// URI is needed only for the authorization-code grant and must match the registered one exactly.
///
/// ```swift
/// let client = ProfixRegistration(
///     clientID: "b81cc4de-d192-400e-bcb4-09254394c52a",
///     clientSecret: Secret(ProcessInfo.processInfo.environment["PROFIX_CLIENT_SECRET"] ?? ""),
///     redirectURI: URL(string: "https://app.example.com/profix/callback"),
///     region: .nl
/// )
/// ```
public struct ProfixRegistration: Sendable, CustomStringConvertible {
    /// Where the Profix-it API lives.
    ///
    /// An access token issued by one region works in the other too.
    public struct Region: Sendable, Hashable, CustomStringConvertible {
        /// The base URL; the token endpoint is `{baseURL}/token`.
        public let baseURL: URL
        /// The base URL's host, made once here so that every provider of the region shares it.
        let audience: CredentialAudience

        /// The Dutch service, `https://api.profix-it.nl`.
        public static let nl = Region(trusted: "https://api.profix-it.nl")
        /// The Belgian service, `https://api.profix-it.be`.
        public static let be = Region(trusted: "https://api.profix-it.be")

        /// Any other base URL: a local installation, a test server or a sandbox.
        ///
        /// - Throws: ``AuthError`` with ``AuthError/Code/insecureURL`` unless the URL is `https`
        ///   (or `http` to a loopback address), and ``AuthError/Code/invalidConfiguration`` when it
        ///   carries a query or fragment.
        public static func custom(_ baseURL: URL) throws(AuthError) -> Region {
            try SecureURLPolicy.check(baseURL, provider: ProfixProvider.providerName)
            guard baseURL.query == nil, baseURL.fragment == nil else {
                throw AuthError(.invalidConfiguration, provider: ProfixProvider.providerName,
                                message: "a Profix-it base URL has no query or fragment")
            }
            return Region(baseURL: baseURL)
        }

        private init(baseURL: URL) {
            var text = baseURL.absoluteString
            while text.hasSuffix("/") { text.removeLast() }
            self.baseURL = URL(string: text) ?? baseURL
            self.audience = CredentialAudience(urls: [self.baseURL])
        }

        private init(trusted text: String) {
            // The two literals above are valid URLs; the fallback only satisfies the type checker.
            self.baseURL = URL(string: text) ?? URL(fileURLWithPath: "/")
            self.audience = CredentialAudience(urls: [self.baseURL])
        }

        /// The URL of `path` below the base URL (`path` without a leading slash).
        func url(_ path: String) -> URL {
            baseURL.appendingPathComponent(path)
        }

        /// The base URL as text.
        public var description: String { baseURL.absoluteString }
    }

    /// The client id Profix-it issued (a UUID).
    public var clientID: String
    /// The client secret Profix-it issued.
    public var clientSecret: Secret
    /// The redirect URI registered for the authorization-code grant; `nil` for the other grants.
    public var redirectURI: URL?
    /// Where the service lives. Default ``Region/nl``.
    public var region: Region

    /// Creates a client description.
    ///
    /// - Parameters:
    ///   - clientID: The client id.
    ///   - clientSecret: The client secret.
    ///   - redirectURI: The registered redirect URI (authorization-code grant only).
    ///   - region: ``Region/nl``, ``Region/be`` or ``Region/custom(_:)``.
    public init(clientID: String, clientSecret: Secret, redirectURI: URL? = nil, region: Region = .nl) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.region = region
    }

    /// `POST {base}/token`.
    public var tokenURL: URL { region.url("token") }
    /// `POST {base}/token/ChangePassword`.
    public var changePasswordURL: URL { region.url("token/ChangePassword") }
    /// `GET {base}/Authorization`, where the browser goes to sign in.
    public var authorizationEndpoint: URL { region.url("Authorization") }

    /// The client id and region; never the secret.
    public var description: String {
        "ProfixRegistration(clientID: \(clientID), clientSecret: <redacted>, region: \(region))"
    }
}

public import AuthCore
import HTTPTypes
internal import AuthRuntime
public import Foundation

/// Builds the link an agreement administrator opens to grant an app access (the app's
/// "requestURL"), with an optional page language and a redirect back to the app.
///
/// e-conomic's grant page takes `appPublicToken` (from the app's requestURL), an optional
/// `locale` and an optional `redirectUrl`. After the grant the browser goes to the redirect URL
/// with `token=<AgreementGrantToken>` appended. The redirect URL may carry the app's own
/// parameters (say `UserInMySystem=123`); the builder adds them to the redirect URL, each value
/// percent-encoded, and then encodes the *whole* redirect URL once as the `redirectUrl` value, so
/// nothing is encoded twice by mistake and nothing the app sends can break out of it. A query the
/// requestURL already has is kept.
///
/// Set ``state`` (for example ``randomState()``) to have an unguessable value come back on the
/// redirect; ``EconomicGrantCallback`` checks it when given the request.
///
/// ```swift
/// let request = EconomicGrantRequest(
///     appPublicToken: "my-app-public-token",
///     locale: .danish,
///     redirectURL: URL(string: "https://app.example.com/economic/callback"),
///     parameters: [.init("UserInMySystem", "123")],
///     state: EconomicGrantRequest.randomState()
/// )
/// let link = try request.url()
/// ```
///
/// ### Across app instances
/// The request is `Codable`: keep it in the server-side session the redirect will find (encoded
/// with `JSONEncoder`), not in a cookie, since it holds the `state`; the decoded request checks
/// the callback exactly as the original would.
public struct EconomicGrantRequest: Sendable, Codable {
    /// The language of e-conomic's grant pages.
    public struct Locale: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
        /// The value sent as `locale`, such as `da-DK`.
        public let rawValue: String
        /// Creates a locale from its code; e-conomic documents the four static values.
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// Danish, `da-DK`.
        public static let danish = Locale(rawValue: "da-DK")
        /// Swedish, `sv-SE`.
        public static let swedish = Locale(rawValue: "sv-SE")
        /// Norwegian, `nb-NO`.
        public static let norwegian = Locale(rawValue: "nb-NO")
        /// English, `en-US`.
        public static let english = Locale(rawValue: "en-US")
        /// The documented locales.
        public static let documented: [Locale] = [.danish, .swedish, .norwegian, .english]
    }

    /// One of the app's own parameters carried on the redirect URL.
    public struct Parameter: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The name (not empty; not `token`).
        public var name: String
        /// The value; any text.
        public var value: String
        /// Creates a parameter.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
        public var description: String { "\(name)=\(value)" }
    }

    /// The name of the parameter the grant page appends: `token`.
    public static let tokenParameterName = "token"

    /// The app's requestURL (which carries `appPublicToken`), or the grant page's address.
    public var requestURL: URL
    /// The page language; `nil` lets e-conomic choose.
    public var locale: Locale?
    /// Where the browser goes after the grant; `nil` shows the token on e-conomic's page for
    /// copying instead.
    public var redirectURL: URL?
    /// The app's own parameters, added to the redirect URL in order.
    public var parameters: [Parameter]
    /// A value the app keeps and expects back on the redirect; sent as ``stateParameterName``.
    public var state: Secret?
    /// The name under which ``state`` travels. Default `state`.
    public var stateParameterName: String = "state"

    /// Creates a request from the app's requestURL as e-conomic shows it.
    ///
    /// - Parameters:
    ///   - requestURL: The app's requestURL (with `appPublicToken=` or the older `appId=`).
    ///   - locale: The page language.
    ///   - redirectURL: Where the browser returns with the token.
    ///   - parameters: The app's own parameters for the redirect URL.
    ///   - state: A value to expect back.
    public init(requestURL: URL, locale: Locale? = nil, redirectURL: URL? = nil, parameters: [Parameter] = [], state: Secret? = nil) {
        self.requestURL = requestURL
        self.locale = locale
        self.redirectURL = redirectURL
        self.parameters = parameters
        self.state = state
    }

    /// Creates a request from the app's public token.
    ///
    /// - Parameters:
    ///   - appPublicToken: The app's public token (not a secret: it is in every requestURL).
    ///   - requestAccessURL: The grant page. Default ``EconomicEndpoints/requestAccessURL``.
    public init(appPublicToken: String, requestAccessURL: URL = EconomicEndpoints.requestAccessURL, locale: Locale? = nil, redirectURL: URL? = nil, parameters: [Parameter] = [], state: Secret? = nil) {
        var components = URLComponents(url: requestAccessURL, resolvingAgainstBaseURL: false)
        let existing = components?.percentEncodedQuery.map { $0 + "&" } ?? ""
        components?.percentEncodedQuery = existing + "appPublicToken=" + FormEncoding.encodeComponent(appPublicToken)
        self.init(requestURL: components?.url ?? requestAccessURL, locale: locale, redirectURL: redirectURL, parameters: parameters, state: state)
    }

    /// A fresh unguessable state value: 32 random bytes as hex.
    public static func randomState() -> Secret { RandomState.make() }

    /// The link to give the agreement administrator.
    ///
    /// - Throws: ``AuthError/Code/invalidConfiguration`` when the requestURL or redirect URL is
    ///   not `https` (or loopback `http`), the redirect URL has a fragment (the token would be lost
    ///   in it), or a parameter is named `token`, is empty, repeats, or clashes with the state.
    public func url() throws(AuthError) -> URL {
        guard SecureURLPolicy.allows(requestURL),
              var components = URLComponents(url: requestURL, resolvingAgainstBaseURL: false) else {
            throw Self.invalid("the requestURL must be an absolute https URL")
        }
        components.fragment = nil
        var items = (components.percentEncodedQuery ?? "")
            .split(separator: "&", omittingEmptySubsequences: true)
            .map(String.init)
        func drop(_ name: String) {
            items.removeAll { item in
                let rawName = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? item
                return (FormEncoding.decodeComponent(rawName) ?? rawName).lowercased() == name.lowercased()
            }
        }
        if let locale {
            drop("locale")
            items.append("locale=" + FormEncoding.encodeComponent(locale.rawValue))
        }
        if let target = try redirectTarget() {
            drop("redirectUrl")
            items.append("redirectUrl=" + FormEncoding.encodeComponent(target.absoluteString))
        }
        components.percentEncodedQuery = items.isEmpty ? nil : items.joined(separator: "&")
        guard let url = components.url else {
            throw Self.invalid("the requestURL could not be rebuilt")
        }
        return url
    }

    /// The address the browser returns to, before e-conomic appends `token=`: the redirect URL
    /// with the app's parameters and the state added; `nil` without a redirect URL.
    ///
    /// - Throws: as ``url()``.
    public func redirectTarget() throws(AuthError) -> URL? {
        guard let redirectURL else {
            if !parameters.isEmpty || state != nil {
                throw Self.invalid("parameters and state need a redirect URL to travel on")
            }
            return nil
        }
        guard SecureURLPolicy.allows(redirectURL),
              var components = URLComponents(url: redirectURL, resolvingAgainstBaseURL: false) else {
            throw Self.invalid("the redirect URL must be an absolute https URL (or http to loopback)")
        }
        guard components.fragment == nil else {
            throw Self.invalid("the redirect URL must not have a fragment: the appended token would be lost in it")
        }
        var names = Set(FormEncoding.queryItems(of: redirectURL).map { $0.0.lowercased() })
        guard !names.contains(Self.tokenParameterName) else {
            throw Self.invalid("the redirect URL already has a token parameter")
        }
        var all = parameters
        if let state { all.append(Parameter(stateParameterName, state.revealed)) }
        var extra: [String] = []
        for parameter in all {
            let key = parameter.name.lowercased()
            guard !parameter.name.isEmpty, key != Self.tokenParameterName, !names.contains(key) else {
                throw Self.invalid("parameter names must be non-empty, unique and not \"token\" (or the state's name)")
            }
            names.insert(key)
            extra.append(FormEncoding.encodeComponent(parameter.name) + "=" + FormEncoding.encodeComponent(parameter.value))
        }
        if !extra.isEmpty {
            let existing = components.percentEncodedQuery.map { $0.isEmpty ? "" : $0 + "&" } ?? ""
            components.percentEncodedQuery = existing + extra.joined(separator: "&")
        }
        guard let url = components.url else {
            throw Self.invalid("the redirect URL could not be rebuilt")
        }
        return url
    }

    static func invalid(_ message: String) -> AuthError {
        AuthError(.invalidConfiguration, provider: EconomicEndpoints.providerName, message: message)
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

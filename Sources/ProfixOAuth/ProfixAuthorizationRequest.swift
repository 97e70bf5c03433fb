public import AuthCore
import HTTPTypes
internal import AuthRuntime
public import Foundation

/// One pending authorization-code sign-in: the URL to send the browser to and the `state` to
/// check when the browser comes back.
///
/// Profix-it sends the browser to `{redirect URI}?code=…`. Its documentation does not say that
/// `state` is echoed, so ``code(from:)`` compares a returned `state` in constant time and lets
/// ``StatePolicy`` decide whether a missing one is an error. A code lives about three minutes:
/// exchange it right away with ``ProfixProvider/exchange(code:)``.
///
/// ```swift
/// let pending = try ProfixAuthorizationRequest(client: client)
/// // redirect the browser to pending.url; keep `pending` in the user's session
/// let code = try pending.code(from: callbackURL)
/// try await provider.exchange(code: code)
/// ```
///
/// ### Across app instances
/// The request is `Codable`: behind a load balancer, encode it into the server-side session the
/// callback will find (a database row or a shared cache, keyed by the user's session), not into a
/// cookie, since it holds the `state`. The decoded request checks the returned `state` exactly as
/// the original would, in constant time.
///
/// ```swift
/// try await sessions.set(JSONEncoder().encode(pending), for: sessionID)
/// // … on whichever instance receives the callback:
/// let pending = try JSONDecoder().decode(ProfixAuthorizationRequest.self, from: try await sessions.get(sessionID))
/// ```
public struct ProfixAuthorizationRequest: Sendable, Codable, CustomStringConvertible {
    /// Whether a callback without `state` is accepted.
    public struct StatePolicy: Sendable, Hashable, Codable {
        let requiresState: Bool
        /// Check `state` when it comes back; accept a callback without it (Profix-it does not
        /// document echoing it). The default.
        public static let verifyIfPresent = StatePolicy(requiresState: false)
        /// Reject a callback that carries no `state`.
        public static let required = StatePolicy(requiresState: true)
    }

    /// The URL the browser goes to: `{base}/Authorization?client_id=…&redirect_uri=…&state=…`.
    public let url: URL
    /// The value sent as `state`; compare it only through ``code(from:)``.
    public let state: Secret
    /// The redirect URI the code is bound to.
    public let redirectURI: URL
    /// How a missing `state` is treated.
    public var statePolicy: StatePolicy

    /// Builds the authorization URL.
    ///
    /// - Parameters:
    ///   - client: The client; it must have a ``ProfixRegistration/redirectURI``.
    ///   - state: The `state` to send; by default 32 random bytes, hex-encoded.
    ///   - statePolicy: How a callback without `state` is treated.
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` when the client has no
    ///   redirect URI, ``AuthError/Code/insecureURL`` when the endpoint may not carry credentials or
    ///   the redirect URI is plain `http` to another machine (the code would travel in clear).
    public init(client: ProfixRegistration, state: Secret? = nil, statePolicy: StatePolicy = .verifyIfPresent) throws(AuthError) {
        guard let redirectURI = client.redirectURI else {
            throw AuthError(.invalidConfiguration, provider: ProfixProvider.providerName,
                            message: "the authorization-code grant needs a redirect URI")
        }
        guard let scheme = redirectURI.scheme, !scheme.isEmpty, redirectURI.host != nil || scheme != "https" else {
            throw AuthError(.invalidConfiguration, provider: ProfixProvider.providerName,
                            message: "the redirect URI must be an absolute URL")
        }
        // The code comes back on the redirect URI: over plain HTTP only to this machine.
        if scheme.lowercased() == "http" { try SecureURLPolicy.check(redirectURI, provider: ProfixProvider.providerName) }
        try SecureURLPolicy.check(client.authorizationEndpoint, provider: ProfixProvider.providerName)
        let state = state ?? Self.randomState()
        let query = FormEncoding.encodeQuery([
            ("client_id", client.clientID),
            ("redirect_uri", redirectURI.absoluteString),
            ("state", state.revealed),
        ])
        guard let url = URL(string: client.authorizationEndpoint.absoluteString + "?" + query) else {
            throw AuthError(.invalidConfiguration, provider: ProfixProvider.providerName,
                            message: "cannot build the authorization URL")
        }
        self.url = url
        self.state = state
        self.redirectURI = redirectURI
        self.statePolicy = statePolicy
    }

    /// Reads the authorization code from the URL the browser was redirected to.
    ///
    /// The callback must point at the redirect URI (same scheme, host, port and path), must not
    /// carry `error=`, must carry exactly one non-empty `code`, and its `state`, when present (or
    /// always, with ``StatePolicy/required``), must equal ``state``.
    ///
    /// - Returns: The code, as a ``Secret``.
    /// - Throws: ``AuthError`` with ``AuthError/Code/callbackInvalid`` (wrong target, `error=`,
    ///   no code) or ``AuthError/Code/stateMismatch``.
    public func code(from callbackURL: URL) throws(AuthError) -> Secret {
        let provider = ProfixProvider.providerName
        guard Self.sameEndpoint(callbackURL, redirectURI) else {
            throw AuthError(.callbackInvalid, provider: provider,
                            message: "the callback does not point at the redirect URI (\(URLDescription(callbackURL).text))")
        }
        let items = FormEncoding.queryItems(of: callbackURL)
        if let error = items.first(where: { $0.0 == "error" }) {
            let description = items.first { $0.0 == "error_description" }?.1
            throw AuthError(.callbackInvalid, provider: provider, serverCode: error.1,
                            message: description ?? "the service reported an error instead of a code")
        }
        let states = items.filter { $0.0 == "state" }.map(\.1)
        if states.count > 1 {
            throw AuthError(.stateMismatch, provider: provider, message: "the callback carries more than one state")
        }
        if let returned = states.first {
            guard state.matches(returned) else {
                throw AuthError(.stateMismatch, provider: provider, message: "the returned state does not match the one sent")
            }
        } else if statePolicy.requiresState {
            throw AuthError(.stateMismatch, provider: provider, message: "the callback carries no state")
        }
        let codes = items.filter { $0.0 == "code" }.map(\.1)
        guard codes.count == 1, let code = codes.first, !code.isEmpty else {
            throw AuthError(.callbackInvalid, provider: provider,
                            message: codes.count > 1 ? "the callback carries more than one code" : "the callback carries no code")
        }
        return Secret(code)
    }

    /// The authorization endpoint and redirect URI; never the state.
    public var description: String {
        "ProfixAuthorizationRequest(\(URLDescription(url).text), redirectURI: \(URLDescription(redirectURI).text), state: <redacted>)"
    }

    static func sameEndpoint(_ a: URL, _ b: URL) -> Bool {
        func normalizedPath(_ url: URL) -> String {
            let path = url.path
            return path.isEmpty ? "/" : path
        }
        func port(_ url: URL) -> Int? {
            if let port = url.port { return port }
            switch url.scheme?.lowercased() {
            case "https": return 443
            case "http": return 80
            default: return nil
            }
        }
        return a.scheme?.lowercased() == b.scheme?.lowercased()
            && a.host?.lowercased() == b.host?.lowercased()
            && port(a) == port(b)
            && normalizedPath(a) == normalizedPath(b)
    }

    static func randomState() -> Secret { RandomState.make() }
}

extension FormEncoding {
    /// Encodes pairs as a URL query (spaces as `%20`).
    static func encodeQuery(_ pairs: [(String, String)]) -> String {
        pairs.map { encodeComponent($0.0) + "=" + encodeComponent($0.1) }.joined(separator: "&")
    }
}

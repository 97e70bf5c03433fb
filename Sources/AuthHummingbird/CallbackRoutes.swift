#if Hummingbird
public import AuthCore
public import EconomicAuth
import Foundation
public import Hummingbird
public import ProfixOAuth

/// A Profix-it sign-in waiting for its callback: the request the browser was sent with and the
/// provider that exchanges the code and stores the credential.
public struct PendingProfixSignIn: Sendable {
    /// The pending authorization request (its `state` is checked on the callback).
    public var request: ProfixAuthorizationRequest
    /// The provider that exchanges the code; it saves the pair in its token store.
    public var provider: ProfixProvider

    /// A pending sign-in.
    public init(request: ProfixAuthorizationRequest, provider: ProfixProvider) {
        self.request = request
        self.provider = provider
    }
}

/// An e-conomic grant waiting for its callback: the request the link was built from and where the
/// granted AgreementGrantToken is kept.
public struct PendingEconomicGrant: Sendable {
    /// The request the grant link was built from (address, parameters and state are checked).
    public var request: EconomicGrantRequest
    /// The store the AgreementGrantToken is saved to, as a credential whose access token is the
    /// grant (attribute `grant: agreement`, the shape ``EconomicProvider/replaceGrant(_:)`` reports).
    public var store: any TokenStore
    /// The key it is saved under.
    public var key: TokenKey

    /// A pending grant.
    public init(request: EconomicGrantRequest, store: any TokenStore, key: TokenKey) {
        self.request = request
        self.store = store
        self.key = key
    }
}

/// The callback URL as the redirect URI names it: the redirect URI's scheme, host and port (a
/// proxy in front of the app may change them) with the request's path and query.
func callbackURL(_ request: Request, origin: URL) throws(AuthError) -> URL {
    guard let scheme = origin.scheme, let host = origin.host,
          let url = URL(string: "\(scheme)://\(host)\(origin.port.map { ":\($0)" } ?? "")\(request.uri.string)") else {
        throw AuthError(.callbackInvalid, message: "the callback URL cannot be read")
    }
    return url
}

/// The answer for a callback that failed: `400` with the error's code, never its details.
func failureResponse(_ error: AuthError) -> Response {
    Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
             body: .init(byteBuffer: ByteBuffer(string: "sign-in failed: \(error.code.rawValue)\n")))
}

extension RouterMethods {
    /// Handles Profix-it's authorization-code callback (`GET path?code=…&state=…`).
    ///
    /// The route finds the sign-in this browser started (`pending`), checks the callback against
    /// it (redirect URI, `error=`, exactly one code, `state` in constant time), exchanges the
    /// code, which stores the pair through the provider's token store, and then calls
    /// `onSignedIn`. Any failure goes to `onFailure` (default: `400` naming the error code only);
    /// no code, token or state is ever written into a response or a log.
    ///
    /// ```swift
    /// router.profixCallback("/oauth/profix", pending: { request, context in
    ///     try await signIns.take(for: request)      // the app's per-browser session
    /// }, onSignedIn: { credential, request, context in
    ///     .redirect(to: "/dashboard")
    /// })
    /// ```
    ///
    /// - Parameters:
    ///   - path: Where the redirect URI points.
    ///   - pending: The sign-in this browser started, or `nil` when there is none (an
    ///     ``AuthCore/AuthError/Code/callbackInvalid`` failure). Remove it as you return it: a code
    ///     works once.
    ///   - onSignedIn: Called with the stored credential; its response goes to the browser.
    ///   - onFailure: Called with the typed error instead of the default `400`.
    @discardableResult
    public func profixCallback(
        _ path: RouterPath,
        pending: @escaping @Sendable (Request, Context) async throws -> PendingProfixSignIn?,
        onSignedIn: @escaping @Sendable (StoredCredential, Request, Context) async throws -> Response,
        onFailure: (@Sendable (AuthError, Request, Context) async throws -> Response)? = nil
    ) -> Self {
        callbackRoute(path, onFailure: onFailure, accept: { request, context in
            guard let signIn = try await pending(request, context) else {
                throw AuthError(.callbackInvalid, provider: ProfixProvider.providerName, message: "no sign-in is pending for this browser")
            }
            let url = try callbackURL(request, origin: signIn.request.redirectURI)
            return try await signIn.provider.exchange(callbackURL: url, for: signIn.request)
        }, then: onSignedIn)
    }

    /// A `GET` route that runs `accept` (check the callback, store what it brings) and then the
    /// app's `then`; a typed failure of `accept` goes to `onFailure`, or becomes the default `400`.
    private func callbackRoute<Accepted: Sendable>(
        _ path: RouterPath,
        onFailure: (@Sendable (AuthError, Request, Context) async throws -> Response)?,
        accept: @escaping @Sendable (Request, Context) async throws -> Accepted,
        then: @escaping @Sendable (Accepted, Request, Context) async throws -> Response
    ) -> Self {
        on(path, method: .get) { request, context -> Response in
            let accepted: Accepted
            do {
                accepted = try await accept(request, context)
            } catch let error as AuthError {
                return try await onFailure?(error, request, context) ?? failureResponse(error)
            }
            return try await then(accepted, request, context)
        }
    }

    /// Handles e-conomic's grant callback (`GET path?…&token=<AgreementGrantToken>`).
    ///
    /// The route finds the grant this browser started (`pending`), checks the callback against
    /// its request (address, the app's parameters, `state` in constant time, exactly one
    /// well-formed token), saves the AgreementGrantToken to the pending grant's store, and calls
    /// `onGranted` with the parsed callback. Any failure goes to `onFailure` (default: `400`
    /// naming the error code only); the token is never written into a response or a log.
    ///
    /// ```swift
    /// router.economicGrantCallback("/economic/granted", pending: { request, context in
    ///     try await grants.take(for: request)
    /// }, onGranted: { callback, request, context in
    ///     .redirect(to: "/settings/economic")
    /// })
    /// ```
    ///
    /// - Parameters:
    ///   - path: Where the request's redirect URL points.
    ///   - pending: The grant this browser started, or `nil` when there is none.
    ///   - onGranted: Called after the grant is stored; its response goes to the browser.
    ///   - onFailure: Called with the typed error instead of the default `400`.
    @discardableResult
    public func economicGrantCallback(
        _ path: RouterPath,
        pending: @escaping @Sendable (Request, Context) async throws -> PendingEconomicGrant?,
        onGranted: @escaping @Sendable (EconomicGrantCallback, Request, Context) async throws -> Response,
        onFailure: (@Sendable (AuthError, Request, Context) async throws -> Response)? = nil
    ) -> Self {
        callbackRoute(path, onFailure: onFailure, accept: { request, context in
            guard let grant = try await pending(request, context) else {
                throw AuthError(.callbackInvalid, provider: EconomicEndpoints.providerName, message: "no grant is pending for this browser")
            }
            guard let target = try grant.request.redirectTarget() else {
                throw AuthError(.invalidConfiguration, provider: EconomicEndpoints.providerName, message: "the grant request has no redirect URL")
            }
            let callback = try EconomicGrantCallback(url: try callbackURL(request, origin: target), expecting: grant.request)
            do {
                try await grant.store.save(StoredCredential(accessToken: callback.agreementGrantToken, attributes: ["grant": "agreement"]), for: grant.key)
            } catch {
                throw (error as? AuthError) ?? AuthError(.storeFailure, provider: EconomicEndpoints.providerName, message: "the grant could not be saved")
            }
            return callback
        }, then: onGranted)
    }
}
#endif

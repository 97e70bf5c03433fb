public import AuthCore
import HTTPTypes
public import Foundation

/// Reads the URL the browser came back on after an agreement granted the app access.
///
/// e-conomic appends `token=<AgreementGrantToken>` to the redirect URL. The callback gives that
/// token as a ``Secret`` plus the app's own parameters. When the original
/// ``EconomicGrantRequest`` is passed as `expecting`, the callback must come back to the same
/// address with exactly the parameters that were sent (and the same ``EconomicGrantRequest/state``,
/// compared in constant time); anything else counts as tampering.
///
/// ```swift
/// let callback = try EconomicGrantCallback(url: incomingURL, expecting: pendingRequest)
/// let user = callback.value(for: "UserInMySystem")
/// let grant = callback.agreementGrantToken
/// ```
public struct EconomicGrantCallback: Sendable, CustomStringConvertible {
    /// The AgreementGrantToken the agreement issued.
    public let agreementGrantToken: Secret
    /// The app's own parameters, in order, without `token` and the state.
    public let parameters: [EconomicGrantRequest.Parameter]

    /// Parses a callback URL.
    ///
    /// - Parameters:
    ///   - url: The full URL the browser requested (scheme, host, path and query).
    ///   - request: The request the link was built from; when given, the address, parameters
    ///     and state must match it.
    /// - Throws: ``AuthError/Code/callbackInvalid`` when there is no token, an empty or malformed
    ///   token, several tokens, another address, or parameters that differ from the request's;
    ///   ``AuthError/Code/stateMismatch`` when the state is missing or differs;
    ///   ``AuthError/Code/invalidConfiguration`` when `request` itself is invalid.
    public init(url: URL, expecting request: EconomicGrantRequest? = nil) throws(AuthError) {
        let items = FormEncoding.queryItems(of: url)
        let tokens = items.filter { $0.0 == EconomicGrantRequest.tokenParameterName }
        guard let token = tokens.first?.1 else {
            throw Self.invalid("the callback URL has no token parameter (was access denied?)")
        }
        guard tokens.count == 1 else {
            throw Self.invalid("the callback URL has several token parameters (tampered)")
        }
        guard !token.isEmpty else {
            throw Self.invalid("the callback URL has an empty token")
        }
        guard !token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
            throw Self.invalid("the token on the callback URL holds whitespace or control characters")
        }
        var rest = items.filter { $0.0 != EconomicGrantRequest.tokenParameterName }

        if let request {
            guard let target = try request.redirectTarget() else {
                throw AuthError(.invalidConfiguration, provider: EconomicEndpoints.providerName, message: "the expected request has no redirect URL")
            }
            guard Self.sameAddress(url, target) else {
                throw Self.invalid("the callback came back to another address than the redirect URL")
            }
            if let state = request.state {
                let states = rest.filter { $0.0 == request.stateParameterName }
                guard states.count == 1, let received = states.first, state.matches(received.1) else {
                    throw AuthError(.stateMismatch, provider: EconomicEndpoints.providerName, message: "the state on the callback is missing or differs from the one sent")
                }
                rest.removeAll { $0.0 == request.stateParameterName }
            }
            let expected = FormEncoding.queryItems(of: target).filter { !(request.state != nil && $0.0 == request.stateParameterName) }
            guard rest.count == expected.count, zip(rest, expected).allSatisfy({ $0.0 == $1.0 && $0.1 == $1.1 }) else {
                throw Self.invalid("the parameters on the callback differ from the ones sent (tampered)")
            }
        }
        self.agreementGrantToken = Secret(token)
        self.parameters = rest.map { EconomicGrantRequest.Parameter($0.0, $0.1) }
    }

    /// The value of the first parameter named `name`.
    public func value(for name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    /// The parameters with the token redacted.
    public var description: String {
        "EconomicGrantCallback(agreementGrantToken: <redacted>, parameters: \(parameters.map(\.description)))"
    }

    static func sameAddress(_ a: URL, _ b: URL) -> Bool {
        func port(_ url: URL) -> Int? {
            url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil)
        }
        func path(_ url: URL) -> String {
            let raw = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
            return raw.isEmpty ? "/" : raw
        }
        return a.scheme?.lowercased() == b.scheme?.lowercased()
            && a.host?.lowercased() == b.host?.lowercased()
            && port(a) == port(b)
            && path(a) == path(b)
    }

    static func invalid(_ message: String) -> AuthError {
        AuthError(.callbackInvalid, provider: EconomicEndpoints.providerName, message: message)
    }
}

import AuthCore
import AuthRuntime
import Foundation

/// Sends token-endpoint requests through the shared ``EndpointClient`` and parses the answers;
/// holds no state, so it can run outside the provider (for example inside a store's `update`).
struct ProfixTokenClient: Sendable {
    let client: ProfixClient
    let endpoint: EndpointClient

    /// Sends a grant or refresh request, retrying transient failures.
    ///
    /// - Parameter oneTime: the request spends something that works once (an authorization code, a
    ///   rotating refresh token): failures after which the server may have processed it are not
    ///   retried, so the caller sees the timeout rather than a misleading `invalid_grant`.
    func grant(_ request: HTTPRequest, allowsPasswordChange: Bool = false, oneTime: Bool = false) async throws(AuthError) -> ProfixGrantResult {
        let response = try await endpoint.send(request, retrying: oneTime ? .oneTime : .transient)
        return try ProfixTokenEndpoint.parseToken(response, maxBytes: endpoint.maxResponseBytes, allowsPasswordChange: allowsPasswordChange)
    }

    /// Sends a grant request that must yield tokens.
    func tokens(_ request: HTTPRequest, oneTime: Bool = false) async throws(AuthError) -> ProfixTokenResponse {
        switch try await grant(request, oneTime: oneTime) {
        case .tokens(let tokens): return tokens
        case .passwordChangeRequired:
            throw AuthError(.passwordChangeRequired, provider: ProfixProvider.providerName)
        }
    }
}

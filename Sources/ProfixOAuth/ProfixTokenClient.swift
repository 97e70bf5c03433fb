import AuthCore
import Foundation

/// Sends token-endpoint requests and parses the answers; holds no state, so it can run outside
/// the provider's actor (for example inside `FileTokenStore.update`).
struct ProfixTokenClient: Sendable {
    let client: ProfixClient
    let transport: any HTTPTransport
    let retryPolicy: RetryPolicy
    let maxResponseBytes: Int

    /// Sends a grant or refresh request, retrying transient failures.
    ///
    /// - Parameter oneTime: the request spends something that works once (an authorization code, a
    ///   rotating refresh token): failures after which the server may have processed it are not
    ///   retried, so the caller sees the timeout rather than a misleading `invalid_grant`.
    func grant(_ request: HTTPRequest, allowsPasswordChange: Bool = false, oneTime: Bool = false) async throws(AuthError) -> ProfixGrantResult {
        let response = try await send(request, retrying: true, oneTime: oneTime)
        return try ProfixTokenEndpoint.parseToken(response, maxBytes: maxResponseBytes, allowsPasswordChange: allowsPasswordChange)
    }

    /// Sends a grant request that must yield tokens.
    func tokens(_ request: HTTPRequest, oneTime: Bool = false) async throws(AuthError) -> ProfixTokenResponse {
        switch try await grant(request, oneTime: oneTime) {
        case .tokens(let tokens): return tokens
        case .passwordChangeRequired:
            throw AuthError(.passwordChangeRequired, provider: ProfixTokenProvider.providerName)
        }
    }

    func send(_ request: HTTPRequest, retrying: Bool, oneTime: Bool = false) async throws(AuthError) -> HTTPResponse {
        let provider = ProfixTokenProvider.providerName
        try SecureURLPolicy.check(request.url, provider: provider)
        do {
            let policy = retrying ? (oneTime ? retryPolicy.forOneTimeRequests : retryPolicy) : .none
            return try await policy.run { try await transport.send(request) }
        } catch let error as AuthError {
            throw error.attributed(to: provider)
        } catch {
            throw AuthError(.transportFailure, provider: provider, message: "the transport failed (\(type(of: error)))")
        }
    }
}

import AuthCore
import HTTPTypes
internal import AuthRuntime
import Foundation

extension ProfitProvider {
    /// Uses `token` from now on and saves it to the store, replacing any token before it.
    ///
    /// This is the path for a token an administrator added to the app connector by hand.
    ///
    /// When several ``addToken(_:userId:)``, ``redeemOTP(_:userId:over:)`` and
    /// ``deleteToken(revokingOnServer:)`` calls overlap, the one that started last decides the
    /// token in memory and in the store; an earlier one returns without making its token current.
    ///
    /// - Parameters:
    ///   - token: The token.
    ///   - userId: The Profit user the token belongs to, kept as a non-secret attribute.
    /// - Throws: ``AuthError`` with ``AuthError/Code/storeFailure`` when saving fails (the token is
    ///   still used in memory).
    public nonisolated func addToken(_ token: ProfitToken, userId: String? = nil) async throws {
        try await install(token, userId: userId, obtainedVia: "manual")
    }

    /// Deletes the token: revokes it in Profit with the SOAP `DeleteToken` operation (unless
    /// `revokingOnServer` is `false`), then removes it from memory and the store.
    ///
    /// Token changes already under way finish first, so the token revoked is the one they leave.
    /// When another token is added or redeemed while the deletion runs, that newer token is kept
    /// in memory and in the store and the deletion returns `false`: the revoked token (if any) is
    /// gone in Profit, but the local token was not removed.
    ///
    /// - Returns: `true` when the local token was removed; `false` when a token change that
    ///   started during the deletion was kept instead.
    /// - Throws: ``AuthError`` with ``AuthError/Code/notAuthenticated`` when there is no token to
    ///   revoke; the errors of the SOAP call (the local token is kept when it fails);
    ///   ``AuthError/Code/storeFailure`` when the store cannot remove it.
    @discardableResult
    public nonisolated func deleteToken(revokingOnServer: Bool = true) async throws -> Bool {
        if revokingOnServer {
            await cell.settle()
            let seen = cell.newestTicket
            let token = try await currentToken()
            if cell.newestTicket != seen {
                // A change began while the token was read, and may have supplied it (its stored
                // value can be read back before the change completes). Let it finish: the change
                // wins; a token it replaced is revoked, as asked; its own token is kept.
                await cell.settle()
                if let current = try? await currentToken(), current == token { return false }
                try await revoke(token)
                return false
            }
            try await revoke(token)
            // Re-check after the awaits: a token changed meanwhile is not the one that was revoked.
            guard cell.newestTicket == seen else { return false }
        }
        let outcome = await cell.install(nil, event: .credentialRemoved(provider: Self.providerName))
        guard outcome.adopted else { return false }
        if let failure = outcome.failure {
            throw Self.storeError(failure, "the token was removed from memory but the store could not remove it")
        }
        return true
    }

    /// Revokes `token` in Profit (`DeleteToken`), scrubbing it from any error.
    private nonisolated func revoke(_ token: ProfitToken) async throws {
        try await SecretScrubbing.withSecrets([token.xml]) {
            let url = try environment.soapURL(ProfitSOAP.tokenService)
            let request = ProfitSOAP.request(url: url, operation: "DeleteToken", parameters: [("token", token.xml.revealed)])
            let response = try await send(request)
            _ = try ProfitSOAP.result(of: response, operation: "DeleteToken", faultCode: .invalidCredentials,
                                      maxBytes: configuration.maxResponseBytes)
        }
    }

    /// What Profit says about the token, from `GET …/metainfo`: its expiry when the app connector
    /// has a validity period.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/notAuthenticated`` without a token,
    ///   ``AuthError/Code/revoked`` when Profit rejects it, ``AuthError/Code/malformedResponse`` for
    ///   an answer that is not JSON, and the codes of ``error(for:)``.
    public nonisolated func tokenInfo() async throws -> ProfitTokenInfo {
        let token = try await currentToken()
        return try await SecretScrubbing.withSecrets([token.xml]) { try await tokenInfoUnscrubbed() }
    }

    private nonisolated func tokenInfoUnscrubbed() async throws -> ProfitTokenInfo {
        let token = try await currentToken()
        var request = OutgoingRequest(url: try environment.restURL("metainfo"), headerFields: [.accept: "application/json"])
        try Self.authorize(&request.head, body: &request.body, token: token, configuration: configuration)
        let response = try await send(request)
        if !response.isSuccess {
            let error = ProfitResponse.error(for: response)
            if response.status == 401 { cell.parts.observer?.receive(.credentialRevoked(provider: Self.providerName)) }
            throw error
        }
        try endpoint.checkSize(response)
        let expiry = try ProfitResponse.tokenExpiry(inMetainfo: response.body)
        let credential = try await cell.credential()
        return ProfitTokenInfo(expiresAt: expiry, issuedAt: credential?.issuedAt, userId: credential?.attributes["userId"])
    }
}

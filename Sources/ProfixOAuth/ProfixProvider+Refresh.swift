import AuthCore
import HTTPTypes
import AuthRuntime
import Foundation

/// The Profix-specific half of a refresh: how a credential is renewed, which failures mean the
/// service refused it, and how a token answer becomes a stored credential. The engine
/// (``CredentialCell``) does the rest: when, how often, under which lock, and what to keep.
extension ProfixProvider {
    static func renewal(_ tokenClient: ProfixTokenClient, now: @escaping @Sendable () -> Date) -> CredentialRenewal {
        let cooldown = tokenClient.configuration.forbiddenRefreshCooldown
        return CredentialRenewal(
            renew: { credential in
                let tokens = try await fetchRenewal(for: credential, using: tokenClient)
                return makeCredential(tokens, previous: credential, grant: credential.attributes["grant"], now: now())
            },
            isRejection: isRejection,
            // A licence restriction (403) will not go away by asking again at once.
            cooldown: { error in error.code == .forbidden ? cooldown : nil }
        )
    }

    /// A client-credentials token is acquired again; any other is refreshed with its refresh
    /// token, which Profix-it rotates (the request is one-time: not retried after a timeout).
    static func fetchRenewal(for credential: StoredCredential, using tokenClient: ProfixTokenClient) async throws -> ProfixTokenResponse {
        if credential.attributes["grant"] == "client_credentials" {
            return try await tokenClient.tokens(ProfixTokenEndpoint.clientCredentialsRequest(tokenClient.client), secrets: [])
        }
        guard let refreshToken = credential.refreshToken else {
            throw AuthError(.reauthorizationRequired, provider: providerName, message: "the credential has no refresh token")
        }
        return try await tokenClient.tokens(ProfixTokenEndpoint.refreshRequest(tokenClient.client, refreshToken: refreshToken),
                                            secrets: [refreshToken], oneTime: true)
    }

    /// Whether a refresh failure means the service refused the refresh token or client.
    static func isRejection(_ error: AuthError) -> Bool {
        error.code == .invalidGrant || error.code == .invalidCredentials
            || error.code == .reauthorizationRequired || error.status == 400 || error.status == 401
    }

    static func makeCredential(_ tokens: ProfixTokenResponse, previous: StoredCredential?, grant: String?, now: Date) -> StoredCredential {
        var attributes = previous?.attributes ?? [:]
        if let grant { attributes["grant"] = grant }
        // Keep the old refresh token when a refresh answer omits a new one; a client-credentials
        // token never has one.
        let refresh = grant == "client_credentials" ? nil : (tokens.refreshToken ?? previous?.refreshToken)
        return StoredCredential(
            accessToken: tokens.accessToken,
            refreshToken: refresh,
            expiresAt: tokens.expiresIn.map { now.addingTimeInterval($0) },
            issuedAt: now,
            attributes: attributes
        )
    }

    /// The `Authorization` value for a credential.
    static func header(_ credential: StoredCredential) -> String {
        "Bearer " + credential.accessToken.revealed
    }

    /// The leeway for a credential: the configured one, or min(60 s, 10 % of its lifetime),
    /// capped at half the lifetime.
    static func leeway(for credential: StoredCredential, configured: Duration?) -> TimeInterval {
        RefreshTiming.leeway(for: credential, configured: configured)
    }

    /// Whether the credential is due at `date`; a credential without expiry never is.
    static func needsRefresh(_ credential: StoredCredential, at date: Date, leeway: Duration?, soft: Duration?) -> Bool {
        RefreshTiming.isDue(credential, at: date, leeway: leeway, soft: soft)
    }
}

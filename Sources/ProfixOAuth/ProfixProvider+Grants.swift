public import AuthCore
import HTTPTypes
internal import AuthRuntime
public import Foundation

extension ProfixProvider {
    /// Exchanges an authorization code for tokens and stores them.
    ///
    /// Send the code as soon as it arrives: Profix-it accepts it for about three minutes and once.
    ///
    /// - Returns: The new credential.
    /// - Throws: ``AuthError``: ``AuthError/Code/invalidGrant`` (code used, expired or redirect
    ///   URI mismatch), ``AuthError/Code/invalidCredentials`` (client id or secret),
    ///   ``AuthError/Code/malformedResponse``, transport codes.
    @discardableResult
    public nonisolated func exchange(code: Secret) async throws -> StoredCredential {
        guard !code.isEmpty else {
            throw AuthError(.callbackInvalid, provider: Self.providerName, message: "the authorization code is empty")
        }
        await cell.settleRefresh()
        try await checkStoreWritable()   // the code works once: spend it only if the tokens can be kept
        let tokens = try await tokenClient.tokens(ProfixTokenEndpoint.codeRequest(client, code: code), secrets: [code], oneTime: true)
        return try await installAcquired(tokens, grant: "authorization_code")
    }

    /// Reads the code from `callbackURL` (see ``ProfixAuthorizationRequest/code(from:)``) and
    /// exchanges it.
    ///
    /// - Throws: the errors of ``ProfixAuthorizationRequest/code(from:)`` and ``exchange(code:)``.
    @discardableResult
    public nonisolated func exchange(callbackURL: URL, for request: ProfixAuthorizationRequest) async throws -> StoredCredential {
        try await exchange(code: request.code(from: callbackURL))
    }

    /// Obtains an access token with the client-credentials grant and stores it.
    ///
    /// The token has no refresh token; when it expires the provider requests a new one itself.
    ///
    /// - Throws: ``AuthError``: ``AuthError/Code/invalidCredentials`` (401, 406),
    ///   ``AuthError/Code/forbidden`` (403), ``AuthError/Code/malformedResponse``, transport codes.
    @discardableResult
    public nonisolated func requestClientCredentialsToken() async throws -> StoredCredential {
        await cell.settleRefresh()
        try await checkStoreWritable()
        let tokens = try await tokenClient.tokens(ProfixTokenEndpoint.clientCredentialsRequest(client), secrets: [])
        return try await installAcquired(tokens, grant: "client_credentials")
    }

    /// Logs in with the password grant.
    ///
    /// - Returns: ``PasswordGrantOutcome/authorized(expiresAt:)`` with tokens stored, or
    ///   ``PasswordGrantOutcome/passwordChangeRequired(userID:)`` when the service demands a new
    ///   password first (nothing is stored then).
    /// - Throws: ``AuthError``: ``AuthError/Code/invalidGrant`` (wrong user name or password),
    ///   ``AuthError/Code/invalidCredentials``, ``AuthError/Code/malformedResponse``, transport codes.
    public nonisolated func logIn(username: String, password: Secret) async throws -> PasswordGrantOutcome {
        await cell.settleRefresh()
        try await checkStoreWritable()
        let request = ProfixTokenEndpoint.passwordRequest(client, username: username, password: password)
        switch try await tokenClient.grant(request, secrets: [password], allowsPasswordChange: true) {
        case .passwordChangeRequired(let userID):
            return .passwordChangeRequired(userID: userID)
        case .tokens(let tokens):
            let credential = try await installAcquired(tokens, grant: "password", attributes: ["username": username])
            return .authorized(expiresAt: credential.expiresAt)
        }
    }

    /// Saves the new credential and makes it current. When the store fails even after retries,
    /// the credential is still used in memory, and the store's error is thrown: the caller must
    /// know that a restart would lose it.
    private nonisolated func installAcquired(_ tokens: ProfixTokenResponse, grant: String, attributes: [String: String] = [:]) async throws -> StoredCredential {
        var credential = Self.makeCredential(tokens, previous: nil, grant: grant, now: cell.parts.now())
        credential.attributes.merge(attributes) { _, new in new }
        let outcome = await cell.install(credential, event: .credentialAcquired(provider: Self.providerName, grant: grant, expiresAt: credential.expiresAt))
        if let failure = outcome.failure { throw failure }
        return credential
    }

    private nonisolated func checkStoreWritable() async throws {
        do {
            try await cell.parts.store.checkWritable(key)
        } catch let error as AuthError {
            throw error.attributed(to: Self.providerName)
        } catch {
            throw AuthError(.storeFailure, provider: Self.providerName, message: "the token store cannot save a credential; nothing was sent")
        }
    }
}

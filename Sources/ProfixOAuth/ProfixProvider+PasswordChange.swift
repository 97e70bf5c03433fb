public import AuthCore
import HTTPTypes
internal import AuthRuntime

extension ProfixProvider {
    /// Changes a user's password after the password grant asked for it.
    ///
    /// On success, call ``logIn(username:password:)`` with the new password. The request is
    /// sent once: it is never retried.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/passwordChangeRejected`` and the service's
    ///   user-friendly ``AuthError/serverMessage`` when the service refuses; other codes for
    ///   transport and response problems.
    public nonisolated func changePassword(userID: String, currentPassword: Secret, newPassword: Secret) async throws {
        let request = ProfixTokenEndpoint.changePasswordRequest(client, userID: userID, password: currentPassword, newPassword: newPassword)
        try await SecretScrubbing.withSecrets([client.clientSecret, currentPassword, newPassword]) {
            let response = try await tokenClient.endpoint.send(request, retrying: .never)
            try ProfixTokenEndpoint.parseChangePassword(response, maxBytes: configuration.maxResponseBytes)
        }
    }
}

import AuthCore
import HTTPTypes
import AuthRuntime
import Foundation

/// Sends token-endpoint requests through the shared ``EndpointClient`` and parses the answers;
/// holds no state, so it can run outside the provider (for example inside a store's `update`).
///
/// A class: the provider and its cell's renewal share one instance instead of each keeping a copy
/// of the registration and the endpoint client (an idle provider stays small).
final class ProfixTokenClient: Sendable {
    let client: ProfixRegistration
    let configuration: ProfixProvider.Configuration
    let transport: any HTTPTransport
    let observer: AuthEventObserver?

    init(client: ProfixRegistration, configuration: ProfixProvider.Configuration, transport: any HTTPTransport, observer: AuthEventObserver?) {
        self.client = client
        self.configuration = configuration
        self.transport = transport
        self.observer = observer
    }

    /// Made for each exchange from the configuration rather than kept beside it.
    var endpoint: EndpointClient {
        EndpointClient(provider: ProfixProvider.providerName, transport: transport, retryPolicy: configuration.retryPolicy,
                       maxResponseBytes: configuration.maxResponseBytes, observer: observer)
    }

    /// Sends a grant or refresh request, retrying transient failures.
    ///
    /// - Parameter oneTime: the request spends something that works once (an authorization code, a
    ///   rotating refresh token): failures after which the server may have processed it are not
    ///   retried, so the caller sees the timeout rather than a misleading `invalid_grant`.
    /// - Parameter secrets: What the request carries besides the client secret (a code, a
    ///   password, a refresh token): scrubbed, with the client secret, from every error, in case
    ///   the service echoes the form.
    func grant(_ request: OutgoingRequest, secrets: [Secret], allowsPasswordChange: Bool = false, oneTime: Bool = false) async throws -> ProfixGrantResult {
        try await SecretScrubbing.withSecrets([client.clientSecret] + secrets) {
            let response = try await endpoint.send(request, retrying: oneTime ? .oneTime : .transient)
            return try ProfixTokenEndpoint.parseToken(response, maxBytes: configuration.maxResponseBytes, allowsPasswordChange: allowsPasswordChange)
        }
    }

    /// Sends a grant request that must yield tokens.
    func tokens(_ request: OutgoingRequest, secrets: [Secret], oneTime: Bool = false) async throws -> ProfixTokenResponse {
        switch try await grant(request, secrets: secrets, oneTime: oneTime) {
        case .tokens(let tokens): return tokens
        case .passwordChangeRequired:
            throw AuthError(.passwordChangeRequired, provider: ProfixProvider.providerName)
        }
    }
}

package import AuthCore
import Foundation

/// Sends a provider's own requests (token endpoints, OTP calls, SOAP session calls): the one
/// place that checks the URL, applies the retry policy, names the provider in every error and
/// holds the response cap.
///
/// It holds no state, so it runs anywhere: on a provider's actor, inside a store's locked
/// `update`, or from a nonisolated session method.
package struct EndpointClient: Sendable {
    /// How a request may be repeated after a transient failure.
    package enum Retrying: Sendable {
        /// Retried by the policy (connection failures, timeouts, 5xx, 429).
        case transient
        /// It spends something that works once (a code, an OTP, a rotating refresh token): retried
        /// only when it certainly did not arrive or the service asked for it
        /// (``RetryPolicy/forOneTimeRequests``).
        case oneTime
        /// Sent once.
        case never
    }

    /// What a provider makes of one answer before the retry policy sees it.
    package enum Verdict: Sendable {
        /// Let the retry policy decide (it retries 5xx and 429).
        case policy(HTTPResponse)
        /// Return this answer as it is, without retrying.
        case final(HTTPResponse)
    }

    /// The provider named in errors and events.
    package let provider: String
    /// Carries the requests.
    package let transport: any HTTPTransport
    /// Retries for ``Retrying/transient`` and ``Retrying/oneTime`` requests; its observer and
    /// provider name are filled in.
    package let retryPolicy: RetryPolicy
    /// The largest body the provider's parsers accept.
    package let maxResponseBytes: Int

    package init(provider: String, transport: any HTTPTransport, retryPolicy: RetryPolicy = .none,
                 maxResponseBytes: Int, observer: AuthEventObserver?) {
        var policy = retryPolicy
        if policy.providerName == nil { policy.providerName = provider }
        if policy.observer == nil { policy.observer = observer }
        self.provider = provider
        self.transport = transport
        self.retryPolicy = policy
        self.maxResponseBytes = maxResponseBytes
    }

    /// Sends `request`, retrying as `retrying` allows.
    ///
    /// - Parameter screen: Looks at each answer first: it may return it as final (no retry),
    ///   rewrite it for the policy, or throw to stop at once.
    /// - Throws: ``AuthError/Code/insecureURL`` before sending to a URL that may not carry
    ///   credentials; transport errors named after the provider; what `screen` throws.
    package func send(
        _ request: HTTPRequest,
        retrying: Retrying = .transient,
        screen: (@Sendable (HTTPResponse) throws(AuthError) -> Verdict)? = nil
    ) async throws(AuthError) -> HTTPResponse {
        try SecureURLPolicy.check(request.url, provider: provider)
        struct Final: Error { let response: HTTPResponse }
        // Not an `AuthError`, so the retry policy cannot mistake the screen's verdict for a
        // transient failure and retry it.
        struct Stop: Error { let error: AuthError }
        let policy: RetryPolicy
        switch retrying {
        case .transient: policy = retryPolicy
        case .oneTime: policy = retryPolicy.forOneTimeRequests
        case .never: policy = .none
        }
        let transport = self.transport
        do {
            return try await policy.run {
                let response = try await transport.send(request)
                guard let screen else { return response }
                let verdict: Verdict
                do throws(AuthError) { verdict = try screen(response) } catch { throw Stop(error: error) }
                switch verdict {
                case .policy(let screened): return screened
                case .final(let final): throw Final(response: final)
                }
            }
        } catch let final as Final {
            return final.response
        } catch let stop as Stop {
            throw stop.error.attributed(to: provider)
        } catch let error as AuthError {
            throw error.attributed(to: provider)
        } catch {
            throw AuthError(.transportFailure, provider: provider, message: "the transport failed (\(type(of: error)))")
        }
    }

    /// Throws ``AuthError/Code/responseTooLarge`` when the body passes the cap.
    package func checkSize(_ response: HTTPResponse, of what: String = "the response") throws(AuthError) {
        guard response.body.count <= maxResponseBytes else {
            throw AuthError(.responseTooLarge, provider: provider, status: response.status,
                            message: "\(what) is larger than \(maxResponseBytes) bytes")
        }
    }
}

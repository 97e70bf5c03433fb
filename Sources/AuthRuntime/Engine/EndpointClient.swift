package import AuthCore
import HTTPTypes
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
        case policy(Reply)
        /// Return this answer as it is, without retrying.
        case final(Reply)
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
    /// Told of every call's end (``AuthEvent/Kind/tokenCall``).
    package let observer: AuthEventObserver?

    package init(provider: String, transport: any HTTPTransport, retryPolicy: RetryPolicy = .none,
                 maxResponseBytes: Int, observer: AuthEventObserver?) {
        var policy = retryPolicy
        if policy.providerName == nil { policy.providerName = provider }
        if policy.observer == nil { policy.observer = observer }
        self.provider = provider
        self.transport = transport
        self.retryPolicy = policy
        self.maxResponseBytes = maxResponseBytes
        self.observer = observer
    }

    /// Sends `request`, retrying as `retrying` allows, and reports it as a token call
    /// (``AuthEvent/Kind/tokenCall``) unless `reports` is `false` (an app's own data call).
    ///
    /// - Parameter screen: Looks at each answer first: it may return it as final (no retry),
    ///   rewrite it for the policy, or throw to stop at once.
    /// - Throws: ``AuthError/Code/insecureURL`` before sending to a URL that may not carry
    ///   credentials; transport errors named after the provider; what `screen` throws.
    package func send(
        _ request: OutgoingRequest,
        retrying: Retrying = .transient,
        reports: Bool = true,
        screen: (@Sendable (Reply) throws(AuthError) -> Verdict)? = nil
    ) async throws(AuthError) -> Reply {
        try SecureURLPolicy.check(request.head, provider: provider)
        guard reports, let observer else { return try await exchange(request, retrying: retrying, screen: screen) }
        let clock = ContinuousClock()
        let start = clock.now
        let endpoint = "\(request.head.method) \(request.head.url?.path ?? "")"
        do {
            let reply = try await exchange(request, retrying: retrying, screen: screen)
            observer.receive(.tokenCall(provider: provider, endpoint: endpoint, duration: clock.now - start, status: reply.status, code: nil))
            return reply
        } catch {
            observer.receive(.tokenCall(provider: provider, endpoint: endpoint, duration: clock.now - start, status: error.status, code: error.code))
            throw error
        }
    }

    /// Sends `request` under the retry policy; ``send(_:retrying:screen:)`` without the event.
    private func exchange(
        _ request: OutgoingRequest,
        retrying: Retrying,
        screen: (@Sendable (Reply) throws(AuthError) -> Verdict)?
    ) async throws(AuthError) -> Reply {
        struct Final: Error { let reply: Reply }
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
            let answer = try await policy.run {
                let reply = try await transport.reply(request.head, body: request.body)
                guard let screen else { return reply.pair }
                let verdict: Verdict
                do throws(AuthError) { verdict = try screen(reply) } catch { throw Stop(error: error) }
                switch verdict {
                case .policy(let screened): return screened.pair
                case .final(let final): throw Final(reply: final)
                }
            }
            return Reply(answer.0, body: answer.1)
        } catch let final as Final {
            return final.reply
        } catch let stop as Stop {
            throw stop.error.attributed(to: provider)
        } catch let error as AuthError {
            throw error.attributed(to: provider)
        } catch {
            throw AuthError(.transportFailure, provider: provider, message: "the transport failed (\(type(of: error)))")
        }
    }

    /// Throws ``AuthError/Code/responseTooLarge`` when the body passes the cap.
    package func checkSize(_ response: Reply, of what: String = "the response") throws(AuthError) {
        guard response.body.count <= maxResponseBytes else {
            throw AuthError(.responseTooLarge, provider: provider, status: response.status,
                            message: "\(what) is larger than \(maxResponseBytes) bytes")
        }
    }
}

#if Observability
public import AuthCore
import Foundation
public import Logging
public import Metrics

extension AuthEventObserver {
    /// An observer that writes every ``AuthEvent`` to swift-log and counts it with swift-metrics.
    ///
    /// ```swift
    /// let observer = AuthEventObserver.observability(logger: Logger(label: "accounting-auth"))
    /// let provider = ProfixProvider(client: registration, observer: observer)
    /// ```
    ///
    /// Log records carry the event as structured metadata (`auth.event`, `auth.provider`, and
    /// `auth.grant`, `auth.status`, `auth.code`, `auth.attempt`, `auth.will_retry`,
    /// `auth.expires_at` where the event has them); events hold no secret, so neither do the
    /// records. Levels: routine work (a credential acquired or refreshed, a session, a retry) is
    /// `debug`; a removed credential is `info`; what needs attention (a failed refresh or store
    /// write, re-authorization required, a revoked credential, a request not retried) is `warning`.
    ///
    /// Metrics: the counter `accounting_auth_events_total` with dimensions `provider` and `event`,
    /// and for failures `accounting_auth_failures_total` with `provider` and `code`.
    ///
    /// - Parameters:
    ///   - logger: Where records go.
    ///   - metrics: The metrics backend; default the one the app bootstrapped (`MetricsSystem`).
    ///   - forwardingTo: Another observer that receives every event too.
    public static func observability(logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
                                     forwardingTo next: AuthEventObserver? = nil) -> AuthEventObserver {
        AuthEventObserver { event in
            logger.log(level: event.logLevel, "\(event.description)", metadata: event.metadata)
            let provider = event.provider ?? "-"
            Counter(label: "accounting_auth_events_total",
                    dimensions: [("provider", provider), ("event", event.kind.rawValue)], factory: metrics).increment()
            if event.isFailure, let code = event.code {
                Counter(label: "accounting_auth_failures_total",
                        dimensions: [("provider", provider), ("code", code.rawValue)], factory: metrics).increment()
            }
            next?.receive(event)
        }
    }
}

extension AuthEvent {
    /// The swift-log level an event is written at.
    public var logLevel: Logger.Level {
        switch kind {
        case .credentialAcquired, .credentialRefreshed, .sessionEstablished, .transientRetry, .retriedAfterRejection:
            return .debug
        case .credentialRemoved:
            return .info
        default:
            return .warning
        }
    }

    /// Whether the event reports a failure (counted in `accounting_auth_failures_total`).
    var isFailure: Bool { kind == .refreshFailed || kind == .storeFailed || kind == .transientRetry }

    /// The event as swift-log metadata; it holds no secret.
    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["auth.event": "\(kind.rawValue)"]
        if let provider { metadata["auth.provider"] = "\(provider)" }
        if let grant { metadata["auth.grant"] = "\(grant)" }
        if let status { metadata["auth.status"] = "\(status)" }
        if let code { metadata["auth.code"] = "\(code.rawValue)" }
        if let attempt { metadata["auth.attempt"] = "\(attempt)" }
        if let willRetry { metadata["auth.will_retry"] = "\(willRetry)" }
        if let delay { metadata["auth.delay"] = "\(delay)" }
        if let expiresAt { metadata["auth.expires_at"] = "\(expiresAt.timeIntervalSince1970)" }
        return metadata
    }
}
#endif

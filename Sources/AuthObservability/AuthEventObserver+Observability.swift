#if Observability
public import AuthCore
import Foundation
public import Logging
public import Metrics
public import Tracing

extension AuthEventObserver {
    /// An observer that writes every ``AuthEvent`` to swift-log, counts and times it with
    /// swift-metrics, and traces token calls and refreshes with swift-distributed-tracing.
    ///
    /// ```swift
    /// let observer = AuthEventObserver.observability(logger: Logger(label: "accounting-auth"))
    /// let provider = ProfixProvider(client: registration, observer: observer)
    /// ```
    ///
    /// Log records carry the event as structured metadata (`auth.event`, `auth.provider`, and
    /// `auth.grant`, `auth.status`, `auth.code`, `auth.attempt`, `auth.will_retry`,
    /// `auth.duration`, `auth.endpoint`, `auth.expires_at` where the event has them); events hold
    /// no secret, so neither do the records. Levels: routine work (a credential acquired, refreshed
    /// or stored, a token call, a session, a retry) is `debug`; a removed credential is `info`;
    /// what needs attention (a failed refresh or store write, re-authorization required, a revoked
    /// credential, a request not retried) is `warning`.
    ///
    /// Metrics:
    /// - counter `accounting_auth_events_total` (`provider`, `event`), and for failures
    ///   `accounting_auth_failures_total` (`provider`, `code`);
    /// - timer `accounting_auth_token_call_duration` (`provider`, `endpoint`, `outcome`: the status
    ///   code, or the error code when no answer came): each token call, retries included;
    /// - timer `accounting_auth_refresh_duration` (`provider`, `outcome`: `refreshed` or the error
    ///   code): each refresh, waiting for the store's lock included;
    /// - timer `accounting_auth_store_duration` (`provider`): each credential write.
    ///
    /// Spans (when `tracer` is given; default the tracer the app bootstrapped): a `client` span
    /// named after the endpoint (`POST /token`) for each token call, and an `internal` span
    /// `accounting_auth.refresh` for each refresh, both ending when the event arrives and starting
    /// its duration earlier, in the task's current `ServiceContext`. Attributes:
    /// `http.request.method`, `url.path`, `http.response.status_code`, `auth.provider`,
    /// `error.type` (the error code, or the status of a 4xx/5xx answer), which also sets the
    /// span's status to error.
    ///
    /// - Parameters:
    ///   - logger: Where records go.
    ///   - metrics: The metrics backend; default the one the app bootstrapped (`MetricsSystem`).
    ///   - tracer: The tracer for spans; default the one the app bootstrapped
    ///     (`InstrumentationSystem`); `nil` for none.
    ///   - forwardingTo: Another observer that receives every event too.
    public static func observability(logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
                                     tracer: (any Tracer)? = InstrumentationSystem.tracer,
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
            if let duration = event.duration, let timer = event.timer(provider: provider) {
                Metrics.Timer(label: timer.label, dimensions: timer.dimensions, factory: metrics).record(duration: duration)
            }
            if let tracer { event.trace(with: tracer) }
            next?.receive(event)
        }
    }
}

extension AuthEvent {
    /// The outcome dimension: `refreshed`, a token call's status code, else the error code.
    var outcome: String {
        if kind == .credentialRefreshed { return "refreshed" }
        if kind == .tokenCall, let status { return "\(status)" }
        return code?.rawValue ?? status.map { "\($0)" } ?? "unknown"
    }

    /// The timer an event with a duration is recorded in.
    func timer(provider: String) -> (label: String, dimensions: [(String, String)])? {
        switch kind {
        case .tokenCall:
            return ("accounting_auth_token_call_duration", [("provider", provider), ("endpoint", endpoint ?? "-"), ("outcome", outcome)])
        case .credentialRefreshed, .refreshFailed:
            return ("accounting_auth_refresh_duration", [("provider", provider), ("outcome", outcome)])
        case .credentialStored:
            return ("accounting_auth_store_duration", [("provider", provider)])
        default:
            return nil
        }
    }

    /// Records a token call or a refresh as a span that ends now and began `duration` ago.
    func trace(with tracer: any Tracer) {
        guard let duration, kind == .tokenCall || kind == .credentialRefreshed || kind == .refreshFailed else { return }
        let end = DefaultTracerClock.now
        let nanoseconds = UInt64(max(0, duration.components.seconds)) &* 1_000_000_000
            &+ UInt64(max(0, duration.components.attoseconds / 1_000_000_000))
        let start = DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: end.nanosecondsSinceEpoch &- min(nanoseconds, end.nanosecondsSinceEpoch))
        let isCall = kind == .tokenCall
        let span = tracer.startSpan(isCall ? (endpoint ?? "token call") : "accounting_auth.refresh",
                                    context: ServiceContext.current ?? .topLevel,
                                    ofKind: isCall ? .client : .internal, at: start)
        if let provider { span.attributes["auth.provider"] = provider }
        if isCall, let endpoint {
            let parts = endpoint.split(separator: " ", maxSplits: 1)
            span.attributes["http.request.method"] = parts.first.map(String.init)
            if parts.count == 2 { span.attributes["url.path"] = String(parts[1]) }
        }
        if let status { span.attributes["http.response.status_code"] = status }
        if let failure = code?.rawValue ?? status.flatMap({ $0 >= 400 ? "\($0)" : nil }) {
            span.attributes["error.type"] = failure
            span.setStatus(SpanStatus(code: .error, message: failure))
        }
        span.end(at: end)
    }

    /// The swift-log level an event is written at.
    public var logLevel: Logger.Level {
        switch kind {
        case .credentialAcquired, .credentialRefreshed, .credentialStored, .tokenCall, .sessionEstablished,
             .transientRetry, .retriedAfterRejection:
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
        if let duration { metadata["auth.duration"] = "\(duration)" }
        if let endpoint { metadata["auth.endpoint"] = "\(endpoint)" }
        if let expiresAt { metadata["auth.expires_at"] = "\(expiresAt.timeIntervalSince1970)" }
        return metadata
    }
}
#endif

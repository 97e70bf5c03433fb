public import Foundation

/// Something that happened inside a provider, for logs and metrics.
///
/// Events carry names, codes, statuses and times, never a credential, so an observer may
/// print them as they are. An event is a ``Kind`` plus the details that kind has; new kinds and
/// details are added without breaking anyone's code, so match on ``kind`` with a `default`:
///
/// ```swift
/// let observer = AuthEventObserver { event in
///     switch event.kind {
///     case .credentialRefreshed: metrics.refreshes += 1
///     case .reauthorizationRequired: alertTheUser()
///     default: break
///     }
/// }
/// ```
public struct AuthEvent: Sendable, Equatable, CustomStringConvertible {
    /// What happened. New kinds are additive.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        /// The stable identifier (`"credential_refreshed"`, …).
        public let rawValue: String
        /// A kind; prefer the static members.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The identifier.
        public var description: String { rawValue }

        /// A new credential was obtained through a grant or an onboarding flow.
        public static let credentialAcquired = Kind("credential_acquired")
        /// An access token was refreshed.
        public static let credentialRefreshed = Kind("credential_refreshed")
        /// A refresh failed; ``AuthEvent/willRetry`` tells whether the provider keeps its tokens
        /// and tries again later.
        public static let refreshFailed = Kind("refresh_failed")
        /// The provider can no longer get tokens by itself: an app must authorize again.
        public static let reauthorizationRequired = Kind("reauthorization_required")
        /// The credential was rejected as revoked or deleted.
        public static let credentialRevoked = Kind("credential_revoked")
        /// Saving a credential to the token store failed; the credential is kept in memory.
        public static let storeFailed = Kind("store_failed")
        /// A credential was removed from the provider and its store.
        public static let credentialRemoved = Kind("credential_removed")
        /// A rejected request was sent once more after recovery.
        public static let retriedAfterRejection = Kind("retried_after_rejection")
        /// A rejected request was not sent again although new credentials were obtained, because
        /// its body could not be sent twice.
        public static let notRetriedAfterRejection = Kind("not_retried_after_rejection")
        /// A transient failure is retried after ``AuthEvent/delay``.
        public static let transientRetry = Kind("transient_retry")
        /// A session (e-conomic SOAP) was established.
        public static let sessionEstablished = Kind("session_established")
        /// One of the provider's own requests (a token endpoint, an OTP call, a SOAP session
        /// call) ended: ``AuthEvent/endpoint`` names it, ``AuthEvent/duration`` says how long it
        /// took with its retries, and ``AuthEvent/status`` or ``AuthEvent/code`` how it ended.
        public static let tokenCall = Kind("token_call")
        /// A credential was written to (or removed from) the token store;
        /// ``AuthEvent/duration`` is the time spent in the store, waiting for its lock included.
        public static let credentialStored = Kind("credential_stored")
    }

    /// What happened.
    public let kind: Kind
    /// The provider (`"profit"`, `"profix"`, `"economic"`), when known.
    public let provider: String?
    /// How a credential was acquired (`"authorization_code"`, `"otp-rest"`, …).
    public var grant: String?
    /// When the new credential expires, for acquired and refreshed credentials.
    public var expiresAt: Date?
    /// The error code, for failures and retries.
    public var code: AuthError.Code?
    /// Whether the provider tries again later, for a failed refresh.
    public var willRetry: Bool?
    /// The HTTP status, when the event is about an answer.
    public var status: Int?
    /// The attempt that failed, for a transient retry.
    public var attempt: Int?
    /// How long until the next attempt, for a transient retry.
    public var delay: Duration?
    /// How long the work took: a token call (``Kind/tokenCall``), a whole refresh, store lock and
    /// token call included (``Kind/credentialRefreshed``, ``Kind/refreshFailed``), or a store
    /// write (``Kind/credentialStored``). Measured on the continuous clock.
    public var duration: Duration?
    /// The provider's endpoint a token call went to, as method and path (`"POST /oauth/token"`);
    /// never the query, so never a secret.
    public var endpoint: String?

    /// An event of `kind`; prefer the static factories.
    public init(_ kind: Kind, provider: String?) {
        self.kind = kind
        self.provider = provider
    }

    /// A new credential was obtained.
    public static func credentialAcquired(provider: String, grant: String, expiresAt: Date?) -> AuthEvent {
        var event = AuthEvent(.credentialAcquired, provider: provider)
        event.grant = grant
        event.expiresAt = expiresAt
        return event
    }

    /// An access token was refreshed.
    public static func credentialRefreshed(provider: String, expiresAt: Date?) -> AuthEvent {
        var event = AuthEvent(.credentialRefreshed, provider: provider)
        event.expiresAt = expiresAt
        return event
    }

    /// A refresh failed.
    public static func refreshFailed(provider: String, code: AuthError.Code, willRetry: Bool) -> AuthEvent {
        var event = AuthEvent(.refreshFailed, provider: provider)
        event.code = code
        event.willRetry = willRetry
        return event
    }

    /// An app must authorize again.
    public static func reauthorizationRequired(provider: String) -> AuthEvent {
        AuthEvent(.reauthorizationRequired, provider: provider)
    }

    /// The credential was rejected as revoked or deleted.
    public static func credentialRevoked(provider: String) -> AuthEvent {
        AuthEvent(.credentialRevoked, provider: provider)
    }

    /// Saving a credential failed; it is kept in memory.
    public static func storeFailed(provider: String, code: AuthError.Code) -> AuthEvent {
        var event = AuthEvent(.storeFailed, provider: provider)
        event.code = code
        return event
    }

    /// A credential was removed.
    public static func credentialRemoved(provider: String) -> AuthEvent {
        AuthEvent(.credentialRemoved, provider: provider)
    }

    /// A rejected request was sent once more after recovery.
    public static func retriedAfterRejection(provider: String?, status: Int) -> AuthEvent {
        var event = AuthEvent(.retriedAfterRejection, provider: provider)
        event.status = status
        return event
    }

    /// A rejected request was not sent again (its body could be read only once), although the
    /// provider obtained new credentials; the next request uses them.
    public static func notRetriedAfterRejection(provider: String?, status: Int) -> AuthEvent {
        var event = AuthEvent(.notRetriedAfterRejection, provider: provider)
        event.status = status
        return event
    }

    /// A transient failure is retried.
    public static func transientRetry(provider: String?, attempt: Int, delay: Duration, code: AuthError.Code) -> AuthEvent {
        var event = AuthEvent(.transientRetry, provider: provider)
        event.attempt = attempt
        event.delay = delay
        event.code = code
        return event
    }

    /// A session was established.
    public static func sessionEstablished(provider: String) -> AuthEvent {
        AuthEvent(.sessionEstablished, provider: provider)
    }

    /// A token call ended, with an answer (`status`) or an error (`code`).
    public static func tokenCall(provider: String, endpoint: String, duration: Duration, status: Int?, code: AuthError.Code?) -> AuthEvent {
        var event = AuthEvent(.tokenCall, provider: provider)
        event.endpoint = endpoint
        event.duration = duration
        event.status = status
        event.code = code
        return event
    }

    /// A credential was written to the token store in `duration`.
    public static func credentialStored(provider: String, duration: Duration) -> AuthEvent {
        var event = AuthEvent(.credentialStored, provider: provider)
        event.duration = duration
        return event
    }

    /// A one-line summary for logs; it holds no secret.
    public var description: String {
        let name = "[\(provider ?? "-")]"
        switch kind {
        case .credentialAcquired:
            return "\(name) credential acquired via \(grant ?? "?")" + (expiresAt.map { ", expires \($0)" } ?? "")
        case .credentialRefreshed:
            return "\(name) credential refreshed" + (expiresAt.map { ", expires \($0)" } ?? "")
        case .refreshFailed:
            return "\(name) refresh failed: \(code.map { "\($0)" } ?? "?")\(willRetry == true ? " (will retry)" : "")"
        case .reauthorizationRequired:
            return "\(name) re-authorization required"
        case .credentialRevoked:
            return "\(name) credential revoked"
        case .storeFailed:
            return "\(name) token store failed: \(code.map { "\($0)" } ?? "?"); credential kept in memory"
        case .credentialRemoved:
            return "\(name) credential removed"
        case .retriedAfterRejection:
            return "\(name) retried once after HTTP \(status.map(String.init) ?? "?")"
        case .notRetriedAfterRejection:
            return "\(name) not retried after HTTP \(status.map(String.init) ?? "?"): the request body can be sent only once"
        case .transientRetry:
            return "\(name) attempt \(attempt.map(String.init) ?? "?") failed (\(code.map { "\($0)" } ?? "?")); retrying in \(delay.map { "\($0)" } ?? "?")"
        case .sessionEstablished:
            return "\(name) session established"
        case .tokenCall:
            let outcome = status.map { "answered HTTP \($0)" } ?? "failed (\(code.map { "\($0)" } ?? "?"))"
            return "\(name) \(endpoint ?? "token call") \(outcome) in \(duration.map { "\($0)" } ?? "?")"
        case .credentialStored:
            return "\(name) credential stored in \(duration.map { "\($0)" } ?? "?")"
        default:
            return "\(name) \(kind)"
        }
    }
}

/// Receives ``AuthEvent``s.
///
/// ```swift
/// let observer = AuthEventObserver { event in logger.info("\(event)") }
/// ```
public struct AuthEventObserver: Sendable {
    private let handler: @Sendable (AuthEvent) -> Void

    /// Creates an observer that calls `handler` for every event, on whatever task raised it.
    /// Keep the handler quick; it must not block.
    public init(_ handler: @escaping @Sendable (AuthEvent) -> Void) {
        self.handler = handler
    }

    /// Delivers one event.
    public func receive(_ event: AuthEvent) { handler(event) }
}

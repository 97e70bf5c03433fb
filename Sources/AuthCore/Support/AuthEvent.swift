public import Foundation

/// Something that happened inside a provider, for logs and metrics.
///
/// Events carry names, codes, statuses and times, never a credential, so an observer may
/// print them as they are.
public enum AuthEvent: Sendable, Equatable, CustomStringConvertible {
    /// A new credential was obtained through a grant or an onboarding flow.
    case credentialAcquired(provider: String, grant: String, expiresAt: Date?)
    /// An access token was refreshed.
    case credentialRefreshed(provider: String, expiresAt: Date?)
    /// A refresh failed; `willRetry` tells whether the provider keeps its tokens and tries again later.
    case refreshFailed(provider: String, code: AuthError.Code, willRetry: Bool)
    /// The provider can no longer get tokens by itself: an app must authorize again.
    case reauthorizationRequired(provider: String)
    /// The credential was rejected as revoked or deleted.
    case credentialRevoked(provider: String)
    /// Saving a credential to the token store failed; the credential is kept in memory.
    case storeFailed(provider: String, code: AuthError.Code)
    /// A credential was removed from the provider and its store.
    case credentialRemoved(provider: String)
    /// A rejected request was sent once more after recovery.
    case retriedAfterRejection(provider: String?, status: Int)
    /// A transient failure is retried after `delay`.
    case transientRetry(provider: String?, attempt: Int, delay: Duration, code: AuthError.Code)
    /// A session (e-conomic SOAP) was established.
    case sessionEstablished(provider: String)

    /// A one-line summary for logs; it holds no secret.
    public var description: String {
        switch self {
        case let .credentialAcquired(provider, grant, expiresAt):
            return "[\(provider)] credential acquired via \(grant)" + (expiresAt.map { ", expires \($0)" } ?? "")
        case let .credentialRefreshed(provider, expiresAt):
            return "[\(provider)] credential refreshed" + (expiresAt.map { ", expires \($0)" } ?? "")
        case let .refreshFailed(provider, code, willRetry):
            return "[\(provider)] refresh failed: \(code)\(willRetry ? " (will retry)" : "")"
        case let .reauthorizationRequired(provider):
            return "[\(provider)] re-authorization required"
        case let .credentialRevoked(provider):
            return "[\(provider)] credential revoked"
        case let .storeFailed(provider, code):
            return "[\(provider)] token store failed: \(code); credential kept in memory"
        case let .credentialRemoved(provider):
            return "[\(provider)] credential removed"
        case let .retriedAfterRejection(provider, status):
            return "[\(provider ?? "-")] retried once after HTTP \(status)"
        case let .transientRetry(provider, attempt, delay, code):
            return "[\(provider ?? "-")] attempt \(attempt) failed (\(code)); retrying in \(delay)"
        case let .sessionEstablished(provider):
            return "[\(provider)] session established"
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

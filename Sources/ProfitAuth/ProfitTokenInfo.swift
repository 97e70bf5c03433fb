public import Foundation
import AuthCore
import HTTPTypes

/// What is known about a Profit token: when it lapses (if ever) and where it came from.
///
/// Tokens do not expire by themselves; an administrator may give the app connector a validity
/// period, and then ``expiresAt`` says when this token stops working, so an app can ask the user
/// to request a new one in time.
public struct ProfitTokenInfo: Sendable, Equatable {
    /// When the token stops working; `nil` when Profit reports no expiry.
    public var expiresAt: Date?
    /// When this provider obtained the token, when known.
    public var issuedAt: Date?
    /// The Profit user the token belongs to, when known.
    public var userId: String?

    /// Creates a value.
    public init(expiresAt: Date? = nil, issuedAt: Date? = nil, userId: String? = nil) {
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.userId = userId
    }

    /// Whether the token has lapsed at `date`.
    public func isExpired(at date: Date) -> Bool {
        guard let expiresAt else { return false }
        return date >= expiresAt
    }

    /// Whether the token lapses within `interval` after `date`: time to warn the user.
    public func expires(within interval: Duration, after date: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(date) <= interval.timeInterval
    }
}

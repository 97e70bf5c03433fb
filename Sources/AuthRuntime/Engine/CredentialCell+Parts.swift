package import AuthCore
import HTTPTypes
package import Foundation

extension CredentialCell {
    /// How a credential is renewed (see ``CredentialRenewal``).
    package typealias Renewal = CredentialRenewal
    /// Everything a cell is made of (see ``CredentialParts``).
    package typealias Parts = CredentialParts
}

/// How a credential is renewed and how failures are read; `nil` renewal for credentials that
/// cannot be refreshed (they never expire, or only a new grant replaces them).
///
/// Not nested in the generic ``CredentialCell``: a nested type is generic too, and reading a
/// field of it from unspecialized code copied the whole value through its type metadata.
package struct CredentialRenewal: Sendable {
    /// Obtains the next credential from the current one (refresh token, re-acquired grant).
    package var renew: @Sendable (StoredCredential) async throws -> StoredCredential
    /// Whether a failure means the service refused the credential (no point retrying).
    package var isRejection: @Sendable (AuthError) -> Bool
    /// How long to answer with the same error instead of asking again after a failure that
    /// is neither transient nor a rejection (a licence refusal); `nil` to ask again next time.
    package var cooldown: @Sendable (AuthError) -> Duration?

    package init(
        renew: @escaping @Sendable (StoredCredential) async throws -> StoredCredential,
        isRejection: @escaping @Sendable (AuthError) -> Bool,
        cooldown: @escaping @Sendable (AuthError) -> Duration? = { _ in nil }
    ) {
        self.renew = renew
        self.isRejection = isRejection
        self.cooldown = cooldown
    }
}

/// Everything a cell is made of (not nested in the generic cell, like ``CredentialRenewal``).
package struct CredentialParts: Sendable {
    package var name: String
    package var store: any TokenStore
    package var key: TokenKey
    package var leeway: Duration?
    package var softWindow: Duration?
    package var observer: AuthEventObserver?
    package var now: @Sendable () -> Date
    package var onChange: (@Sendable (StoredCredential?) async -> Void)?
    /// Shown when a credential is needed and there is none.
    package var missingMessage: String

    package init(name: String, store: any TokenStore, key: TokenKey, leeway: Duration? = nil, softWindow: Duration? = nil,
                 observer: AuthEventObserver?, now: @escaping @Sendable () -> Date,
                 onChange: (@Sendable (StoredCredential?) async -> Void)?, missingMessage: String) {
        self.name = name
        self.store = store
        self.key = key
        self.leeway = leeway
        self.softWindow = softWindow
        self.observer = observer
        self.now = now
        self.onChange = onChange
        self.missingMessage = missingMessage
    }
}

/// The request path's view of a ``CredentialCell``: not generic, so reading it from another
/// module looks up no type metadata.
struct CredentialSnapshot: Sendable {
    var header: HTTPField
    var dueAt: Date?
    var softAt: Date?
    var backgroundStarted: Bool
}

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

/// How a cell computes the fast-path value of a credential (the prepared header): a closure kept in
/// its generic form, so a provider type makes one (`static let`) and every cell shares it, rather
/// than each cell keeping a converted copy with a context of its own.
package struct CredentialPreparer<Prepared: PreparedCredential>: Sendable {
    /// Throws when the credential is unusable (a stored value of the wrong kind is
    /// ``AuthError/Code/storeCorrupt``).
    package let prepare: @Sendable (StoredCredential) throws(AuthError) -> Prepared

    package init(_ prepare: @escaping @Sendable (StoredCredential) throws(AuthError) -> Prepared) {
        self.prepare = prepare
    }
}

/// What a cell is made of besides its key: the store, the clock, the observer, how its
/// credential is renewed. A class, so that the cells of every tenant of one app share one
/// (an idle tenant then keeps a reference, not a copy); not nested in the generic cell, like
/// ``CredentialRenewal``.
package final class CredentialParts: Sendable {
    package let name: String
    package let store: any TokenStore
    package let leeway: Duration?
    package let softWindow: Duration?
    package let observer: AuthEventObserver?
    package let now: @Sendable () -> Date
    /// Called with the key and the new credential (`nil` after a removal) once it was saved.
    package let onChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)?
    /// Shown when a credential is needed and there is none.
    package let missingMessage: String
    /// How the credential is renewed; `nil` when it cannot be.
    package let renewal: CredentialRenewal?

    package init(name: String, store: any TokenStore, leeway: Duration? = nil, softWindow: Duration? = nil,
                 observer: AuthEventObserver?, now: @escaping @Sendable () -> Date,
                 onChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)?, missingMessage: String,
                 renewal: CredentialRenewal?) {
        self.name = name
        self.store = store
        self.leeway = leeway
        self.softWindow = softWindow
        self.observer = observer
        self.now = now
        self.onChange = onChange
        self.missingMessage = missingMessage
        self.renewal = renewal
    }

    /// A one-credential callback as the cells' key-aware one.
    package static func forOneKey(_ callback: (@Sendable (StoredCredential?) async -> Void)?) -> (@Sendable (TokenKey, StoredCredential?) async -> Void)? {
        guard let callback else { return nil }
        return { _, credential in await callback(credential) }
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

package import AuthCore
import HTTPTypes
package import Foundation
import Synchronization

extension CredentialCell {
    /// How a credential is renewed (see ``CredentialRenewal``).
    package typealias Renewal = CredentialRenewal
    /// Everything a cell is made of (see ``CredentialParts``).
    package typealias Parts = CredentialParts<Prepared, Context>
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
/// its generic form, so a provider type makes one (`static let`), and the cells reach it through
/// the ``CredentialParts`` they share, rather than each keeping a copy.
package struct CredentialPreparer<Prepared: PreparedCredential>: Sendable {
    /// Throws when the credential is unusable (a stored value of the wrong kind is
    /// ``AuthError/Code/storeCorrupt``).
    package let prepare: @Sendable (StoredCredential) throws(AuthError) -> Prepared

    package init(_ prepare: @escaping @Sendable (StoredCredential) throws(AuthError) -> Prepared) {
        self.prepare = prepare
    }
}

/// What a cell is made of besides its key: the store, the clock, the observer, how its
/// credential is prepared and renewed, and the provider's own shared part (`context`). A class,
/// so that the cells of every tenant of one app share one: an idle tenant then keeps a reference,
/// not a copy, no preparer of its own, and its provider needs no field for what its app shares
/// (it reads `context` through its cell). Not nested in the generic cell, like
/// ``CredentialRenewal``.
package final class CredentialParts<Prepared: PreparedCredential, Context: Sendable>: Sendable {
    package let name: String
    package let store: any TokenStore
    package let leeway: Duration?
    package let softWindow: Duration?
    package let observer: AuthEventObserver?
    package let now: @Sendable () -> Date
    /// Whether `now` is the system clock (no clock was given): the request path then reads
    /// ``SystemClock/notEarlierThanNow()``, which costs a fifth of a precise read.
    package let readsSystemClock: Bool
    /// Called with the key and the new credential (`nil` after a removal) once it was saved.
    package let onChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)?
    /// Shown when a credential is needed and there is none.
    package let missingMessage: String
    /// How the credential is renewed; `nil` when it cannot be.
    package let renewal: CredentialRenewal?
    /// Computes the fast-path value of a credential.
    package let preparer: CredentialPreparer<Prepared>
    /// What the provider type shares between the providers of one app besides this (a Profix-it
    /// app's token client and audience, for example); `()` when nothing.
    package let context: Context

    package init(name: String, store: any TokenStore, leeway: Duration? = nil, softWindow: Duration? = nil,
                 observer: AuthEventObserver?, now: (@Sendable () -> Date)?,
                 onChange: (@Sendable (TokenKey, StoredCredential?) async -> Void)?, missingMessage: String,
                 renewal: CredentialRenewal?, preparer: CredentialPreparer<Prepared>, context: Context) {
        self.name = name
        self.store = store
        self.leeway = leeway
        self.softWindow = softWindow
        self.observer = observer
        self.now = now ?? SystemClock.now
        readsSystemClock = now == nil
        self.onChange = onChange
        self.missingMessage = missingMessage
        self.renewal = renewal
        self.preparer = preparer
        self.context = context
    }
}

extension CredentialCell where Context: AnyObject {
    /// The parts' context, not retained: for `_withUnsafeGuaranteedRef` on the request path.
    /// Read through the chain provider → cell → parts, the context was retained and released
    /// around every use there: a reference count that every tenant of one app, on every core,
    /// wrote. The cell keeps its parts and the parts their context (both `let`) for as long as
    /// the caller holds the cell, so the reference stays valid while the caller uses it.
    package nonisolated var unretainedContext: Unmanaged<Context> { Unmanaged.passUnretained(parts.context) }
}

/// A one-credential change callback as the cells' key-aware one.
package func keyAwareChangeHook(_ callback: (@Sendable (StoredCredential?) async -> Void)?) -> (@Sendable (TokenKey, StoredCredential?) async -> Void)? {
    guard let callback else { return nil }
    return { _, credential in await callback(credential) }
}

/// The request path's view of a ``CredentialCell``: not generic, so reading it from another
/// module looks up no type metadata. The deadlines are dates, not optional ones (8 bytes each
/// instead of 16 with padding): `.distantFuture` stands for "never".
struct CredentialSnapshot: Sendable {
    /// When the credential becomes due; `.distantFuture` when it never expires.
    var dueAt: Date
    /// When the soft window opens; `.distantFuture` when there is none.
    var softAt: Date
    var header: HTTPField
    var backgroundStarted = false
    /// Whether either deadline is set: the request path tests this flag, not the dates (reading
    /// `Date.distantFuture` is a call into Foundation).
    let expires: Bool

    init(header: HTTPField, dueAt: Date?, softAt: Date?) {
        self.header = header
        self.dueAt = dueAt ?? .distantFuture
        self.softAt = softAt ?? .distantFuture
        expires = dueAt != nil || softAt != nil
    }
}

/// A failure answered again until `until` instead of asking the service again.
final class Refusal: Sendable {
    let error: AuthError
    let until: Date

    init(_ error: AuthError, until: Date) {
        self.error = error
        self.until = until
    }
}

/// What a ``CredentialCell`` keeps under its one lock: the request path's snapshot, the refresh in
/// flight, and the line of store writes. Not generic, like ``CredentialSnapshot``.
struct CellState: Sendable {
    var snapshot: CredentialSnapshot?
    var refresh = FlightSlot<StoredCredential>()
    var writes = WriteLine()
}

/// The cell's single-flight refresh and ordered writes, on its ``CredentialCell/state``.
extension CredentialCell {
    /// Whether a refresh is running now.
    nonisolated var refreshIsRunning: Bool { state.withLock { $0.refresh.isRunning } }

    /// Joins the running refresh's task, or starts `operation` (at high priority: every waiter
    /// depends on it) and returns its task, without waiting; the task clears its slot when it ends.
    nonisolated func startRefresh(_ operation: @escaping @Sendable () async throws -> StoredCredential) -> Task<StoredCredential, any Error> {
        state.withLock { $0.refresh.start(operation) { id in self.state.withLock { $0.refresh.finish(id) } } }
    }

    /// Joins the running refresh, or runs `operation` as the one every caller shares; the caller
    /// that started it clears the slot when it resumes on the actor.
    func runRefresh(_ operation: @escaping @Sendable () async throws -> StoredCredential) async throws -> StoredCredential {
        let joined = state.withLock { $0.refresh.join(running: operation) }
        return try await FlightSlot.wait(for: joined) { id in state.withLock { $0.refresh.finish(id) } }
    }

    /// Waits for a running refresh, if any.
    package nonisolated func settleRefresh() async {
        let task = state.withLock { $0.refresh.task }
        _ = await task?.result
    }

    /// Takes the next change ticket and queues `operation` behind every earlier write (see
    /// ``WriteLine``); call it on the actor, where tickets follow the order changes began.
    func enqueueWrite(_ operation: (@Sendable () async throws -> Void)?) -> WriteLine.Write {
        state.withLock { $0.writes.enqueue(operation) { ticket in self.state.withLock { $0.writes.ended(ticket) } } }
    }

    /// Whether no change began after the one that took `ticket`.
    nonisolated func isNewest(_ ticket: Int) -> Bool { state.withLock { $0.writes.isNewest(ticket) } }

    /// Waits until every queued write has finished.
    func settleWrites() async {
        while let last = state.withLock({ $0.writes.unfinished }) { _ = await last.value }
    }
}

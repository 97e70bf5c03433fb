package import AuthCore
package import HTTPTypes
package import Foundation
import Synchronization

/// One credential, kept, refreshed and served: the engine every provider module runs on.
///
/// - **Fast path.** ``cachedHeader()`` reads the credential's prepared header field from a
///   lock-protected snapshot that is not generic (so a caller in another module pays no type
///   metadata lookup), without hopping onto the actor and without the network.
/// - **One state.** ``Phase``: not loaded yet, empty, ready, or re-authorization required.
/// - **Load once.** The first caller loads from the store; concurrent callers share that load.
/// - **Single-flight refresh.** A due credential is refreshed once for every waiting caller,
///   through the store's ``TokenStore/update(_:_:)``: under the store's lock the stored pair is
///   read again, adopted when another process or instance already refreshed it, and otherwise
///   renewed and saved before the lock is released and before anyone uses it.
/// - **Ordered writes.** Every change (grant, refresh, removal) takes a ticket from an
///   ``WriteLine``; only the newest becomes current, so memory and store agree.
/// - **No one stranded by a peer.** A rejected refresh, and every use while empty or in
///   "re-authorization required", reads the store again and adopts a newer pair before failing.
package actor CredentialCell<Prepared: PreparedCredential, Context: Sendable> {
    package enum Phase: Sendable {
        case unloaded
        case empty
        /// The credential in use. Its prepared value is not kept here: the snapshot holds its
        /// header, and the callers that need the whole value prepare it again (the awaited paths
        /// and error scrubbing; Profit's SOAP `<token>` element reads its XML back from the header).
        case ready(StoredCredential)
        /// The error to answer with, and the credential whose refresh was refused (boxed: the
        /// rare case does not make every idle cell carry an error's room).
        indirect case reauthorizationRequired(AuthError, refused: StoredCredential?)
    }

    /// What became of an ``install(_:event:)``.
    package struct InstallOutcome: Sendable {
        /// Whether the credential became current (no later change began meanwhile).
        package var adopted: Bool
        /// The store's error, when the write failed.
        package var failure: AuthError?
    }

    /// What this cell shares with every other cell its provider's app made (store, clock,
    /// observer, renewal); one object, however many tenants.
    package nonisolated let parts: Parts
    /// The credential's name in the store.
    package nonisolated let key: TokenKey
    nonisolated var renewal: Renewal? { parts.renewal }
    /// The request path's snapshot, the refresh in flight and the line of store writes, under
    /// one lock kept inside the cell (no object of their own for an idle cell to keep).
    nonisolated let state = InlineLocked(CellState())
    /// The executor the cell (and its provider) runs on: one of a shared pool, so the cell
    /// carries no executor state of its own (see ``ExecutorPool``).
    package nonisolated var unownedExecutor: UnownedSerialExecutor { ExecutorPool.executor(of: self) }

    package internal(set) var phase: Phase = .unloaded
    /// When the current credential was installed (on the cell's clock); `.distantPast` when none
    /// is (a date, not an optional one: 8 bytes, not 16 with padding).
    package internal(set) var installedAt = Date.distantPast
    /// A refusal answered again until its pause ends (boxed, like the phase's error).
    var refusedUntil: Refusal?
    /// The store read in progress (with the change ticket when it began), joined by the callers
    /// that arrive meanwhile; empty otherwise, so an idle cell keeps no task for it. Kept on the
    /// actor: only the actor starts, joins or clears it. The read runs in a task of its own, so a
    /// caller that is cancelled stops nobody else's read.
    var loads = FlightSlot<(value: StoredCredential?, ticket: Int)>()

    /// Creates a cell; nothing is loaded until first use.
    ///
    /// - Parameters:
    ///   - key: The credential's name in the store.
    ///   - parts: What the cell is made of besides its key, among them how a credential is
    ///     prepared (a preparer that throws means the credential is unusable: a stored value of
    ///     the wrong kind is ``AuthError/Code/storeCorrupt``); cells may share one.
    package init(key: TokenKey, parts: Parts) {
        self.key = key
        self.parts = parts
    }

    /// The fast-path value of `credential`.
    nonisolated func prepare(_ credential: StoredCredential) throws(AuthError) -> Prepared {
        try parts.preparer.prepare(credential)
    }

    // MARK: - Reading

    /// The current credential's header field when it is not due; starts the one background
    /// refresh of the soft window when that opened. Never suspends.
    package nonisolated func cachedHeader() -> HTTPField? {
        // Field by field, without copying the whole snapshot out.
        guard let (header, expires, dueAt, softAt, started) = state.withLock({ state -> (HTTPField, Bool, Date, Date, Bool)? in
            guard let header = state.snapshot?.header, let expires = state.snapshot?.expires,
                  let dueAt = state.snapshot?.dueAt, let softAt = state.snapshot?.softAt else { return nil }
            return (header, expires, dueAt, softAt, state.snapshot?.backgroundStarted == true)
        }) else { return nil }
        // A credential without an expiry (Profit's token) needs no clock.
        guard expires else { return header }
        let date = parts.readsSystemClock ? SystemClock.notEarlierThanNow() : parts.now()
        if date >= dueAt { return nil }
        if date >= softAt, !started, claimBackgroundRefresh(softAt: softAt) {
            Task { await self.refreshInBackground() }
        }
        return header
    }

    /// Marks the soft window's one background refresh as started, unless another caller did, or
    /// the credential changed since it was read.
    nonisolated func claimBackgroundRefresh(softAt: Date) -> Bool {
        state.withLock { state in
            guard state.snapshot?.softAt == softAt, state.snapshot?.backgroundStarted == false else { return false }
            state.snapshot?.backgroundStarted = true
            return true
        }
    }

    /// The value to use now: loads on first use, refreshes a due credential (single-flight),
    /// adopts a newer stored pair when there is none usable.
    ///
    /// - Throws: ``AuthError/Code/notAuthenticated``, the stored ``AuthError/Code/reauthorizationRequired``,
    ///   store errors, or the error of a refresh that could not complete.
    package func current() async throws -> Prepared {
        try await loadIfNeeded()
        switch phase {
        case .ready(let credential):
            guard isDue(credential) else { return try prepare(credential) }
            return try prepare(try await refreshSingleFlight())
        case .empty, .reauthorizationRequired, .unloaded:
            if try await adoptFromStore(), case .ready = phase { return try await current() }
            return try failForMissing()
        }
    }

    /// The header field to use now, for the request path: a cached one without the actor; during
    /// a refresh of a loaded credential, the refresh's result read once it ends, waited for off
    /// the actor: every waiter of a storm resumes once and never re-enters the actor to collect
    /// its value. Before the first load (and while empty or refused) it takes the actor's path.
    package nonisolated func resolveHeader() async throws -> HTTPField {
        if let value = cachedHeader() { return value }
        // Not loaded yet, empty, or refused: the actor's path (load once, adopt a peer's pair).
        if state.withLock({ $0.snapshot == nil }) { return try await current().header }
        // Loaded but due: start (or join) the refresh without entering the actor, so that a storm
        // of callers does not queue on it ahead of the refresh's own steps.
        let credential = try await startRefresh { try await self.refreshIfDue() }.value
        return try cachedHeader() ?? prepare(credential).header
    }

    /// The refresh ``resolveHeader()`` starts: nothing when another one already renewed the credential,
    /// the stored refusal while its pause lasts, else a refresh.
    func refreshIfDue() async throws -> StoredCredential {
        guard case .ready(let credential) = phase else { return try currentOrFail() }
        guard isDue(credential) else { return credential }
        if let refused = refusedUntil {
            if parts.now() < refused.until { throw refused.error }
            refusedUntil = nil
        }
        return try await performRefresh()
    }

    /// The current credential, loading it on first use; `nil` when there is none usable.
    package func credential() async throws -> StoredCredential? {
        try await loadIfNeeded()
        if case .ready(let credential) = phase { return credential }
        return nil
    }

    /// The prepared value of the credential in use, without loading, refreshing or waiting for a
    /// refresh; `nil` when there is none.
    package var prepared: Prepared? {
        if case .ready(let credential) = phase { return try? prepare(credential) }
        return nil
    }

    /// Whether a refresh was refused and a grant must run again.
    package var requiresReauthorization: Bool {
        if case .reauthorizationRequired = phase { return true }
        return false
    }

    /// The newest change ticket: a caller that remembers it can tell whether a change began since.
    package nonisolated var newestTicket: Int { state.withLock { $0.writes.newestTicket } }

    // MARK: - Changing

    /// Refreshes now, even if the credential is not due; joins a refresh already running.
    package func refresh() async throws -> StoredCredential {
        try await loadIfNeeded()
        if case .ready = phase {} else if try await !adoptFromStore() {
            return try failForMissing()
        }
        return try await refreshSingleFlight()
    }

    /// After the service rejected a request, decides whether a retry is worth it.
    ///
    /// - Parameters:
    ///   - carried: Whether the rejected request carried this credential: `true` (refresh it),
    ///     `false` (it was already replaced: just retry), `nil` (cannot tell).
    ///   - minimumInterval: When it cannot tell, a credential installed less than this long ago is
    ///     not refreshed again (a burst of rejections rotates a refresh token once).
    package func recover(carried: @Sendable (StoredCredential) -> Bool?, minimumInterval: Duration) async throws -> Bool {
        try await loadIfNeeded()
        if refreshIsRunning {
            _ = try await refreshSingleFlight()
            return true
        }
        guard case .ready(let current) = phase else {
            if try await adoptFromStore() { return true }
            return try failForMissing()
        }
        switch carried(current) {
        case false?:
            return true
        case nil:
            if parts.now().timeIntervalSince(installedAt) < minimumInterval.timeInterval { return true }
        case true?:
            break
        }
        _ = try await refreshSingleFlight()
        return true
    }

    /// Saves `credential` (removes the stored one for `nil`) after every earlier change, tells
    /// the app, and makes it current if no later change began meanwhile.
    ///
    /// A failed write still makes the value current (the failure is returned and reported as
    /// ``AuthEvent/storeFailed(provider:code:)``), so memory and store differ only when the
    /// store said so.
    package func install(_ credential: StoredCredential?, event: AuthEvent?) async -> InstallOutcome {
        let store = parts.store
        let key = self.key
        let clock = ContinuousClock()
        let started = clock.now
        let write = enqueueWrite {
            try await Self.persist {
                if let credential { try await store.save(credential, for: key) } else { try await store.remove(key) }
            }
        }
        let failure = await write.outcome().map { storeError($0, "the token store could not be written") }
        if let failure {
            parts.observer?.receive(.storeFailed(provider: parts.name, code: failure.code))
        } else {
            parts.observer?.receive(.credentialStored(provider: parts.name, duration: clock.now - started))
        }
        if let onChange = parts.onChange { await onChange(key, credential) }
        guard isNewest(write.ticket) else { return InstallOutcome(adopted: false, failure: failure) }
        if let credential {
            do {
                try adopt(credential)
            } catch {
                return InstallOutcome(adopted: false, failure: error)
            }
        } else {
            phase = .empty
            installedAt = .distantPast
            state.withLock { $0.snapshot = nil }
        }
        refusedUntil = nil
        if let event { parts.observer?.receive(event) }
        return InstallOutcome(adopted: true, failure: failure)
    }

    /// Runs a store write, trying twice more after a failure (50 ms, then 150 ms later): a busy
    /// or briefly full disk does not cost a credential. A cancelled wait ends the retries.
    static func persist(_ write: @Sendable () async throws -> Void) async throws {
        var pauses: [Duration] = [.milliseconds(50), .milliseconds(150)]
        while true {
            do {
                return try await write()
            } catch {
                guard !pauses.isEmpty else { throw error }
                try? await Task.sleep(for: pauses.removeFirst())
                if Task.isCancelled { throw error }
            }
        }
    }

    /// Waits for a running refresh and every queued write.
    package func settle() async {
        await settleRefresh()
        await settleWrites()
    }


    // MARK: - Internals

    func isDue(_ credential: StoredCredential) -> Bool {
        RefreshTiming.isDue(credential, at: parts.now(), leeway: parts.leeway)
    }

    func adopt(_ credential: StoredCredential) throws(AuthError) {
        let prepared = try prepare(credential)
        let (due, soft) = RefreshTiming.deadlines(for: credential, leeway: parts.leeway, softWindow: parts.softWindow)
        phase = .ready(credential)
        installedAt = parts.now()
        state.withLock { $0.snapshot = CredentialSnapshot(header: prepared.header, dueAt: due, softAt: soft) }
    }

    func failForMissing<T>() throws -> T {
        if case .reauthorizationRequired(let error, _) = phase { throw error }
        throw AuthError(.notAuthenticated, provider: parts.name, message: parts.missingMessage)
    }

    func storeError(_ error: any Error, _ message: String) -> AuthError {
        if let error = error as? AuthError { return error.attributed(to: parts.name) }
        return AuthError(.storeFailure, provider: parts.name, message: message)
    }

    func loadIfNeeded() async throws {
        guard case .unloaded = phase else { return }
        let store = parts.store
        let key = self.key
        let loaded: StoredCredential?
        do {
            loaded = try await loadOnce(store, key).value
        } catch {
            throw storeError(error, "the token store could not be read")
        }
        guard case .unloaded = phase else { return }   // a change won meanwhile
        if let loaded, loaded.refreshRefused {
            // An earlier refresh of this pair was refused (maybe in another process): do not
            // present the dead refresh token again.
            phase = .reauthorizationRequired(AuthError(
                .reauthorizationRequired, provider: parts.name,
                message: "the service refused to refresh the stored credential earlier; the user must authorize again"), refused: loaded)
        } else if let loaded {
            try adopt(loaded)
        } else {
            phase = .empty
        }
    }

    /// Reads the store again when there is no usable credential, and adopts what it holds if it
    /// is not the credential whose refresh was refused. Returns whether something was adopted.
    func adoptFromStore() async throws -> Bool {
        let refused: StoredCredential?
        switch phase {
        case .empty, .unloaded: refused = nil
        case .reauthorizationRequired(_, let credential): refused = credential
        case .ready: return false
        }
        let store = parts.store
        let key = self.key
        // The ticket is the one taken when the read began (a read already running may be joined:
        // a change that began after it started could have removed what it returns).
        guard let (read, ticket) = try? await loadOnce(store, key), let stored = read, !stored.refreshRefused else { return false }
        if let refused, stored.accessToken == refused.accessToken || (stored.refreshToken != nil && stored.refreshToken == refused.refreshToken) {
            return false
        }
        guard newestTicket == ticket else { return false }   // a change began meanwhile
        switch phase {
        case .ready: return true
        default: break
        }
        try adopt(stored)
        return true
    }

    /// Reads the store once for every caller that arrives while the read runs: the first starts
    /// it, the others await the same task, and the first to resume clears the slot (in the turn
    /// in which it resumes, on the actor). Returns the value and the change ticket when the read
    /// began.
    func loadOnce(_ store: any TokenStore, _ key: TokenKey) async throws -> (value: StoredCredential?, ticket: Int) {
        let ticket = newestTicket
        let joined = loads.join(running: { (try await store.load(key), ticket) })
        return try await FlightSlot.wait(for: joined) { loads.finish($0) }
    }

    func currentOrFail() throws -> StoredCredential {
        if case .ready(let credential) = phase { return credential }
        return try failForMissing()
    }
}

extension CredentialCell: CustomReflectable, CustomStringConvertible {
    /// Shows the name and key only: the phase and the snapshot hold credentials and encoded
    /// header values.
    package nonisolated var customMirror: Mirror {
        Mirror(self, children: ["name": parts.name, "key": key], displayStyle: .class)
    }

    package nonisolated var description: String { "CredentialCell(\(key))" }
}

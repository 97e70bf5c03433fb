import AuthCore
import HTTPTypes
import Foundation
import Synchronization

/// The refresh path: single-flight, under the store's lock, with the refused-pair fallback.
extension CredentialCell {
    func refreshInBackground() async {
        guard !refreshIsRunning, case .ready = phase else { return }
        _ = try? await refreshSingleFlight()
    }

    func refreshSingleFlight() async throws -> StoredCredential {
        if !refreshIsRunning, let refused = refusedUntil {
            if parts.now() < refused.until { throw refused.error }
            refusedUntil = nil
        }
        return try await runRefresh { try await self.performRefresh() }
    }

    /// What happened inside the store's `update`.
    final class Record: Sendable {
        let value = Locked<(used: StoredCredential?, result: StoredCredential?, renewed: Bool)>((nil, nil, false))
        /// Time spent in the token call, so the store's share of the update can be told apart.
        let tokenCall = Locked<Duration>(.zero)
    }

    func performRefresh() async throws -> StoredCredential {
        guard case .ready(let current) = phase else { return try failForMissing() }
        guard let renewal else {
            throw enterReauthorization(
                AuthError(.reauthorizationRequired, provider: parts.name, message: "the credential cannot be refreshed"),
                refused: current)
        }
        let record = Record()
        let clock = ContinuousClock()
        let started = clock.now
        let store = parts.store
        let key = self.key
        let now = parts.now
        let leeway = parts.leeway
        let write = enqueueWrite {
            do {
                try await store.update(key) { stored -> (StoredCredential?, Void) in
                    // The newer of the stored pair and ours: another process may have rotated it (use
                    // theirs), or our last save may have failed (use ours).
                    let base = stored.map { RefreshTiming.newer($0, current) } ?? current
                    if let stored, base == stored, stored.accessToken != current.accessToken,
                       !RefreshTiming.isDue(stored, at: now(), leeway: leeway) {
                        record.value.withLock { $0 = (stored, stored, false) }
                        return (stored, ())
                    }
                    record.value.withLock { $0.used = base }
                    // Spend the refresh token only if what it buys can be kept.
                    try await store.checkWritable(key)
                    let callStarted = clock.now
                    let next = try await renewal.renew(base)
                    record.tokenCall.withLock { $0 = clock.now - callStarted }
                    record.value.withLock { $0 = (base, next, true) }
                    return (next, ())
                }
            } catch {
                // The new pair was obtained but not written, and the old one is spent: try again.
                guard let next = record.value.withLock({ $0.renewed ? $0.result : nil }) else { throw error }
                try await Self.persist { try await store.save(next, for: key) }
            }
        }
        let failure = await write.outcome()
        let elapsed = clock.now - started
        let (used, result, renewed) = record.value.withLock { $0 }
        if renewed, failure == nil {
            parts.observer?.receive(.credentialStored(provider: parts.name, duration: elapsed - record.tokenCall.withLock { $0 }))
        }
        if let result {
            var unsaved: AuthError?
            if let failure, renewed {
                // The old pair is spent: keep the new one in memory rather than lose it, and tell
                // the caller that the store does not hold it.
                let error = storeError(failure, "the refreshed credential is in use but the token store could not save it")
                parts.observer?.receive(.storeFailed(provider: parts.name, code: error.code))
                unsaved = error
            }
            if renewed, let onChange = parts.onChange { await onChange(key, result) }
            guard isNewest(write.ticket) else {
                if let unsaved { throw unsaved }
                return try currentOrFail()
            }
            try adopt(result)
            refusedUntil = nil
            if renewed {
                var event = AuthEvent.credentialRefreshed(provider: parts.name, expiresAt: result.expiresAt)
                event.duration = elapsed
                parts.observer?.receive(event)
            }
            if let unsaved { throw unsaved }
            return result
        }
        let error = (failure as? AuthError)?.attributed(to: parts.name)
            ?? AuthError(.transportFailure, provider: parts.name, message: "the refresh failed (\(failure.map { "\(type(of: $0))" } ?? "no result"))")
        guard renewal.isRejection(error) else {
            if let pause = renewal.cooldown(error) {
                refusedUntil = Refusal(error, until: parts.now().addingTimeInterval(pause.timeInterval))
            }
            parts.observer?.receive(Self.failed(parts.name, error.code, willRetry: true, after: elapsed))
            throw error
        }
        // Refused. Another instance sharing the store may have rotated the pair after we read
        // it (a store without a lock): adopt a stored pair that is not the one refused.
        let refused = used ?? current
        if let stored = try? await store.load(key), stored.accessToken != refused.accessToken,
           stored.refreshToken != refused.refreshToken {
            guard isNewest(write.ticket) else { return try currentOrFail() }
            try adopt(stored)
            return stored
        }
        if error.code != .reauthorizationRequired {
            parts.observer?.receive(Self.failed(parts.name, error.code, willRetry: false, after: elapsed))
        }
        let final = error.code == .reauthorizationRequired ? error : AuthError(
            .reauthorizationRequired, provider: parts.name, status: error.status, serverCode: error.serverCode,
            message: "the refresh was rejected; the user must authorize again", underlying: error)
        guard isNewest(write.ticket) else { throw final }
        await Self.markRefused(refused, in: store, key: key, at: parts.now())
        throw enterReauthorization(final, refused: refused)
    }

    /// Marks the stored pair as refused, if it is still the refused one, so that the next process
    /// starts in "re-authorization required" instead of presenting it again. Best effort: a store
    /// that cannot write now only costs that process one more refused refresh.
    static func markRefused(_ refused: StoredCredential, in store: any TokenStore, key: TokenKey, at date: Date) async {
        _ = try? await store.update(key) { stored -> (StoredCredential?, Void) in
            guard let stored, stored.accessToken == refused.accessToken, stored.refreshToken == refused.refreshToken else {
                return (stored, ())
            }
            return (stored.markedRefused(at: date), ())
        }
    }

    static func failed(_ provider: String, _ code: AuthError.Code, willRetry: Bool, after duration: Duration) -> AuthEvent {
        var event = AuthEvent.refreshFailed(provider: provider, code: code, willRetry: willRetry)
        event.duration = duration
        return event
    }

    func enterReauthorization(_ error: AuthError, refused: StoredCredential) -> AuthError {
        phase = .reauthorizationRequired(error, refused: refused)
        state.withLock { $0.snapshot = nil }
        parts.observer?.receive(.reauthorizationRequired(provider: parts.name))
        return error
    }
}

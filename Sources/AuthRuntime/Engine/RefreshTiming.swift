package import AuthCore
import HTTPTypes
package import Foundation

/// When a credential counts as due: the leeway math, on whatever clock the caller passes.
package enum RefreshTiming {
    /// The leeway for `credential`: `configured`, or min(60 s, 10 % of its lifetime).
    ///
    /// A configured leeway is capped at half the lifetime, so a leeway longer than the lifetime
    /// cannot make every token due on arrival (which would refresh on every request).
    package static func leeway(for credential: StoredCredential, configured: Duration?) -> TimeInterval {
        leewayInterval(credential, configured)
    }

    private static func leewayInterval(_ credential: StoredCredential, _ configured: Duration?) -> TimeInterval {
        let lifetime = credential.expiresAt.flatMap { expiresAt in credential.issuedAt.map { max(0, expiresAt.timeIntervalSince($0)) } }
        if let configured {
            let wanted = max(0, configured.timeInterval)
            return lifetime.map { min(wanted, $0 / 2) } ?? wanted
        }
        guard let lifetime else { return 60 }
        return min(60, lifetime * 0.1)
    }

    /// When `credential` becomes due (`nil`: never), and when its soft window opens.
    package static func deadlines(for credential: StoredCredential, leeway: Duration?, softWindow: Duration?) -> (due: Date?, soft: Date?) {
        guard let expiresAt = credential.expiresAt else { return (nil, nil) }
        let due = expiresAt.addingTimeInterval(-leewayInterval(credential, leeway))
        guard let softWindow, softWindow > .zero else { return (due, nil) }
        return (due, due.addingTimeInterval(-softWindow.timeInterval))
    }

    /// Whether `credential` is due at `date` (in its soft window too, when `soft` is given); a
    /// credential without an expiry never is.
    package static func isDue(_ credential: StoredCredential, at date: Date, leeway: Duration?, soft: Duration? = nil) -> Bool {
        guard let expiresAt = credential.expiresAt else { return false }
        let early = leewayInterval(credential, leeway) + (soft.map { max(0, $0.timeInterval) } ?? 0)
        return date >= expiresAt.addingTimeInterval(-early)
    }

    /// The newer of two credentials by `issuedAt` (one without it counts as oldest); `a` on a tie.
    package static func newer(_ a: StoredCredential, _ b: StoredCredential) -> StoredCredential {
        (b.issuedAt ?? .distantPast) > (a.issuedAt ?? .distantPast) ? b : a
    }
}

/// Puts store writes in one line: each write starts after the one enqueued before it, and every
/// write carries a ticket so the caller can tell whether a newer change began meanwhile. The
/// owner keeps it under a lock of its own (a ``CredentialCell`` keeps it beside its snapshot).
///
/// "Newest ticket wins": a caller takes its ticket when it enqueues (synchronously, on its own
/// actor, so tickets follow the order in which changes began), awaits its write, and adopts its
/// value in memory only if ``isNewest(_:)`` still holds. The last write to reach the store is
/// then the newest ticket's, so memory and store end on the same credential however grants,
/// refreshes and sign-outs overlap. `operation` may be `nil` for a change that writes nothing (it
/// still takes a ticket, so older writes lose).
///
/// The last write's task is kept only until it ends: an idle owner holds no task.
package struct WriteLine: Sendable {
    /// A ticketed write in the line.
    package struct Write: Sendable {
        /// The ticket, compared with ``WriteLine/isNewest(_:)``.
        package let ticket: Int
        let task: Task<(any Error)?, Never>

        /// Waits for the write; returns the store's error, or `nil` when it succeeded.
        package func outcome() async -> (any Error)? { await task.value }
    }

    private var ticket = 0
    /// The newest write's task, until it ends. Writes end in ticket order (each awaits the one
    /// before it), so once the newest ended, every write did.
    private var last: Task<(any Error)?, Never>?

    package init() {}

    /// Takes the next ticket and queues `operation` behind every write queued before it; the
    /// write's task calls `ended` with its ticket when it ends (pass it to ``ended(_:)``
    /// under the owner's lock).
    package mutating func enqueue(_ operation: (@Sendable () async throws -> Void)?,
                                  ended: @escaping @Sendable (Int) -> Void) -> Write {
        ticket += 1
        let previous = last
        let mine = ticket
        let task = Task { () -> (any Error)? in
            _ = await previous?.value
            var failure: (any Error)?
            do { try await operation?() } catch { failure = error }
            ended(mine)
            return failure
        }
        last = task
        return Write(ticket: mine, task: task)
    }

    /// Records that write `ticket` ended: forgets its task if it was the newest.
    package mutating func ended(_ ticket: Int) {
        if self.ticket == ticket { last = nil }
    }

    /// Whether no ticket was taken after `ticket`.
    package func isNewest(_ ticket: Int) -> Bool { self.ticket == ticket }

    /// The newest ticket taken so far (`0` before any).
    package var newestTicket: Int { ticket }

    /// Whether a write's task is kept (only until the newest write ends).
    package var keepsTask: Bool { last != nil }

    /// The newest write, while it has not ended.
    package var unfinished: Task<(any Error)?, Never>? { last }
}

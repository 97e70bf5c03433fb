import AuthCore
import HTTPTypes
import Synchronization

/// Puts store writes in one line: each write starts after the one enqueued before it, and every
/// write carries a ticket so the caller can tell whether a newer change began meanwhile.
///
/// "Newest ticket wins": a caller takes its ticket when it enqueues (synchronously, on its own
/// actor, so tickets follow the order in which changes began), awaits its write, and adopts its
/// value in memory only if ``isNewest(_:)`` still holds. The last write to reach the store is
/// then the newest ticket's, so memory and store end on the same credential however grants,
/// refreshes and sign-outs overlap.
package final class OrderedWriter: Sendable {
    private let state = InlineLocked<(ticket: Int, last: Task<(any Error)?, Never>?, pending: Int)>((0, nil, 0))

    package init() {}

    /// A ticketed write in the line.
    package struct Write: Sendable {
        /// The ticket, compared with ``OrderedWriter/isNewest(_:)``.
        package let ticket: Int
        let task: Task<(any Error)?, Never>

        /// Waits for the write; returns the store's error, or `nil` when it succeeded.
        package func outcome() async -> (any Error)? { await task.value }
    }

    /// Takes the next ticket and queues `operation` behind every write queued before it.
    ///
    /// Synchronous on purpose: call it from the owner's actor, where the ticket order is the
    /// order in which changes began. `operation` may be `nil` for a change that writes nothing
    /// (it still takes a ticket, so older writes lose).
    package func enqueue(_ operation: (@Sendable () async throws -> Void)?) -> Write {
        state.withLock { state -> Write in
            state.ticket += 1
            let previous = state.last
            state.pending += 1
            let task = Task { () -> (any Error)? in
                _ = await previous?.value
                var failure: (any Error)?
                do { try await operation?() } catch { failure = error }
                self.state.withLock { $0.pending -= 1 }
                return failure
            }
            state.last = task
            return Write(ticket: state.ticket, task: task)
        }
    }

    /// Whether no ticket was taken after `ticket`.
    package func isNewest(_ ticket: Int) -> Bool { state.withLock { $0.ticket == ticket } }

    /// The newest ticket taken so far (`0` before any).
    package var newestTicket: Int { state.withLock { $0.ticket } }

    /// Waits until every queued write has finished.
    package func settle() async {
        while true {
            let (pending, last) = state.withLock { ($0.pending, $0.last) }
            guard pending > 0, let last else { return }
            _ = await last.value
        }
    }
}

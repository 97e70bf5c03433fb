import AuthCore
import HTTPTypes
import Synchronization

/// Runs one operation at a time and shares its result with every caller that arrives while it
/// runs: N concurrent callers cause one operation, and each waiter resumes once.
///
/// The running task is kept behind a lock, not on an actor, so any type (an actor, a struct, a
/// session) can own one. A caller that is cancelled stops waiting; the operation itself runs on
/// for the others. The slot is cleared when the operation ends, success or failure.
package final class SingleFlight<Value: Sendable>: Sendable {
    private struct Running: Sendable {
        var id: Int
        var task: Task<Value, any Error>
    }

    private let state = InlineLocked<(next: Int, running: Running?)>((0, nil))

    package init() {}

    /// Whether an operation is running now.
    package var isRunning: Bool { state.withLock { $0.running != nil } }

    /// Joins the running operation, or starts `operation` when none runs.
    ///
    /// Runs on the caller's actor (`isolation`): the caller resumes there, in the same turn in
    /// which the slot is cleared, so the owner can record the result before anyone else sees an
    /// empty slot and starts the operation again.
    package func run(
        isolation: isolated (any Actor)? = #isolation,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let (id, task, started) = state.withLock { state -> (Int, Task<Value, any Error>, Bool) in
            if let running = state.running { return (running.id, running.task, false) }
            state.next += 1
            let task = Task { try await operation() }
            state.running = Running(id: state.next, task: task)
            return (state.next, task, true)
        }
        let result = await task.result
        if started { finish(id) }
        return try result.get()
    }

    /// Joins the running operation's task, or starts `operation` and returns its task, without
    /// waiting. The task clears its slot when the operation ends; an owner that must record the
    /// result before the slot is seen empty records it inside `operation`.
    package func start(_ operation: @escaping @Sendable () async throws -> Value) -> Task<Value, any Error> {
        state.withLock { state -> Task<Value, any Error> in
            if let running = state.running { return running.task }
            state.next += 1
            let id = state.next
            // High priority: every waiter depends on it, and in a storm the executor's queue is
            // full of waiters' jobs that would otherwise run first.
            let task = Task(priority: .high) {
                defer { self.finish(id) }
                return try await operation()
            }
            state.running = Running(id: id, task: task)
            return task
        }
    }

    /// Waits for the running operation, if any, ignoring its outcome.
    package func settle(isolation: isolated (any Actor)? = #isolation) async {
        let task = state.withLock { $0.running?.task }
        _ = await task?.result
    }

    private func finish(_ id: Int) {
        state.withLock { state in
            if state.running?.id == id { state.running = nil }
        }
    }
}

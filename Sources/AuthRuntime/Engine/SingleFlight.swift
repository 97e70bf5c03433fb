import AuthCore
import HTTPTypes
import Synchronization

/// The state of one single flight, for an owner that keeps it under a lock of its own (a
/// ``CredentialCell`` keeps it beside its snapshot, so an idle cell holds no extra object).
/// ``SingleFlight`` is the same behind a lock of its own.
package struct FlightSlot<Value: Sendable>: Sendable {
    /// What ``join(_:)`` found or started.
    package struct Joined: Sendable {
        package let id: UInt32
        package let task: Task<Value, any Error>
        /// Whether this caller started the operation (and so clears the slot when it resumes).
        package let started: Bool
    }

    // The task first and 32-bit ids: 16 bytes in all (ids only tell one run from the next).
    private var running: (task: Task<Value, any Error>, id: UInt32)?
    private var next: UInt32 = 0

    package init() {}

    /// Whether an operation is running now.
    package var isRunning: Bool { running != nil }
    /// The running operation's task, if any.
    package var task: Task<Value, any Error>? { running?.task }

    /// Joins the running operation, or starts one: `start` makes its task from its id (a task
    /// that clears its own slot passes the id to ``finish(_:)``).
    package mutating func join(_ start: (UInt32) -> Task<Value, any Error>) -> Joined {
        if let running { return Joined(id: running.id, task: running.task, started: false) }
        next &+= 1
        let task = start(next)
        running = (task, next)
        return Joined(id: next, task: task, started: true)
    }

    /// Joins the running operation, or starts `operation` in a task of its own, which the caller
    /// that started it clears when it resumes (see ``wait(for:isolation:finish:)``).
    package mutating func join(running operation: @escaping @Sendable () async throws -> Value) -> Joined {
        join { _ in Task { try await operation() } }
    }

    /// Joins the running operation's task, or starts `operation` in a task that clears its own
    /// slot (by calling `finish` with its id, under the owner's lock) when it ends.
    ///
    /// High priority: every waiter depends on it, and in a storm the executor's queue is full of
    /// waiters' jobs that would otherwise run first.
    package mutating func start(_ operation: @escaping @Sendable () async throws -> Value,
                                finish: @escaping @Sendable (UInt32) -> Void) -> Task<Value, any Error> {
        join { id in
            Task(priority: .high) {
                defer { finish(id) }
                return try await operation()
            }
        }.task
    }

    /// Clears the slot if operation `id` still holds it.
    package mutating func finish(_ id: UInt32) {
        if running?.id == id { running = nil }
    }

    /// Waits for a joined operation; the caller that started it clears its slot with `finish`
    /// in the turn in which it resumes, on its own actor (`isolation`), so the owner records
    /// the result before anyone else sees an empty slot and starts the operation again.
    package static func wait(
        for joined: Joined, isolation: isolated (any Actor)? = #isolation, finish: (UInt32) -> Void
    ) async throws -> Value {
        let result = await joined.task.result
        if joined.started { finish(joined.id) }
        return try result.get()
    }
}

/// Runs one operation at a time and shares its result with every caller that arrives while it
/// runs: N concurrent callers cause one operation, and each waiter resumes once.
///
/// The running task is kept behind a lock, not on an actor, so any type (an actor, a struct, a
/// session) can own one. A caller that is cancelled stops waiting; the operation itself runs on
/// for the others. The slot is cleared when the operation ends, success or failure.
package final class SingleFlight<Value: Sendable>: Sendable {
    private let state = InlineLocked(FlightSlot<Value>())

    package init() {}

    /// Whether an operation is running now.
    package var isRunning: Bool { state.withLock { $0.isRunning } }

    /// Joins the running operation, or starts `operation` when none runs.
    ///
    /// Runs on the caller's actor (`isolation`): see ``FlightSlot/wait(for:isolation:finish:)``.
    package func run(
        isolation: isolated (any Actor)? = #isolation,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let joined = state.withLock { $0.join(running: operation) }
        return try await FlightSlot.wait(for: joined) { id in state.withLock { $0.finish(id) } }
    }

    /// Joins the running operation's task, or starts `operation` and returns its task, without
    /// waiting. The task clears its slot when the operation ends; an owner that must record the
    /// result before the slot is seen empty records it inside `operation`.
    package func start(_ operation: @escaping @Sendable () async throws -> Value) -> Task<Value, any Error> {
        state.withLock { $0.start(operation) { id in self.state.withLock { $0.finish(id) } } }
    }

    /// Waits for the running operation, if any, ignoring its outcome.
    package func settle(isolation: isolated (any Actor)? = #isolation) async {
        let task = state.withLock { $0.task }
        _ = await task?.result
    }
}

import Foundation

/// Runs blocking work (waiting for a child process, reading its pipe to the end) on a thread of
/// its own, so it holds none of Swift's cooperative threads. On a 2-core machine the pool has two;
/// two tests blocking them at once would starve every in-process sandbox server of the run.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}

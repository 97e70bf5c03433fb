// A task executor with threads of its own, for the throughput benchmarks.
import Foundation
import Synchronization

/// Runs tasks that prefer it on `count` threads of its own instead of the cooperative pool.
///
/// package-benchmark runs an async benchmark from a thread that waits on a semaphore, and on this
/// 2-core machine that can leave one cooperative thread for the benchmark's tasks: two tasks
/// then share one core whatever they do. Tasks started under
/// `withTaskExecutorPreference(executor)` run here instead, one thread each, so the 2-thread
/// figure shows what a second core adds. A request whose credential is cached never suspends, so
/// each task stays on its thread for the whole loop and the queue below is not on its path.
final class ThreadsExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `lock`; `ready` counts the queued jobs.
    private let lock = NSLock()
    private var jobs: [UnownedJob] = []
    private let ready = DispatchSemaphore(value: 0)

    init(threads count: Int) {
        for index in 0..<count {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "bench-executor-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        lock.lock()
        jobs.append(unowned)
        lock.unlock()
        ready.signal()
    }

    private func work() {
        while true {
            ready.wait()
            lock.lock()
            let job = jobs.isEmpty ? nil : jobs.removeFirst()
            lock.unlock()
            job?.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

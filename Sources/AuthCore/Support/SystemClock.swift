package import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The system clock, as the SDK reads it where it was given no clock of its own: the credential
/// cells of `AuthRuntime` and ``ProviderRegistry``.
package enum SystemClock {
    /// The precise clock: what every path but the request path's deadline check reads.
    package static let now: @Sendable () -> Date = { Date() }

    /// A time no earlier than the precise clock's, for the request path: a cell's "is it due yet"
    /// check and a registry's last-use stamp.
    ///
    /// On Linux it is the coarse real-time clock (a read of the kernel's last tick: 6 ns on the CI
    /// machine, against 26 ns for the precise clock, which reads the processor's counter) moved
    /// forward by ``coarseMargin``, so that it never reads earlier than the precise clock would.
    /// A credential then counts as due up to that margin early, and the request takes the awaited
    /// path, which checks again on the precise clock: never late, at worst a few milliseconds
    /// early. Elsewhere, and where the coarse clock is coarser than 50 ms, the precise clock.
    @inline(__always)
    package static func notEarlierThanNow() -> Date {
        #if os(Linux)
        if let margin = coarseMargin {
            var spec = timespec()
            if clock_gettime(CLOCK_REALTIME_COARSE, &spec) == 0 {
                return Date(timeIntervalSince1970: Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9 + margin)
            }
        }
        #endif
        return Date()
    }

    #if os(Linux)
    /// Twice the coarse clock's resolution (one tick: 4 ms here) and 10 ms more: the coarse clock
    /// lags the precise one by less than a tick, the rest is headroom for a tick that comes late.
    /// `nil` when the coarse clock is unavailable or coarser than 50 ms.
    static let coarseMargin: Double? = {
        var resolution = timespec()
        guard clock_getres(CLOCK_REALTIME_COARSE, &resolution) == 0 else { return nil }
        let tick = Double(resolution.tv_sec) + Double(resolution.tv_nsec) / 1e9
        return tick > 0 && tick <= 0.05 ? 2 * tick + 0.01 : nil
    }()
    #endif
}

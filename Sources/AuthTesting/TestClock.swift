import AuthCore
public import Foundation

/// A clock a test moves by hand, for every `now:` parameter of the SDK.
///
/// Providers, sandboxes and registries read the time only through the closure they are given, so
/// a test can expire a token, open a refresh window or idle a tenant without waiting:
///
/// ```swift
/// let clock = TestClock()
/// let provider = ProfixProvider(client: registration, transport: sandbox, now: clock.now)
/// clock.advance(by: .seconds(600))      // the access token is now due
/// ```
public final class TestClock: Sendable {
    private let current: Locked<Date>

    /// A clock that starts at `start` (default 2027-01-15 08:00 UTC) and stands still until moved.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Locked(start)
    }

    /// The clock as the SDK's `now:` parameters take it.
    public var now: @Sendable () -> Date { { self.current.withLock { $0 } } }

    /// The current time.
    public var date: Date { current.withLock { $0 } }

    /// Moves the clock forward by `seconds`.
    public func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        advance(duration.timeInterval)
    }
}

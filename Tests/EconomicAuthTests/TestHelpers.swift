import AuthCore
import Foundation
import EconomicAuthTesting

/// A deterministic pseudo-random generator (SplitMix64), so property tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Text mixing the characters that break naive URL handling.
    mutating func nastyText(maxLength: Int = 12, allowEmpty: Bool = true) -> String {
        let pieces = [" ", "&", "=", "?", "#", "+", "%", "%20", "%2B", "/", ":", ";", "@", "!", "'", "\"",
                      "æ", "ø", "å", "é", "Ω", "漢", "🙂", "\u{1F1E9}\u{1F1F0}", "a", "B", "z", "0", "9", "-", "_", ".", "~", "token=x"]
        let length = Int.random(in: (allowEmpty ? 0 : 1)...maxLength, using: &self)
        return (0..<length).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &self)] }.joined()
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current = Locked(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ duration: Duration) { current.withLock { $0 = $0.addingTimeInterval(duration.timeInterval) } }
}

/// Collects events.
final class EventLog: Sendable {
    private let events = Locked<[AuthEvent]>([])
    var all: [AuthEvent] { events.withLock { $0 } }
    var observer: AuthEventObserver { AuthEventObserver { event in self.events.withLock { $0.append(event) } } }
}

func url(_ text: String) throws -> URL {
    guard let url = URL(string: text) else { throw AuthError(.invalidRequest, message: "bad test URL") }
    return url
}

extension Duration {
    var timeInterval: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

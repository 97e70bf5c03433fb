public import Foundation
public import HTTPTypes

/// Bounded exponential backoff with jitter for transient failures.
///
/// A failure is transient when no response came (``AuthError/isTransient``), or the response is
/// a 5xx other than 501, or a 429. `Retry-After` (seconds or an HTTP date) is honoured up to
/// ``maximumRetryAfter``; a longer wait is not slept through but reported as
/// ``AuthError/Code/rateLimited`` with ``AuthError/retryAfter`` set.
///
/// Time is injected: tests pass a ``sleep`` that records delays instead of waiting, and a
/// ``random`` source that makes jitter predictable.
///
/// ```swift
/// let policy = RetryPolicy.exponential(maxAttempts: 3)
/// let response = try await policy.run { try await transport.send(request) }
/// ```
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (1 means no retry).
    public var maxAttempts: Int
    /// The delay before the second attempt; later delays grow by ``multiplier``.
    public var baseDelay: Duration
    /// The largest delay between two attempts.
    public var maxDelay: Duration
    /// The growth factor between delays. Default 2.
    public var multiplier: Double
    /// The share of each delay that is randomised (0 = none, 1 = "full jitter"). Default 0.5.
    public var jitter: Double
    /// The longest `Retry-After` the policy waits for; longer ones end the retries. Default 60 s.
    public var maximumRetryAfter: Duration
    /// Sleeps; defaults to `Task.sleep`.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Returns a number in `0..<1` for jitter.
    public var random: @Sendable () -> Double
    /// The current time, for `Retry-After` dates.
    public var now: @Sendable () -> Date
    /// Receives ``AuthEvent/transientRetry(provider:attempt:delay:code:)`` events.
    public var observer: AuthEventObserver?
    /// The provider name used in events.
    public var providerName: String?
    /// Whether failures after which the server may already have processed the request are
    /// retried: timeouts, transport failures, 500, 502, 504. Turn it off for one-time requests (an
    /// authorization code, a rotating refresh token, a one-time password), where a retry would
    /// report "already used" instead of the real failure. Connection failures, DNS failures, 429
    /// and 503 are retried either way. Default `true`.
    public var retriesAmbiguousFailures: Bool = true

    /// Creates a policy.
    public init(
        maxAttempts: Int = 3,
        baseDelay: Duration = .milliseconds(200),
        maxDelay: Duration = .seconds(5),
        multiplier: Double = 2,
        jitter: Double = 0.5,
        maximumRetryAfter: Duration = .seconds(60),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        now: @escaping @Sendable () -> Date = { Date() },
        observer: AuthEventObserver? = nil,
        providerName: String? = nil
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
        self.maximumRetryAfter = maximumRetryAfter
        self.sleep = sleep
        self.random = random
        self.now = now
        self.observer = observer
        self.providerName = providerName
    }

    /// No retries: one attempt.
    public static var none: RetryPolicy { RetryPolicy(maxAttempts: 1) }

    /// Exponential backoff with the default delays.
    public static func exponential(maxAttempts: Int) -> RetryPolicy { RetryPolicy(maxAttempts: maxAttempts) }

    /// This policy for a one-time request: ambiguous failures are not retried.
    public var forOneTimeRequests: RetryPolicy {
        var copy = self
        copy.retriesAmbiguousFailures = false
        return copy
    }

    /// The delay before attempt `attempt + 1` (`attempt` counts from 1), with the jittered share
    /// scaled by `randomValue` (in `0...1`); rounded to whole microseconds.
    public func delay(afterAttempt attempt: Int, randomValue: Double) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let raw = baseDelay.timeInterval * pow(multiplier, exponent)
        let capped = min(raw, maxDelay.timeInterval)
        let jittered = capped * (1 - jitter) + capped * jitter * min(max(randomValue, 0), 1)
        return .microseconds(Int64((jittered * 1_000_000).rounded()))
    }

    /// Whether a response is worth retrying.
    public static func isTransient(_ response: HTTPResponse) -> Bool {
        let status = response.status.code
        return status == 429 || (status >= 500 && status != 501 && status <= 599)
    }

    /// Runs `operation`, retrying transient failures.
    ///
    /// The last transient response is returned as it is when attempts run out, so the caller can
    /// map it to its own error; a thrown transient error is rethrown after the last attempt.
    ///
    /// - Throws: the operation's error; ``AuthError/Code/rateLimited`` when `Retry-After` asks for a
    ///   longer wait than ``maximumRetryAfter``; ``AuthError/Code/cancelled`` when the task is cancelled.
    public func run(_ operation: () async throws -> (HTTPResponse, Data)) async throws -> (HTTPResponse, Data) {
        var attempt = 1
        while true {
            let delay: Duration
            let code: AuthError.Code
            do {
                let answer = try await operation()
                let response = answer.0
                guard Self.isTransient(response), attempt < maxAttempts else { return answer }
                guard retriesAmbiguousFailures || response.status == .tooManyRequests || response.status == .serviceUnavailable else { return answer }
                if let retryAfter = Self.retryAfter(in: response, now: now()) {
                    if retryAfter > maximumRetryAfter {
                        throw AuthError(.rateLimited, provider: providerName, status: response.status.code,
                                        message: "the service asked to wait longer than the retry policy allows",
                                        retryAfter: retryAfter)
                    }
                    delay = retryAfter
                } else {
                    delay = self.delay(afterAttempt: attempt, randomValue: random())
                }
                code = response.status == .tooManyRequests ? .rateLimited : .serviceUnavailable
            } catch let error as AuthError where error.isTransient && error.code != .rateLimited && attempt < maxAttempts
                        && (retriesAmbiguousFailures || error.code == .connectionFailed || error.code == .dnsFailure) {
                delay = self.delay(afterAttempt: attempt, randomValue: random())
                code = error.code
            }
            observer?.receive(.transientRetry(provider: providerName, attempt: attempt, delay: delay, code: code))
            do {
                try await sleep(delay)
            } catch {
                throw AuthError(.cancelled, provider: providerName, message: "cancelled while waiting to retry")
            }
            attempt += 1
        }
    }

    /// Reads `Retry-After` (delta seconds or an HTTP date) from a response; `nil` for anything
    /// else (a value that is not printable ASCII is never handed to a date parser).
    public static func retryAfter(in response: HTTPResponse, now: Date) -> Duration? {
        guard let value = response.headerFields[.retryAfter]?.trimmingWhitespace(), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return .seconds(max(0, seconds)) }
        // An HTTP date is 29 printable ASCII characters; anything else is not one, and Foundation's
        // DateFormatter on Linux traps on some non-ASCII input instead of returning nil.
        guard value.utf8.count <= 40, value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    package var timeInterval: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

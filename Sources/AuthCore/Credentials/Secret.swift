/// A credential value that never prints.
///
/// `Secret` wraps an API key, a token, a password or any other value that must not reach a log,
/// an error message or test output. Every way Swift turns a value into text (`description`,
/// `debugDescription`, string interpolation, `dump`, `String(reflecting:)` and `Mirror`) shows
/// `<redacted>`; the value itself is reached only through ``revealed``, which is the one place a
/// reviewer has to look.
///
/// Equality runs in time that depends only on the lengths of the two values, never on where they
/// first differ, so comparing a received `state` or token with the expected one leaks nothing.
///
/// ```swift
/// let key = Secret("AF2F0E3B...")
/// print("using \(key)")           // using <redacted>
/// request.headers[.authorization] = "Bearer \(key.revealed)"
/// ```
///
/// `Secret` is `Codable` so a ``TokenStore`` can persist it: encoding writes the raw value, so
/// only encode it into storage you protect.
public struct Secret: Sendable {
    private let storage: String

    /// Wraps a credential value.
    public init(_ value: String) {
        self.storage = value
    }

    /// The raw credential value.
    ///
    /// Use it only where the value must go on the wire or into protected storage.
    public var revealed: String { storage }

    /// Whether the wrapped value is the empty string.
    public var isEmpty: Bool { storage.isEmpty }

    /// The number of UTF-8 bytes in the value; safe to log.
    public var byteCount: Int { storage.utf8.count }
}

extension Secret: Equatable {
    /// Compares two secrets in time independent of their contents (only the lengths show).
    public static func == (lhs: Secret, rhs: Secret) -> Bool {
        constantTimeEquals(lhs.storage, rhs.storage)
    }

    /// Compares a secret with a plain string (for example a value that came back on a callback URL)
    /// in time independent of their contents.
    public func matches(_ candidate: String) -> Bool {
        Self.constantTimeEquals(storage, candidate)
    }

    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        var i = 0
        while i < n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
            i += 1
        }
        return difference == 0
    }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomLeafReflectable {
    /// Always `<redacted>`.
    public var description: String { "<redacted>" }
    /// Always `Secret(<redacted>)`.
    public var debugDescription: String { "Secret(<redacted>)" }
    /// A mirror with no children, so `dump` and debuggers see nothing inside.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Secret: Codable {
    /// Decodes a secret from a single string value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.storage = try container.decode(String.self)
    }

    /// Encodes the raw value as a single string; only for protected storage.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(storage)
    }
}

public import Foundation

/// Where providers keep credentials between runs, and how they coordinate a rotation.
///
/// The SDK ships ``InMemoryTokenStore`` and ``FileTokenStore``; an app that keeps credentials in
/// a database or a secrets manager implements ``load(_:)``, ``save(_:for:)`` and ``remove(_:)``,
/// and, when it can lock a credential, ``update(_:_:)``.
///
/// ### Coordination
/// A provider never refreshes from its memory alone: it calls ``update(_:_:)``, reads the pair
/// the store holds, refreshes only if nobody else already did, and returns what to save. A store
/// that implements ``update(_:_:)`` with a lock (in-process, cross-process or cross-instance, as
/// it can) makes every provider that shares it rotate a refresh token once between them. The
/// default implementation has no lock: it is correct for a store used by one process, and says
/// so by returning `false` from ``coordinatesUpdates``.
///
/// ### Implement a custom store
/// `save` must be durable when it returns: a provider that rotates refresh tokens saves the new
/// pair *before* using it, and a lost save forces a user to log in again. Report failures as
/// ``AuthError`` with ``AuthError/Code/storeFailure`` or ``AuthError/Code/storeCorrupt``.
public protocol TokenStore: Sendable {
    /// The credential stored under `key`, or `nil` when there is none.
    func load(_ key: TokenKey) async throws -> StoredCredential?
    /// Stores `credential` under `key`, replacing what was there.
    func save(_ credential: StoredCredential, for key: TokenKey) async throws
    /// Removes the credential stored under `key`; removing a missing key is not an error.
    func remove(_ key: TokenKey) async throws

    /// Reads the credential under `key`, runs `body` on it while holding the store's lock for
    /// `key`, and stores what `body` returns before the lock is released.
    ///
    /// `body` returns the credential to keep (`nil` removes it; the value it was given writes
    /// nothing) and a result for the caller. When `body` throws, nothing is written. `body` must
    /// not call the store for the same key: it would wait for its own lock.
    ///
    /// - Returns: The result `body` returned.
    /// - Throws: what `body` throws, or the store's errors.
    func update<Result: Sendable>(
        _ key: TokenKey,
        _ body: (StoredCredential?) async throws -> (StoredCredential?, Result)
    ) async throws -> Result

    /// Whether ``update(_:_:)`` holds a lock that other users of the same store respect.
    var coordinatesUpdates: Bool { get }

    /// Throws when a credential could not be saved under `key` now (a read-only or full disk, a
    /// folder without write permission), without changing anything.
    ///
    /// Providers call it before they spend something that works once (an authorization code, a
    /// one-time password, a rotating refresh token), so they never obtain a credential the store
    /// cannot keep. The default does nothing.
    ///
    /// - Throws: ``AuthError/Code/storeFailure``.
    func checkWritable(_ key: TokenKey) async throws
}

extension TokenStore {
    /// Loads, runs `body`, then saves or removes: correct for a store that one process uses,
    /// with no lock between the read and the write.
    public func update<Result: Sendable>(
        _ key: TokenKey,
        _ body: (StoredCredential?) async throws -> (StoredCredential?, Result)
    ) async throws -> Result {
        let current = try await load(key)
        let (next, result) = try await body(current)
        try await commit(next, replacing: current, for: key)
        return result
    }

    /// `false`: the default ``update(_:_:)`` takes no lock.
    public var coordinatesUpdates: Bool { false }

    /// Does nothing: a store that can tell ahead of time overrides it.
    public func checkWritable(_ key: TokenKey) async throws {}

    /// Reads, transforms and writes one credential (see ``update(_:_:)``); `transform` returns
    /// the credential to keep, or `nil` to remove it.
    ///
    /// - Returns: What `transform` returned.
    @discardableResult
    public func update(
        _ key: TokenKey,
        _ transform: (StoredCredential?) async throws -> StoredCredential?
    ) async throws -> StoredCredential? {
        try await update(key) { current in
            let next = try await transform(current)
            return (next, next)
        }
    }

    /// Writes `next` where `current` was read: saves a changed credential, removes one that
    /// became `nil`, and writes nothing when nothing changed.
    package func commit(_ next: StoredCredential?, replacing current: StoredCredential?, for key: TokenKey) async throws {
        if let next {
            if next != current { try await save(next, for: key) }
        } else if current != nil {
            try await remove(key)
        }
    }
}

/// Names one credential in a ``TokenStore``: a provider and an account.
///
/// Both parts are normalised to Unicode NFC, so "Zoë" typed with a combining diaeresis and with a
/// precomposed one is the same key in memory, on disk and in a database.
///
/// ```swift
/// let key = TokenKey(provider: "profix", account: "customer-42")
/// ```
public struct TokenKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The provider (`"profit"`, `"profix"`, `"economic"`), in NFC.
    public let provider: String
    /// The account, tenant or user the credential belongs to, in NFC.
    public let account: String

    /// Creates a key, normalising both parts to NFC.
    public init(provider: String, account: String) {
        self.provider = provider.precomposedStringWithCanonicalMapping
        self.account = account.precomposedStringWithCanonicalMapping
    }

    private enum CodingKeys: String, CodingKey { case provider, account }

    /// Decodes a key, normalising both parts to NFC.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(provider: try container.decode(String.self, forKey: .provider),
                  account: try container.decode(String.self, forKey: .account))
    }

    /// `provider/account`.
    public var description: String { "\(provider)/\(account)" }

    /// The longest ``fileName`` before the readable part is cut and a hash added.
    static let maximumReadableFileName = 120

    /// A file name that is unique for the key and safe on every file system, including
    /// case-insensitive ones: lowercase ASCII letters, digits, `-` and `_` stay; every other byte
    /// (capital letters too) becomes `.xx` (lowercase hex). A name that would be longer than 120
    /// bytes keeps its first 80 and adds `~` and the SHA-256 of the key, so a key of any length
    /// has a file name (and temporary and lock names) well under the 255-byte limit.
    public var fileName: String {
        let readable = Self.encode(provider) + "+" + Self.encode(account)
        guard readable.utf8.count > Self.maximumReadableFileName else { return readable + ".json" }
        let digest = SHA256.hex(Array(provider.utf8) + [0] + Array(account.utf8))
        // `readable` is ASCII, so any byte prefix of it is whole characters.
        return String(decoding: readable.utf8.prefix(80), as: UTF8.self) + "~" + digest + ".json"
    }

    /// The name an earlier version used (capital letters kept, uppercase hex): read when the
    /// current name does not exist yet, so existing stores keep working.
    var legacyFileName: String {
        func encode(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    out.append(Character(Unicode.Scalar(byte)))
                default:
                    out += "." + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
            return out
        }
        return encode(provider) + "+" + encode(account) + ".json"
    }

    private static func encode(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "."), digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A credential as it is stored: the tokens, when the access token expires, and non-secret
/// attributes a provider needs to use it again.
public struct StoredCredential: Sendable, Equatable, Codable {
    /// The token sent with requests (an OAuth access token, an AFAS token, an e-conomic grant).
    public var accessToken: Secret
    /// The token that obtains a new access token, if the service issues one.
    public var refreshToken: Secret?
    /// When the access token stops working; `nil` when it does not expire by itself.
    public var expiresAt: Date?
    /// When the credential was obtained.
    public var issuedAt: Date?
    /// Non-secret facts the provider keeps with the credential (grant type, user id, ...).
    public var attributes: [String: String]

    /// Creates a credential.
    public init(accessToken: Secret, refreshToken: Secret? = nil, expiresAt: Date? = nil, issuedAt: Date? = nil, attributes: [String: String] = [:]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.attributes = attributes
    }
}

extension StoredCredential {
    /// The attribute that marks a credential whose refresh the service refused (its value is the
    /// time of the refusal, ISO 8601). A provider that loads a marked credential starts in
    /// "re-authorization required" instead of presenting the dead refresh token again; the
    /// tokens stay for inspection until a new grant replaces them.
    public static let refreshRefusedAttribute = "refresh_refused_at"

    /// Whether the service refused to refresh this credential: an app must authorize again.
    public var refreshRefused: Bool { attributes[Self.refreshRefusedAttribute] != nil }

    /// A copy marked as refused at `date`.
    package func markedRefused(at date: Date) -> StoredCredential {
        var copy = self
        copy.attributes[Self.refreshRefusedAttribute] = ISO8601DateFormatter().string(from: date)
        return copy
    }
}

extension StoredCredential: CustomStringConvertible {
    /// Says which parts are present, never their values.
    public var description: String {
        "StoredCredential(accessToken: <redacted>, refreshToken: \(refreshToken == nil ? "none" : "<redacted>"), expiresAt: \(expiresAt.map { "\($0)" } ?? "never"))"
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

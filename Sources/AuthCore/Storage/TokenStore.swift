public import Foundation

/// Where providers keep credentials between runs.
///
/// The SDK ships ``InMemoryTokenStore`` and ``FileTokenStore``; an app that keeps credentials in
/// a database or a secrets manager implements these three methods.
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
}

/// Names one credential in a ``TokenStore``: a provider and an account.
///
/// ```swift
/// let key = TokenKey(provider: "profix", account: "customer-42")
/// ```
public struct TokenKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The provider (`"profit"`, `"profix"`, `"economic"`).
    public let provider: String
    /// The account, tenant or user the credential belongs to.
    public let account: String

    /// Creates a key.
    public init(provider: String, account: String) {
        self.provider = provider
        self.account = account
    }

    /// `provider/account`.
    public var description: String { "\(provider)/\(account)" }

    /// A file name that is unique for the key and safe on every file system: letters, digits,
    /// `-` and `_` stay, every other byte becomes `.XX` (hex).
    public var fileName: String {
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

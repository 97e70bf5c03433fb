public import AuthCore
package import HTTPTypes
import Foundation

/// An AFAS Profit app-connector token, validated and ready to send.
///
/// Profit issues a token as a small XML document,
/// `<token><version>1</version><data>…64 hex digits…</data></token>`; many apps keep only the 64
/// hex digits. Both forms are accepted (surrounding whitespace and the trailing CR/LF Profit adds
/// are trimmed) and normalised to the full XML form. The `Authorization` header value
/// `AfasToken <Base64 of the XML's UTF-8 bytes>` is encoded once, here.
///
/// The value redacts itself: `description`, `debugDescription` and `dump` show `<redacted>`.
///
/// ```swift
/// let token = try ProfitToken("<token><version>1</version><data>D5A1…</data></token>")
/// request.headers[.authorization] = token.authorizationValue.revealed
/// ```
public struct ProfitToken: Sendable, Equatable {
    /// The token's format version (1 today).
    public let version: Int
    /// The token as the full XML document, for storage or the legacy SOAP `<token>` element.
    public let xml: Secret
    /// The `Authorization` header value: `AfasToken <Base64 of the UTF-8 bytes of` ``xml`` `>`.
    public var authorizationValue: Secret { Secret(authorizationField.value) }
    /// ``authorizationValue`` as a prepared credential field (validated once, not per request).
    let authorizationField: HTTPField

    /// Validates a token given as the full XML document or as its 64 hex digits.
    ///
    /// The hex digits are upper-cased.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidCredentialFormat`` when the text is
    ///   neither form (the message never contains the text).
    public init(_ text: String) throws(AuthError) {
        guard let (version, data) = Self.parse(text) else {
            throw AuthError(.invalidCredentialFormat, provider: ProfitProvider.providerName,
                            message: "an AFAS token is <token><version>N</version><data>64 hex digits</data></token> or just the 64 hex digits")
        }
        let canonical = "<token><version>\(version)</version><data>\(data)</data></token>"
        self.version = version
        // A token read back from a store is usually the canonical text already: keep that string
        // (shared with the stored credential) rather than a second copy of it.
        self.xml = Secret(text == canonical ? text : canonical)
        self.authorizationField = HTTPField.credential(.authorization, Self.scheme + Data(canonical.utf8).base64EncodedString())
    }

    /// The token behind a field this type prepared (`AfasToken <Base64 of the canonical XML>`),
    /// read back from the field rather than from the stored text; `nil` for any other field.
    init?(preparedField field: HTTPField) {
        guard field.name == .authorization, field.value.hasPrefix(Self.scheme),
              let data = Data(base64Encoded: String(field.value.dropFirst(Self.scheme.count))) else { return nil }
        let xml = String(decoding: data, as: UTF8.self)
        guard let (version, _) = Self.parse(xml) else { return nil }
        self.version = version
        self.xml = Secret(xml)
        self.authorizationField = field
    }

    /// What the `Authorization` value starts with, before the Base64 of the XML.
    static let scheme = "AfasToken "

    /// The version and upper-cased data of a token text, or `nil`.
    static func parse(_ text: String) -> (Int, String)? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if isHex64(Substring(trimmed)) { return (1, trimmed.uppercased()) }
        var rest = Substring(trimmed)
        guard consume("<token>", from: &rest),
              consume("<version>", from: &rest),
              let version = take(until: "</version>", from: &rest),
              let versionNumber = Int(version.trimmingCharacters(in: .whitespacesAndNewlines)),
              versionNumber >= 0, versionNumber < 10_000,
              version.trimmingCharacters(in: .whitespacesAndNewlines).allSatisfy(\.isASCII),
              consume("<data>", from: &rest),
              let data = take(until: "</data>", from: &rest),
              consume("</token>", from: &rest),
              rest.allSatisfy(\.isWhitespace) else { return nil }
        let hex = data.trimmingCharacters(in: .whitespacesAndNewlines)
        guard isHex64(Substring(hex)) else { return nil }
        return (versionNumber, hex.uppercased())
    }

    private static func isHex64(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"):
                return true
            default:
                return false
            }
        }
    }

    /// Skips whitespace, then `tag`; `false` when `tag` is not next.
    private static func consume(_ tag: String, from rest: inout Substring) -> Bool {
        rest = rest.drop(while: \.isWhitespace)
        guard rest.hasPrefix(tag) else { return false }
        rest = rest.dropFirst(tag.count)
        return true
    }

    /// The text before `end` (which is consumed); `nil` when `end` is missing or markup comes first.
    private static func take(until end: String, from rest: inout Substring) -> String? {
        guard let range = rest.range(of: end) else { return nil }
        let text = rest[..<range.lowerBound]
        guard !text.contains("<") else { return nil }
        rest = rest[range.upperBound...]
        return String(text)
    }
}

extension ProfitToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always `ProfitToken(<redacted>)`.
    public var description: String { "ProfitToken(<redacted>)" }
    /// Always `ProfitToken(<redacted>)`.
    public var debugDescription: String { "ProfitToken(<redacted>)" }
    /// A mirror with no children.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension ProfitToken: PreparedCredential {
    /// `Authorization: AfasToken <base64 of the XML token>`.
    package var header: HTTPField { authorizationField }
}

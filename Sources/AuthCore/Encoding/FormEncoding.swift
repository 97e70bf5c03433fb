package import Foundation

/// `application/x-www-form-urlencoded` bodies and URL query components.
///
/// Encoding is strict: every byte except the unreserved characters `A–Z a–z 0–9 - . _ ~` is
/// percent-encoded (so `!`, `+`, `%`, `&`, `=` and spaces in codes and secrets survive), except
/// that a form body writes a space as `+`. Decoding is lenient.
package enum FormEncoding {
    /// Encodes name/value pairs as a form body, in order.
    package static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { encodeComponent($0.0, spaceAsPlus: true) + "=" + encodeComponent($0.1, spaceAsPlus: true) }
            .joined(separator: "&")
    }

    /// Encodes name/value pairs as form body bytes.
    package static func body(_ pairs: [(String, String)]) -> Data {
        Data(encode(pairs).utf8)
    }

    /// Decodes a form body: `+` is a space and `%XX` a byte. Pairs without `=` get an empty value.
    package static func decode(_ text: String) -> [(String, String)] {
        decodePairs(text, plusIsSpace: true)
    }

    /// Percent-encodes one query or form component.
    ///
    /// - Parameter spaceAsPlus: write a space as `+` (form bodies) instead of `%20`.
    package static func encodeComponent(_ text: String, spaceAsPlus: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " ") where spaceAsPlus:
                out += "+"
            default:
                out += "%" + hexDigit(byte >> 4) + hexDigit(byte & 0x0F)
            }
        }
        return out
    }

    /// Decodes `%XX` escapes (and `+` as a space when `plusIsSpace`); returns `nil` for a broken
    /// escape or bytes that are not UTF-8.
    package static func decodeComponent(_ text: String, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The query of `url` as decoded pairs, in order. `+` stays a `+` (RFC 3986), because codes
    /// and tokens may hold one; `%2B` and `%20` decode as usual. Broken escapes keep the raw text.
    package static func queryItems(of url: URL) -> [(String, String)] {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
              let query = components.percentEncodedQuery else { return [] }
        return decodePairs(query, plusIsSpace: false)
    }

    static func decodePairs(_ text: String, plusIsSpace: Bool) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pieces[0])
            let value = pieces.count > 1 ? String(pieces[1]) : ""
            return (decodeComponent(name, plusIsSpace: plusIsSpace) ?? name,
                    decodeComponent(value, plusIsSpace: plusIsSpace) ?? value)
        }
    }

    private static func hexDigit(_ value: UInt8) -> String {
        String(UnicodeScalar(value < 10 ? value + 48 : value + 55))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - 48
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - 55
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - 87
        default: return nil
        }
    }
}

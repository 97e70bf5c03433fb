/// The cookies of one SOAP session: name/value pairs, replayed as one `Cookie` header.
///
/// `Set-Cookie` may reach us as separate header fields or, from some transports (URLSession on
/// Linux), joined into one field with commas, although `Expires` dates hold commas too. The
/// parser splits on commas only where the next piece starts a new `name=value` pair, and keeps
/// only the pairs: attributes (`Path`, `Expires`, `HttpOnly`, ...) are not replayed.
struct EconomicCookies: Sendable, Equatable {
    private(set) var pairs: [(name: String, value: String)] = []

    static func == (lhs: EconomicCookies, rhs: EconomicCookies) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    var isEmpty: Bool { pairs.isEmpty }

    /// The `Cookie` header value: `a=1; b=2`.
    var headerValue: String { pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "; ") }

    func value(of name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Adds or replaces the cookies set by `setCookieValues` (each a `Set-Cookie` field value).
    mutating func absorb(_ setCookieValues: [String]) {
        for cookie in setCookieValues.flatMap(Self.split) {
            guard let pair = Self.pair(of: cookie) else { continue }
            if let index = pairs.firstIndex(where: { $0.name == pair.name }) {
                pairs[index] = pair
            } else {
                pairs.append(pair)
            }
        }
    }

    /// Splits one field value into cookie strings, rejoining commas that belong to attributes.
    ///
    /// Like the rest of this parser it works on Unicode scalars, not `Character`s: a delimiter
    /// followed by a combining mark is still a delimiter (HTTP fields are bytes, not text).
    static func split(_ value: String) -> [String] {
        var cookies: [String] = []
        for piece in value.unicodeScalars.split(separator: ",", omittingEmptySubsequences: false) {
            let text = String(piece)
            if startsCookie(text) || cookies.isEmpty {
                cookies.append(text)
            } else {
                cookies[cookies.count - 1] += "," + text
            }
        }
        return cookies
    }

    /// Whether `text` begins with `name=` where `name` is a token (no spaces, no separators).
    static func startsCookie(_ text: String) -> Bool {
        let head = Self.head(of: text)
        guard let equals = head.firstIndex(of: "=") else { return false }
        return isToken(trimmed(head[..<equals]))
    }

    /// The `name=value` pair at the start of one cookie string, when well formed.
    static func pair(of cookie: String) -> (name: String, value: String)? {
        let head = Self.head(of: cookie)
        guard let equals = head.firstIndex(of: "=") else { return nil }
        let name = trimmed(head[..<equals])
        let value = trimmed(head[head.index(after: equals)...])
        guard isToken(name), !value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == ";" || $0 == "," }) else {
            return nil
        }
        return (name, value)
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
        }
    }
}

extension EconomicCookies {
    /// The scalars before the first `;` (the `name=value` part of a cookie string).
    static func head(of cookie: String) -> Substring.UnicodeScalarView {
        let scalars = Substring(cookie).unicodeScalars
        return scalars.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? scalars
    }

    /// `scalars` without leading and trailing white-space scalars.
    static func trimmed(_ scalars: Substring.UnicodeScalarView) -> String {
        var view = scalars
        while let first = view.first, first.properties.isWhitespace { view.removeFirst() }
        while let last = view.last, last.properties.isWhitespace { view.removeLast() }
        return String(view)
    }
}

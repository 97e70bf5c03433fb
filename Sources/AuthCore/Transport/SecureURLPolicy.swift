public import Foundation
public import HTTPTypes

/// The rule that decides where credentials may be sent.
///
/// Credentials go only to `https` URLs, or to `http` URLs whose host is loopback
/// (`localhost`, `127.0.0.0/8`, `::1`) so tests and local sandboxes work. Everything else is
/// refused with ``AuthError/Code/insecureURL`` before a byte is sent.
public enum SecureURLPolicy {
    /// Throws unless `url` may carry credentials.
    ///
    /// - Throws: ``AuthError`` with code ``AuthError/Code/insecureURL``.
    public static func check(_ url: URL, provider: String? = nil) throws(AuthError) {
        guard allows(url) else { throw AuthError.insecureURL(URLDescription(url), provider: provider) }
    }

    /// Throws unless `request`'s URL may carry credentials (a request without a URL may not).
    ///
    /// - Throws: ``AuthError/Code/insecureURL``.
    public static func check(_ request: HTTPRequest, provider: String? = nil) throws(AuthError) {
        // The common case, `https` to a plain host name, decided from the fields without building
        // a URL (this runs on every request); everything else takes the full check below.
        if isPlainHTTPS(request) { return }
        guard let url = request.url else {
            throw AuthError(.insecureURL, provider: provider, message: "credentials go only to a request with an https (or loopback http) URL")
        }
        try check(url, provider: provider)
    }

    /// Whether `request` goes to `https` (lowercase, as swift-http-types writes it) at an
    /// authority made only of host-name characters (letters, digits, `.`, `-`, `_`, and a
    /// `:port`); such a request always has a URL, and `https` may carry credentials.
    static func isPlainHTTPS(_ request: HTTPRequest) -> Bool {
        guard request.scheme == "https", let authority = request.authority, hasPlainPath(request) else { return false }
        return authority.utf8.withContiguousStorageIfAvailable(isPlainAuthority) ?? false
    }

    /// Whether `request`'s path cannot move its URL elsewhere: no path, an empty one, or one that
    /// starts with `/`. Transports join scheme, authority and path into one URL, so a path such as
    /// `.evil.example/x` or `@evil.example/x` would change the host the request goes to; such a
    /// request takes the full checks, which read the host from that URL.
    package static func hasPlainPath(_ request: HTTPRequest) -> Bool {
        guard let path = request.path, let first = path.utf8.first else { return true }
        return first == UInt8(ascii: "/")
    }

    private static func isPlainAuthority(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first, first != UInt8(ascii: ":") else { return false }
        var colons = 0
        for byte in bytes where !isHostNameByte(byte) {
            guard byte == UInt8(ascii: ":") else { return false }
            colons += 1
            if colons > 1 { return false }
        }
        return true
    }

    /// A byte of a plain host name: an ASCII letter or digit, `.`, `-` or `_`.
    static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }

    /// Whether `url` may carry credentials.
    public static func allows(_ url: URL) -> Bool {
        // Fast path for the common case: an absolute `https://host…` URL (the scheme is what the
        // string starts with). Everything else takes the full check below.
        if let verdict = httpsPrefixVerdict(url.absoluteString) { return verdict }
        guard let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else { return false }
        switch scheme {
        case "https": return true
        case "http": return isLoopback(host: host)
        default: return false
        }
    }

    /// `true` for `https://` followed by an authority (not `/`, `?`, `#` or the end); `nil` when
    /// the string does not start with `https://` and the full check must decide.
    private static func httpsPrefixVerdict(_ text: String) -> Bool? {
        var iterator = text.utf8.makeIterator()
        for expected in "https://".utf8 {
            guard let byte = iterator.next() else { return nil }
            let lower = (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
            guard lower == expected else { return nil }
        }
        guard let first = iterator.next(), first != UInt8(ascii: "/"), first != UInt8(ascii: "?"), first != UInt8(ascii: "#") else {
            return false
        }
        return true
    }

    /// Whether `host` names this machine: `localhost`, an IPv4 address in `127.0.0.0/8`, or `::1`.
    public static func isLoopback(host rawHost: String) -> Bool {
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        if host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        var values: [Int] = []
        for octet in octets {
            // Canonical decimal only: `08` or `010` are read as names or octal by resolvers.
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let value = Int(octet),
                  (0...255).contains(value), String(value) == octet else {
                return false
            }
            values.append(value)
        }
        return values[0] == 127
    }
}

extension URLDescription {
    /// Reduces `url` to scheme, host, port and path; query, fragment and user info are dropped.
    public init(_ url: URL) {
        var text = (url.scheme ?? "?") + "://" + (url.host ?? "")
        if let port = url.port { text += ":\(port)" }
        text += url.path
        self.text = text
    }
}

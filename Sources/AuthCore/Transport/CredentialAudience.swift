public import Foundation
public import HTTPTypes

/// The hosts a provider sends its credentials to, and no others.
///
/// Every provider builds one from the base URLs it is configured with (a Profix-it region, an AFAS
/// environment, e-conomic's API hosts) plus any host the app adds explicitly, and refuses to
/// authorize a request for any other host with ``AuthError/Code/untrustedHost`` before anything
/// is sent. A bearer token pasted into the wrong URL, or a link a server returned, never carries
/// the credential elsewhere.
///
/// ```swift
/// var audience = CredentialAudience(urls: [URL(string: "https://api.profix-it.nl")!])
/// audience.insert("files.profix-it.nl")
/// audience.allows(URL(string: "https://api.profix-it.nl/api/v1/items")!)   // true
/// audience.allows(URL(string: "https://example.com/")!)                     // false
/// ```
///
/// Hosts compare without case, without a trailing dot and without IPv6 brackets; the port and the
/// scheme are not part of the audience (``SecureURLPolicy`` decides the scheme).
public struct CredentialAudience: Sendable, Hashable, CustomStringConvertible {
    /// The allowed hosts, normalised.
    public private(set) var hosts: Set<String>

    /// The hosts that are plain names (letters, digits, `.`, `-`, `_`), in an array: the request
    /// path walks it (walking a set costs more). Other hosts (IPv6 literals) take the full check.
    private var list: [String]

    /// An audience of the given host names.
    public init(hosts: [String]) {
        self.hosts = Set(hosts.compactMap(Self.normalized))
        self.list = Array(self.hosts).filter(Self.isPlainName)
    }

    /// An audience of the hosts of `urls` (URLs without a host add nothing).
    public init(urls: [URL]) {
        self.init(hosts: urls.compactMap(\.host))
    }

    /// Adds a host.
    public mutating func insert(_ host: String) {
        if let host = Self.normalized(host), hosts.insert(host).inserted, Self.isPlainName(host) { list.append(host) }
    }

    /// Whether credentials may go to `url`'s host.
    public func allows(_ url: URL) -> Bool {
        guard let host = url.host, let normalized = Self.normalized(host) else { return false }
        return hosts.contains(normalized)
    }

    /// Throws unless credentials may go to `url`'s host.
    ///
    /// - Throws: ``AuthError/Code/untrustedHost``.
    public func check(_ url: URL, provider: String?) throws(AuthError) {
        guard allows(url) else {
            throw AuthError(.untrustedHost, provider: provider,
                            message: "\(URLDescription(url).text) is not a host this provider sends credentials to; add it to the provider's configuration (additionalHosts) if it should be")
        }
    }

    /// Throws unless credentials may go to `request`'s host.
    ///
    /// - Throws: ``AuthError/Code/untrustedHost``.
    public func check(_ request: HTTPRequest, provider: String?) throws(AuthError) {
        // The common case without building a URL: the authority's host is one of ours.
        if let authority = request.authority, contains(hostOf: authority), SecureURLPolicy.hasPlainPath(request) { return }
        guard let url = request.url else {
            throw AuthError(.untrustedHost, provider: provider, message: "the request has no host this provider sends credentials to")
        }
        try check(url, provider: provider)
    }

    /// Equal when the hosts are.
    public static func == (lhs: CredentialAudience, rhs: CredentialAudience) -> Bool { lhs.hosts == rhs.hosts }

    /// Hashes the hosts.
    public func hash(into hasher: inout Hasher) { hasher.combine(hosts) }

    /// The hosts, sorted.
    public var description: String { "CredentialAudience(\(hosts.sorted().joined(separator: ", ")))" }

    /// Whether the host of `authority` (`host`, `host:port`, `host.`) is in ``hosts``, compared
    /// without allocating; `false` sends the caller to the full check.
    func contains(hostOf authority: String) -> Bool {
        authority.utf8.withContiguousStorageIfAvailable(contains(hostOf:)) ?? false
    }

    /// Only a plain authority counts: one of the listed names, in any case, with trailing dots,
    /// and at most a `:` and a decimal port after it. In `api.example.com:1@evil.example.com` the
    /// host is `evil.example.com`, not what precedes the colon, so such an authority is left to
    /// the full check, which reads the host from a URL. One pass over the bytes per listed name,
    /// without allocating.
    func contains(hostOf bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for candidate in list {
            let matched = candidate.utf8.withContiguousStorageIfAvailable { host -> Bool in
                guard host.count <= bytes.count, let hostBase = host.baseAddress, let base = bytes.baseAddress else { return false }
                // Bytes as they are first (the common, lower-case case), then ignoring case.
                if memcmp(hostBase, base, host.count) != 0 {
                    for index in 0..<host.count where host[index] != Self.lowercased(bytes[index]) { return false }
                }
                return Self.isPortSuffix(bytes, from: host.count)
            }
            if matched == true { return true }
        }
        return false
    }

    /// Whether `bytes` from `start` on are trailing dots and then nothing, or `:` and digits.
    static func isPortSuffix(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        var index = start
        while index < bytes.count, bytes[index] == UInt8(ascii: ".") { index += 1 }
        guard index < bytes.count else { return true }
        guard bytes[index] == UInt8(ascii: ":") else { return false }
        index += 1
        while index < bytes.count {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return false }
            index += 1
        }
        return true
    }

    /// Whether a normalised (lower-case) host is a plain name (no IPv6 literal, nothing a URL
    /// reads otherwise).
    static func isPlainName(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.allSatisfy(SecureURLPolicy.isHostNameByte)
    }

    /// The request path's two checks at once: `request` may carry credentials
    /// (``SecureURLPolicy``) and goes to one of ``hosts``. The common case (`https` to a plain
    /// host name of the list) reads the authority once; anything else takes both full checks, in
    /// that order, with their errors.
    ///
    /// - Throws: ``AuthError/Code/insecureURL`` or ``AuthError/Code/untrustedHost``.
    package func checkRequest(_ request: HTTPRequest, provider: String) throws(AuthError) {
        if request.scheme == "https", let authority = request.authority, contains(hostOf: authority), SecureURLPolicy.hasPlainPath(request) {
            return
        }
        try SecureURLPolicy.check(request, provider: provider)
        try check(request, provider: provider)
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    static func normalized(_ host: String) -> String? {
        var text = host.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        while text.hasSuffix(".") { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}

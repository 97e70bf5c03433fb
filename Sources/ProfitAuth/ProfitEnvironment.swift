public import Foundation
public import AuthCore
import HTTPTypes
internal import AuthRuntime

/// Where one AFAS Profit environment answers: the REST and SOAP base URLs.
///
/// AFAS Online environments are addressed by their five-digit number and a ``Kind``
/// (production, test, accept, training); a local installation by the base URLs its
/// administrator gives.
///
/// ```swift
/// let online = try ProfitEnvironment(number: "O12345AA", kind: .test)
/// online.restBaseURL   // https://12345.resttest.afas.online/ProfitRestServices
/// let local = try ProfitEnvironment(
///     restBaseURL: URL(string: "https://profit.example.com/ProfitRestServices")!,
///     soapBaseURL: URL(string: "https://profit.example.com/profitservices")!
/// )
/// ```
public struct ProfitEnvironment: Sendable, Hashable, CustomStringConvertible {
    /// The kind of an AFAS Online environment.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        /// The name (`"production"`, `"test"`, ...).
        public let name: String
        let restHostSuffix: String
        let soapHostSuffix: String?

        /// The production environment: `{id}.rest.afas.online` and `{id}.soap.afas.online`.
        public static let production = Kind(name: "production", restHostSuffix: "rest", soapHostSuffix: "soap")
        /// The test environment: `{id}.resttest.afas.online` and `{id}.soaptest.afas.online`.
        public static let test = Kind(name: "test", restHostSuffix: "resttest", soapHostSuffix: "soaptest")
        /// The acceptance environment: `{id}.restaccept.afas.online` and `{id}.soapaccept.afas.online`.
        public static let accept = Kind(name: "accept", restHostSuffix: "restaccept", soapHostSuffix: "soapaccept")
        /// The training environment: `{id}.restcursus.afas.online`; it has no SOAP host.
        public static let training = Kind(name: "training", restHostSuffix: "restcursus", soapHostSuffix: nil)

        /// The kinds above, for parsing a name.
        public static let all: [Kind] = [.production, .test, .accept, .training]

        /// The kind named `name` (case-insensitive), or `nil`.
        public init?(named name: String) {
            guard let kind = Self.all.first(where: { $0.name == name.lowercased() }) else { return nil }
            self = kind
        }

        init(name: String, restHostSuffix: String, soapHostSuffix: String?) {
            self.name = name
            self.restHostSuffix = restHostSuffix
            self.soapHostSuffix = soapHostSuffix
        }

        public var description: String { name }
    }

    /// The five-digit environment number, for AFAS Online environments; `nil` for a local installation.
    public let number: String?
    /// The kind, for AFAS Online environments; `nil` for a local installation.
    public let kind: Kind?
    /// The REST base, ending in `ProfitRestServices` for AFAS Online.
    public let restBaseURL: URL
    /// The SOAP base (ending in `profitservices` for AFAS Online), or `nil` when the environment
    /// has none (training) or none was given.
    public let soapBaseURL: URL?
    /// The hosts of both bases, made once here so that every provider of the environment shares
    /// them (a provider with additional hosts makes its own copy).
    let audience: CredentialAudience

    /// An AFAS Online environment.
    ///
    /// - Parameters:
    ///   - number: `12345`, or a code such as `O12345AA` whose digits are the number.
    ///   - kind: Production (default), test, accept or training.
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` when `number` is not a
    ///   five-digit number or such a code.
    public init(number: String, kind: Kind = .production) throws(AuthError) {
        guard let digits = Self.environmentDigits(number) else {
            throw AuthError(.invalidConfiguration, provider: ProfitProvider.providerName,
                            message: "an AFAS environment number is five digits, such as 12345 or O12345AA")
        }
        guard let rest = URL(string: "https://\(digits).\(kind.restHostSuffix).afas.online/ProfitRestServices") else {
            throw AuthError(.invalidConfiguration, provider: ProfitProvider.providerName, message: "cannot build the REST URL")
        }
        self.number = digits
        self.kind = kind
        self.restBaseURL = rest
        self.soapBaseURL = kind.soapHostSuffix.flatMap { URL(string: "https://\(digits).\($0).afas.online/profitservices") }
        self.audience = Self.audience(rest: restBaseURL, soap: soapBaseURL)
    }

    /// A local installation (or a test server) with the base URLs its administrator gives.
    ///
    /// - Parameters:
    ///   - restBaseURL: The REST base, such as `https://profit.example.com/ProfitRestServices`.
    ///   - soapBaseURL: The SOAP base, such as `https://profit.example.com/profitservices`.
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` for a URL with a query,
    ///   fragment or user info, or ``AuthError/Code/insecureURL`` for one that is neither `https`
    ///   nor loopback `http`.
    public init(restBaseURL: URL, soapBaseURL: URL? = nil) throws(AuthError) {
        try Self.validateBase(restBaseURL)
        if let soapBaseURL { try Self.validateBase(soapBaseURL) }
        self.number = nil
        self.kind = nil
        self.restBaseURL = restBaseURL
        self.soapBaseURL = soapBaseURL
        self.audience = Self.audience(rest: restBaseURL, soap: soapBaseURL)
    }

    private static func audience(rest: URL, soap: URL?) -> CredentialAudience {
        CredentialAudience(urls: [rest] + (soap.map { [$0] } ?? []))
    }

    /// The URL of a REST path such as `"connectors/Profit_Debtors?skip=0&take=10"` or `"OtpRequest"`.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` for an absolute URL or
    ///   text that is not a valid URL path.
    public func restURL(_ path: String) throws(AuthError) -> URL {
        try Self.join(restBaseURL, path)
    }

    /// The URL of a SOAP service such as `"tokenconnector.asmx"`.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` when the environment has
    ///   no SOAP base URL.
    public func soapURL(_ service: String) throws(AuthError) -> URL {
        guard let soapBaseURL else {
            throw AuthError(.invalidConfiguration, provider: ProfitProvider.providerName,
                            message: "this environment has no SOAP base URL")
        }
        return try Self.join(soapBaseURL, service)
    }

    public var description: String {
        if let number, let kind { return "AFAS Online \(number) (\(kind))" }
        return "Profit at \(URLDescription(restBaseURL).text)"
    }

    /// The five digits of `text` when it is `12345` or a code like `O12345AA`.
    static func environmentDigits(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let scalars = Array(trimmed.unicodeScalars)
        guard (5...8).contains(scalars.count), scalars.allSatisfy(\.isASCII) else { return nil }
        let letters = CharacterSet.letters
        var index = 0
        if index < scalars.count, letters.contains(scalars[index]) { index += 1 }
        let digitStart = index
        while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
        guard index - digitStart == 5 else { return nil }
        let digits = String(String.UnicodeScalarView(scalars[digitStart..<index]))
        let suffix = scalars[index...]
        guard suffix.count <= 2, suffix.allSatisfy({ letters.contains($0) }) else { return nil }
        return digits
    }

    static func validateBase(_ url: URL) throws(AuthError) {
        guard let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = url.host, !host.isEmpty,
              url.query == nil, url.fragment == nil, url.user == nil, url.password == nil else {
            throw AuthError(.invalidConfiguration, provider: ProfitProvider.providerName,
                            message: "a Profit base URL is http(s)://host[/path] without query, fragment or user info")
        }
        try SecureURLPolicy.check(url, provider: ProfitProvider.providerName)
    }

    static func join(_ base: URL, _ path: String) throws(AuthError) -> URL {
        try URL.joining(base, path, provider: ProfitProvider.providerName, failureCode: .invalidConfiguration)
    }
}

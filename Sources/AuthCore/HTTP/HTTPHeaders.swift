/// An ordered list of HTTP header fields with case-insensitive names.
///
/// Names compare without regard to ASCII case (`Authorization` and `authorization` are one
/// name), a name may appear several times (`Set-Cookie`), and fields keep the order in which they
/// were added, so what goes on the wire is what was built.
///
/// ```swift
/// var headers = HTTPHeaders()
/// headers[.contentType] = "application/json"
/// headers.add(.setCookie, "a=1")
/// headers.add("set-cookie", "b=2")
/// headers.values(for: .setCookie)   // ["a=1", "b=2"]
/// ```
public struct HTTPHeaders: Sendable, Equatable, Hashable {
    /// A header name that compares case-insensitively.
    public struct Name: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The name as written.
        public let rawName: String
        /// The lower-cased form used for comparison.
        public let canonicalName: String

        /// Creates a name.
        public init(_ name: String) {
            self.rawName = name
            self.canonicalName = Self.asciiLowercased(name)
        }

        /// Creates a name from a literal such as `"Authorization"`.
        public init(stringLiteral value: String) { self.init(value) }

        /// The name as written.
        public var description: String { rawName }

        /// Names are equal when they match without regard to ASCII case.
        public static func == (lhs: Name, rhs: Name) -> Bool { lhs.canonicalName == rhs.canonicalName }
        /// Hashes the lower-cased name.
        public func hash(into hasher: inout Hasher) { hasher.combine(canonicalName) }

        static func asciiLowercased(_ text: String) -> String {
            var bytes = Array(text.utf8)
            for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] += 0x20 }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// Whether the name is a valid HTTP token (RFC 9110 `tchar`s only).
        public var isValid: Bool {
            guard !rawName.isEmpty else { return false }
            return rawName.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
        }

        /// `Accept`.
        public static let accept: Name = "Accept"
        /// `Accept-Language`.
        public static let acceptLanguage: Name = "Accept-Language"
        /// `Authorization`.
        public static let authorization: Name = "Authorization"
        /// `Content-Length`.
        public static let contentLength: Name = "Content-Length"
        /// `Content-Type`.
        public static let contentType: Name = "Content-Type"
        /// `Cookie`.
        public static let cookie: Name = "Cookie"
        /// `Location`.
        public static let location: Name = "Location"
        /// `Retry-After`.
        public static let retryAfter: Name = "Retry-After"
        /// `Set-Cookie`.
        public static let setCookie: Name = "Set-Cookie"
        /// `SOAPAction`.
        public static let soapAction: Name = "SOAPAction"
        /// `User-Agent`.
        public static let userAgent: Name = "User-Agent"
        /// `WWW-Authenticate`.
        public static let wwwAuthenticate: Name = "WWW-Authenticate"
    }

    /// One header field.
    public struct Field: Sendable, Equatable, Hashable {
        /// The field's name.
        public var name: Name
        /// The field's value.
        public var value: String
        /// Creates a field.
        public init(name: Name, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in order.
    public private(set) var fields: [Field]

    /// Creates an empty list.
    public init() { fields = [] }

    /// Creates a list from name/value pairs, keeping their order.
    public init(_ pairs: [(Name, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// The first value for `name`; setting replaces every field of that name with one field
    /// (at the position of the first), and setting `nil` removes them all.
    public subscript(name: Name) -> String? {
        get { fields.first { $0.name == name }?.value }
        set {
            guard let newValue else {
                remove(name)
                return
            }
            if let index = fields.firstIndex(where: { $0.name == name }) {
                fields[index] = Field(name: name, value: newValue)
                var i = fields.index(after: index)
                while i < fields.endIndex {
                    if fields[i].name == name { fields.remove(at: i) } else { i += 1 }
                }
            } else {
                fields.append(Field(name: name, value: newValue))
            }
        }
    }

    /// Every value for `name`, in order.
    public func values(for name: Name) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: Name) -> Bool {
        fields.contains { $0.name == name }
    }

    /// Appends a field, keeping any existing fields of the same name.
    public mutating func add(_ name: Name, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field named `name`.
    public mutating func remove(_ name: Name) {
        fields.removeAll { $0.name == name }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Whether every name is a valid token and no value holds a CR, LF or NUL (which would let a
    /// value inject another header).
    public var isWellFormed: Bool {
        fields.allSatisfy { field in
            field.name.isValid && !field.value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
        }
    }
}

extension HTTPHeaders: Sequence {
    /// Iterates over the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
    /// Creates a list from a literal, keeping its order.
    public init(dictionaryLiteral elements: (Name, String)...) {
        self.init(elements)
    }
}

extension HTTPHeaders: CustomStringConvertible, CustomReflectable {
    /// Headers whose values are credentials and never printed.
    static let credentialNames: Set<Name> = [.authorization, .cookie, .setCookie, "X-AppSecretToken", "X-AgreementGrantToken", "Proxy-Authorization"]

    /// The header names with values of credential-bearing headers redacted.
    public var description: String {
        "[" + fields.map(\.description).joined(separator: ", ") + "]"
    }

    /// What `dump` and debuggers show: the fields, with credential values redacted.
    public var customMirror: Mirror {
        Mirror(self, unlabeledChildren: fields.map(\.description), displayStyle: .collection)
    }
}

extension HTTPHeaders.Field: CustomStringConvertible, CustomReflectable {
    /// `Name: value`, with the value redacted for credential-bearing headers.
    public var description: String {
        "\(name.rawName): \(HTTPHeaders.credentialNames.contains(name) ? "<redacted>" : value)"
    }

    /// What `dump` and debuggers show: ``description``.
    public var customMirror: Mirror {
        Mirror(self, children: ["field": description], displayStyle: .struct)
    }
}

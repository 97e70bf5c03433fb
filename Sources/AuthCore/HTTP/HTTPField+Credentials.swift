public import HTTPTypes

extension HTTPField.Name {
    /// `SOAPAction`: the operation of a SOAP 1.1 request.
    public static let soapAction = known("SOAPAction")
    /// `X-AppSecretToken`: an e-conomic app's own secret token.
    public static let economicAppSecretToken = known("X-AppSecretToken")
    /// `X-AgreementGrantToken`: the token one e-conomic agreement granted an app.
    public static let economicAgreementGrantToken = known("X-AgreementGrantToken")
    /// `IntegrationId`: the AFAS Profit partner integration (`<subscription>_<project>`).
    public static let profitIntegrationId = known("IntegrationId")

    /// Fields whose values are credentials: the SDK marks them never-indexed and never prints them.
    package static let credentialNames: Set<HTTPField.Name> = [
        .authorization, .proxyAuthorization, .cookie, .setCookie, .economicAppSecretToken, .economicAgreementGrantToken,
    ]

    /// A name from a literal that is a valid token (checked by a test). Not input: an invalid
    /// literal is a programming error, and no fallback name could carry a credential safely.
    package static func known(_ name: StaticString) -> HTTPField.Name {
        guard let valid = HTTPField.Name("\(name)") else { preconditionFailure("\(name) is not a valid HTTP field name") }
        return valid
    }
}

extension HTTPFields {
    /// Sets `name` to `value` as a credential: one field, marked to avoid indexing (never indexed) by HTTP/2 and
    /// HTTP/3 header compression (HPACK/QPACK), which is how swift-http-types marks a sensitive
    /// field.
    ///
    /// Values are legalised on the way in, as for every `HTTPField`: a CR, LF or NUL becomes a space,
    /// so a value can never start another header.
    package mutating func setCredential(_ value: String, for name: HTTPField.Name) {
        setCredential(HTTPField.credential(name, value))
    }

    /// Replaces the fields named like `field` with `field`, a credential prepared once with
    /// ``HTTPField/credential(_:_:)`` (no per-request validation of its bytes).
    @inlinable
    package mutating func setCredential(_ field: consuming HTTPField) {
        if contains(where: { $0.name == field.name }) { self[field.name] = nil }
        append(field)   // its last use: moved into the storage, not copied
    }

    /// The fields as `Name: value` lines, with credential values (and any field marked
    /// never-indexed) shown as `<redacted>`: the only way the SDK prints fields.
    package var redactedDescription: String {
        "[" + map { field in
            let hidden = HTTPField.Name.credentialNames.contains(field.name) || field.indexingStrategy == .avoid
            return "\(field.name): \(hidden ? "<redacted>" : field.value)"
        }.joined(separator: ", ") + "]"
    }
}

extension HTTPField {
    /// A credential field, prepared once when the credential is installed: never indexed by
    /// HPACK/QPACK and redacted in the SDK's descriptions.
    package static func credential(_ name: HTTPField.Name, _ value: String) -> HTTPField {
        var field = HTTPField(name: name, value: value)
        field.indexingStrategy = .avoid
        return field
    }
}

/// What a credential is turned into once, when it is installed: at least the header field every
/// request carries (a provider may keep more, such as Profit's XML token for SOAP bodies).
package protocol PreparedCredential: Sendable {
    /// The field the request path adds.
    var header: HTTPField { get }
}

extension HTTPField: PreparedCredential {
    /// The field itself.
    package var header: HTTPField { self }
}

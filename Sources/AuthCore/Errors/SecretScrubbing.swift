import Foundation

/// Keeps known secrets out of text that came from a server.
///
/// A provider runs each operation that sends a secret inside ``withSecrets(_:_:)``; every
/// ``AuthError`` created meanwhile (in that task or in tasks it starts) has the secrets removed
/// from its message, server code and log reference *as it is created*, before the text is cut
/// to length: in the raw form and in the forms a server may echo (percent-encoded, form-encoded,
/// base64, XML-escaped). A `/token` endpoint that echoes the form it was sent therefore never puts
/// a password or client secret into an error, a log line or the CLI's output.
package enum SecretScrubbing {
    @TaskLocal static var secrets: [String] = []

    /// Runs `body` with `secrets` (and those of the enclosing scope) scrubbed from new errors.
    package static func withSecrets<T>(
        _ secrets: [Secret],
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async rethrows -> T {
        var forms = Self.secrets
        for secret in secrets { forms += Self.forms(of: secret.revealed) }
        return try await $secrets.withValue(forms, operation: body)
    }

    /// `text` with every known secret form replaced by `<redacted>`.
    static func scrub(_ text: String) -> String {
        let forms = secrets
        guard !forms.isEmpty else { return text }
        var text = text
        for form in forms where text.contains(form) {
            text = text.replacingOccurrences(of: form, with: "<redacted>")
        }
        return text
    }

    /// The forms a server might echo, longest first (so a longer form is replaced before a
    /// shorter one inside it); values shorter than four characters are not scrubbed.
    static func forms(of value: String) -> [String] {
        guard value.count >= 4 else { return [] }
        let candidates = [
            value,
            FormEncoding.encodeComponent(value),
            FormEncoding.encodeComponent(value, spaceAsPlus: true),
            value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value,
            Data(value.utf8).base64EncodedString(),
            SOAPMessage.escape(value),
        ]
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }.sorted { $0.count > $1.count }
    }
}

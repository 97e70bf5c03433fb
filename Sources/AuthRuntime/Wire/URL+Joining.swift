package import AuthCore
import HTTPTypes
package import Foundation

extension URL {
    /// `base` joined with a relative `path` (which may carry a query), with exactly one `/`
    /// between them: the one URL-joining rule of every provider.
    ///
    /// - Throws: ``AuthError/Code/invalidRequest`` (or `failureCode`) when `path` is absolute,
    ///   holds control characters, or the result is not a URL with a host.
    package static func joining(
        _ base: URL, _ path: String, provider: String, failureCode: AuthError.Code = .invalidRequest
    ) throws(AuthError) -> URL {
        let trimmed = path.trimmingCharacters(in: .whitespaces)
        guard !trimmed.contains("://"), !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AuthError(failureCode, provider: provider, message: "a path must be relative to the base URL")
        }
        var head = base.absoluteString
        while head.hasSuffix("/") { head.removeLast() }
        let tail = trimmed.drop(while: { $0 == "/" })
        guard let url = URL(string: head + "/" + tail), url.host != nil else {
            throw AuthError(failureCode, provider: provider, message: "the path does not form a valid URL with the base URL")
        }
        return url
    }
}

import AuthCore
import AuthTesting
import HTTPTypes
import Foundation

/// Helpers of the sandbox: token issue, client checks and the answers it shares.
extension ProfixSandbox {
    // MARK: Helpers

    static func formBody(_ request: OutgoingRequest) -> [String: String]? {
        guard request.method == .post,
              let type = request.headerFields[.contentType]?.lowercased(),
              type.hasPrefix("application/x-www-form-urlencoded"),
              let body = request.body else { return nil }
        var form: [String: String] = [:]
        for (name, value) in FormEncoding.decode(String(decoding: body, as: UTF8.self)) {
            guard form[name] == nil else { return nil }   // a repeated parameter is an error in OAuth2
            form[name] = value
        }
        return form
    }

    /// `response`, with the request repeated in its error description when
    /// ``Configuration/echoesRequests`` is on and the answer is an error.
    func echoed(_ request: OutgoingRequest, _ response: Reply) -> Reply {
        guard configuration.echoesRequests, response.status >= 400 || response.text.contains("\"error\"") else { return response }
        var object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        let form = String(decoding: request.body ?? Data(), as: UTF8.self)
        object["error_description"] = "could not process: \(form) (Authorization: \(request.headerFields[.authorization] ?? "none"))"
        guard let body = try? JSONSerialization.data(withJSONObject: object) else { return response }
        return Reply(status: response.status, headerFields: response.headerFields, body: body)
    }

    static func oauthError(_ status: Int, _ code: String) -> Reply {
        .json(status, #"{"error":"\#(code)"}"#)
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// A random token; with a prefix it looks like `Gcp7!…`, as the service's do.
    static func randomToken(prefixLength: Int, bodyLength: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        func run(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
        return prefixLength > 0 ? run(prefixLength) + "!" + run(bodyLength) : run(bodyLength)
    }
}

import AuthCore
import HTTPTypes
import Foundation

/// e-conomic's REST error body, decoded leniently: every field is optional and numbers may come
/// as strings.
struct EconomicErrorBody: Decodable {
    var message: String?
    var developerHint: String?
    var logId: String?
    var errorCode: String?
    var code: String?

    enum CodingKeys: String, CodingKey {
        case message, developerHint, logId, errorCode, code
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        message = container.lenientString(.message)
        developerHint = container.lenientString(.developerHint)
        logId = container.lenientString(.logId)
        errorCode = container.lenientString(.errorCode)
        code = container.lenientString(.code)
    }

    /// The body of `response` when it is a JSON error body of reasonable size.
    static func parse(_ response: Reply) -> EconomicErrorBody? {
        guard response.body.count <= 64 << 10, !response.looksLikeHTML else { return nil }
        return try? JSONDecoder().decode(EconomicErrorBody.self, from: response.body)
    }

    /// Maps a non-2xx REST response to a typed error with the server's safe context.
    static func error(for response: Reply) -> AuthError {
        let body = parse(response)
        let serverText = [body?.message, body?.developerHint].compactMap { $0 }.joined(separator: " ")
        func make(_ code: AuthError.Code, _ ours: String) -> AuthError {
            AuthError(
                code, provider: EconomicEndpoints.providerName, status: response.status,
                serverCode: body?.errorCode ?? body?.code,
                message: serverText.isEmpty ? ours : "\(ours): \(serverText)",
                logReference: body?.logId,
                retryAfter: RetryPolicy.retryAfter(in: response.response, now: Date())
            )
        }
        switch response.status {
        case 401:
            return make(.revoked, "the agreement grant was revoked or the tokens are invalid")
        case 403:
            return make(.forbidden, "the grant's role does not allow this resource")
        case 415:
            return make(.invalidRequest, "the service accepts only application/json")
        case 429:
            return make(.rateLimited, "the service asks the client to slow down")
        case 500...599:
            return make(.serviceUnavailable, response.looksLikeHTML ? "the service answered with an HTML error page" : "the service failed")
        default:
            return make(.unexpectedStatus, response.looksLikeHTML ? "unexpected HTML page" : "unexpected status")
        }
    }
}

extension KeyedDecodingContainer {
    /// A string, or a number written as text; `nil` when absent or of another type.
    func lenientString(_ key: Key) -> String? {
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? decodeIfPresent(Int.self, forKey: key) { return String(number) }
        if let number = try? decodeIfPresent(Double.self, forKey: key) { return String(number) }
        return nil
    }

    /// An integer, or an integer written as text; `nil` when absent or of another type.
    func lenientInt(_ key: Key) -> Int? {
        if let number = try? decodeIfPresent(Int.self, forKey: key) { return number }
        if let text = try? decodeIfPresent(String.self, forKey: key) { return Int(text) }
        return nil
    }

    /// A boolean; e-conomic omits `false`, so absence reads as `false`.
    func lenientBool(_ key: Key) -> Bool {
        if let value = try? decodeIfPresent(Bool.self, forKey: key) { return value }
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text.lowercased() == "true" }
        return false
    }
}

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
            let blame = RejectedToken.reading(serverText + " " + response.text.prefix(4_096))
            return make(blame.code, blame.explanation)
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

/// Which token a rejection blames, read leniently from what e-conomic said: it sends no separate
/// code, so a message that names only the app secret, or only the grant, decides; anything else
/// names both as possible causes.
enum RejectedToken: Equatable {
    /// The AppSecretToken: the app's own configuration, not the customer's grant.
    case appSecret
    /// The AgreementGrantToken: revoked or wrong; the customer must grant access again.
    case grant
    /// Either.
    case either

    static func reading(_ text: some StringProtocol) -> RejectedToken {
        let lowered = text.lowercased()
        let app = ["appsecret", "app secret", "apptoken", "app token", "x-appsecrettoken"].contains { lowered.contains($0) }
        let grant = ["agreementgrant", "grant token", "granttoken", "grant was", "revoked", "access was removed"].contains { lowered.contains($0) }
        switch (app, grant) {
        case (true, false): return .appSecret
        case (false, true): return .grant
        default: return .either
        }
    }

    var code: AuthError.Code { self == .grant ? .revoked : .invalidCredentials }

    var explanation: String {
        switch self {
        case .appSecret:
            return "the AppSecretToken was not accepted (the app's own configuration, not the customer's grant)"
        case .grant:
            return "the AgreementGrantToken was revoked or is wrong: the customer must grant access again"
        case .either:
            return "the tokens were not accepted: either the AppSecretToken (the app's own configuration) or the AgreementGrantToken (revoked or wrong: the customer grants access again) is not valid"
        }
    }
}

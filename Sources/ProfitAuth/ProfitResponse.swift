import AuthCore
import HTTPTypes
import AuthRuntime
import Foundation

/// Reading Profit's responses: error bodies, the OTP validation answer, metainfo.
extension HTTPField.Name {
    /// `X-PROFIT-ERROR`: the obsolete Base64 error header of older Profit versions.
    static let profitError = HTTPField.Name.known("X-PROFIT-ERROR")
}

enum ProfitResponse {
    /// What a Profit error body says. All fields are optional: Profit is not consistent.
    struct ErrorBody: Equatable {
        var message: String?
        var number: String?
        var logReference: String?
        var retryAfter: Duration?
    }

    /// Throws ``AuthError/Code/responseTooLarge`` for a body over `limit` bytes.
    static func checkSize(_ response: Reply, limit: Int) throws(AuthError) {
        guard response.body.count <= limit else {
            throw AuthError(.responseTooLarge, provider: ProfitProvider.providerName, status: response.status,
                            message: "the response is larger than \(limit) bytes")
        }
    }

    /// Decodes `{"externalMessage", "errorNumber", "profitLogReference", "retry_after"}` from the body,
    /// falling back to the obsolete Base64 `X-PROFIT-ERROR` header for the message.
    static func errorBody(of response: Reply) -> ErrorBody {
        var body = ErrorBody()
        if let object = jsonObject(response.body) {
            body.message = object.text("externalMessage") ?? object.text("message")
            body.number = object.text("errorNumber")
            body.logReference = object.text("profitLogReference")
            body.retryAfter = retryAfterSeconds(in: object).map { .seconds($0) }
        }
        if body.message == nil, let header = response.headerFields[.profitError],
           let data = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)) {
            let text = String(decoding: data.prefix(2048), as: UTF8.self)
            if !text.isEmpty { body.message = text }
        }
        if body.retryAfter == nil, let header = RetryPolicy.retryAfter(in: response.response, now: Date()) {
            body.retryAfter = header
        }
        if body.message == nil, response.looksLikeHTML {
            body.message = "the server answered with an HTML page instead of a Profit response"
        }
        return body
    }

    /// The body's `"retry_after": <seconds>` (or `retryAfter`), when it is a plausible wait
    /// (0 s up to a week); the `Retry-After` header is not read.
    static func retryAfterInBody(of response: Reply) -> Int? {
        jsonObject(response.body).flatMap(retryAfterSeconds(in:))
    }

    private static func retryAfterSeconds(in object: JSONObject) -> Int? {
        guard let seconds = number(object, "retry_after") ?? number(object, "retryAfter"), seconds >= 0, seconds < 86_400 * 7 else { return nil }
        return seconds
    }

    /// Whether the body is Profit's JSON error object (it has `externalMessage` or `errorNumber`),
    /// as opposed to an empty body, an HTML page or a proxy's answer.
    static func hasProfitErrorBody(_ response: Reply) -> Bool {
        guard let object = jsonObject(response.body) else { return false }
        return object.value("externalMessage") != nil || object.value("errorNumber") != nil
    }

    /// The typed error for a non-2xx Profit response.
    ///
    /// 401 → ``AuthError/Code/revoked`` (invalid, deleted or expired token; never retried);
    /// 403 → ``AuthError/Code/forbidden`` (IP restriction); 400 → ``AuthError/Code/invalidRequest``;
    /// 404 → ``AuthError/Code/unexpectedStatus``; 429 → ``AuthError/Code/rateLimited``;
    /// 500 → ``AuthError/Code/profitFunctionalError``; 501–599 →
    /// ``AuthError/Code/serviceUnavailable``; anything else → ``AuthError/Code/unexpectedStatus``.
    static func error(for response: Reply) -> AuthError {
        let body = errorBody(of: response)
        let code: AuthError.Code
        let fallback: String
        switch response.status {
        case 401:
            code = .revoked
            fallback = "the token was rejected: it is invalid, deleted or expired"
        case 403:
            code = .forbidden
            fallback = "forbidden: the app connector does not accept calls from this IP address"
        case 400:
            code = .invalidRequest
            fallback = "the request is missing elements"
        case 404:
            code = .unexpectedStatus
            fallback = "not found: check the environment and the path"
        case 429:
            code = .rateLimited
            fallback = "too many requests"
        case 500:
            code = .profitFunctionalError
            fallback = "Profit reported a functional error"
        case 501..<600:
            code = .serviceUnavailable
            fallback = "Profit is unavailable"
        default:
            code = .unexpectedStatus
            fallback = "unexpected HTTP status \(response.status)"
        }
        return AuthError(code, provider: ProfitProvider.providerName, status: response.status,
                         serverCode: body.number, message: body.message ?? fallback,
                         logReference: body.logReference, retryAfter: body.retryAfter)
    }

    /// The token in an `OtpValidation` answer: `{"token": "<token>…</token>\r\n"}`.
    static func tokenFromValidation(_ response: Reply) throws(AuthError) -> ProfitToken {
        guard let object = jsonObject(response.body) else {
            throw AuthError.malformedResponse(
                response.looksLikeHTML ? "OtpValidation answered with an HTML page, not JSON" : "OtpValidation did not answer with a JSON object",
                provider: ProfitProvider.providerName, status: response.status)
        }
        guard let text = object.text("token"), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AuthError.malformedResponse("OtpValidation answered without a token", provider: ProfitProvider.providerName, status: response.status)
        }
        do {
            return try ProfitToken(text)
        } catch {
            throw AuthError.malformedResponse("OtpValidation answered with a token that is not an AFAS token", provider: ProfitProvider.providerName, status: response.status)
        }
    }

    /// `info.tokenExpiry` of a `metainfo` answer, when present and a date.
    static func tokenExpiry(inMetainfo data: Data) throws(AuthError) -> Date? {
        guard let object = jsonObject(data) else {
            throw AuthError.malformedResponse("metainfo did not answer with a JSON object", provider: ProfitProvider.providerName)
        }
        let info = object.value("info")?.object ?? object
        guard let text = info.text("tokenExpiry"), !text.isEmpty else { return nil }
        guard let date = parseDate(text) else {
            throw AuthError.malformedResponse("metainfo holds a tokenExpiry that is not a date", provider: ProfitProvider.providerName)
        }
        return date
    }

    /// Parses ISO 8601 date-times (with or without fraction or zone; no zone means UTC) and dates.
    static func parseDate(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSS",
                       "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    // MARK: - Lenient JSON

    /// The top-level JSON object of `data`, read by the shared lenient reader.
    static func jsonObject(_ data: Data) -> JSONObject? {
        JSONValue.object(in: data)
    }

    static func number(_ object: JSONObject, _ key: String) -> Int? {
        object.value(key)?.integer
    }
}

import AuthCore
import HTTPTypes
import AuthRuntime
import Foundation

/// What a successful token response carried.
struct ProfixTokenResponse: Sendable, Equatable {
    var accessToken: Secret
    var refreshToken: Secret?
    /// Seconds until the access token expires; `nil` when the response did not say.
    var expiresIn: Double?
}

/// What a grant produced.
enum ProfixGrantResult: Sendable, Equatable {
    case tokens(ProfixTokenResponse)
    case passwordChangeRequired(userID: String)
}

/// Request building and response parsing for `/token` and `/token/ChangePassword`.
///
/// Pure functions, tested directly. Parsing is lenient where the service is vague (JSON or form
/// bodies, `expires_in` as a number or a numeric string, `token_type` in any case) and strict
/// where a mistake would cost a credential (a 2xx with `error`, a missing `access_token`, a
/// non-positive lifetime, an oversized body).
enum ProfixTokenEndpoint {
    static let provider = ProfixProvider.providerName
    /// The longest lifetime accepted (ten years); longer values are treated as malformed.
    static let maximumLifetime: Double = 10 * 365 * 24 * 3600

    // MARK: Requests

    static func codeRequest(_ client: ProfixRegistration, code: Secret) -> OutgoingRequest {
        var pairs = [("grant_type", "authorization_code"), ("code", code.revealed)]
        if let redirectURI = client.redirectURI { pairs.append(("redirect_uri", redirectURI.absoluteString)) }
        pairs += [("client_id", client.clientID), ("client_secret", client.clientSecret.revealed)]
        return OutgoingRequest.form(url: client.tokenURL, pairs)
    }

    static func clientCredentialsRequest(_ client: ProfixRegistration) -> OutgoingRequest {
        OutgoingRequest.form(url: client.tokenURL, [
            ("grant_type", "client_credentials"),
            ("client_id", client.clientID), ("client_secret", client.clientSecret.revealed),
        ])
    }

    static func passwordRequest(_ client: ProfixRegistration, username: String, password: Secret) -> OutgoingRequest {
        OutgoingRequest.form(url: client.tokenURL, [
            ("grant_type", "password"),
            ("client_id", client.clientID), ("client_secret", client.clientSecret.revealed),
            ("username", username), ("password", password.revealed),
        ])
    }

    static func refreshRequest(_ client: ProfixRegistration, refreshToken: Secret) -> OutgoingRequest {
        OutgoingRequest.form(url: client.tokenURL, [
            ("grant_type", "refresh_token"), ("refresh_token", refreshToken.revealed),
            ("client_id", client.clientID), ("client_secret", client.clientSecret.revealed),
        ])
    }

    static func changePasswordRequest(_ client: ProfixRegistration, userID: String, password: Secret, newPassword: Secret) -> OutgoingRequest {
        OutgoingRequest.form(url: client.changePasswordURL, [
            ("client_id", client.clientID), ("client_secret", client.clientSecret.revealed),
            ("userid", userID), ("password", password.revealed), ("newpassword", newPassword.revealed),
        ])
    }

    // MARK: Responses

    /// Parses a `/token` answer.
    ///
    /// - Parameter allowsPasswordChange: whether `{userid, RequireChangePassword: true}` is a valid
    ///   answer (password grant only).
    static func parseToken(_ response: Reply, maxBytes: Int, allowsPasswordChange: Bool = false) throws(AuthError) -> ProfixGrantResult {
        let fields = try decodeFields(response, maxBytes: maxBytes)
        if allowsPasswordChange, let fields, let flag = fields.value("RequireChangePassword"), flag.isTrue {
            guard let userID = fields.value("userid")?.text, !userID.isEmpty else {
                throw AuthError.malformedResponse("a password change is required but the answer names no user id",
                                                  provider: provider, status: response.status)
            }
            return .passwordChangeRequired(userID: userID)
        }
        guard response.isSuccess else { throw failure(response, fields: fields) }
        guard let fields else {
            throw AuthError.malformedResponse("the token response is not a JSON object", provider: provider, status: response.status)
        }
        if fields.value("error") != nil { throw failure(response, fields: fields) }
        guard case .string(let access)? = fields.value("access_token"), !access.isEmpty else {
            throw AuthError.malformedResponse("the token response has no access_token", provider: provider, status: response.status)
        }
        guard isTokenText(access) else {
            throw AuthError.malformedResponse("the access_token holds characters a header cannot carry", provider: provider, status: response.status)
        }
        if let type = fields.value("token_type") {
            guard let text = type.text, text.lowercased() == "bearer" else {
                throw AuthError.malformedResponse("the token type is not Bearer", provider: provider, status: response.status)
            }
        }
        var expiresIn: Double?
        if let value = fields.value("expires_in"), !value.isNull {
            guard let seconds = value.number, seconds.isFinite, seconds > 0, seconds <= maximumLifetime else {
                throw AuthError.malformedResponse("expires_in is not a positive number of seconds", provider: provider, status: response.status)
            }
            expiresIn = seconds
        }
        var refresh: Secret?
        if let value = fields.value("refresh_token"), !value.isNull {
            guard case .string(let text) = value, !text.isEmpty, isTokenText(text) else {
                throw AuthError.malformedResponse("refresh_token is not a token string", provider: provider, status: response.status)
            }
            refresh = Secret(text)
        }
        return .tokens(ProfixTokenResponse(accessToken: Secret(access), refreshToken: refresh, expiresIn: expiresIn))
    }

    /// Whether `text` is printable ASCII without spaces: what a bearer token may hold (RFC 6750
    /// is stricter; Profix-it's tokens also use `!`). Anything else could break or inject a header.
    static func isTokenText(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Parses a `/token/ChangePassword` answer into success or a typed error.
    static func parseChangePassword(_ response: Reply, maxBytes: Int) throws(AuthError) {
        let fields = try decodeFields(response, maxBytes: maxBytes)
        if let fields, fields.value("success") == nil, fields.value("error") != nil {
            throw failure(response, fields: fields)   // an OAuth error, even inside a 200
        }
        if let fields, let success = fields.value("success") {
            let message = fields.value("message")?.text
            if success.isTrue && response.isSuccess { return }
            if !success.isTrue {
                throw AuthError(.passwordChangeRejected, provider: provider, status: response.status,
                                message: message ?? "the service did not change the password")
            }
        }
        guard response.isSuccess else { throw failure(response, fields: fields) }
        throw AuthError.malformedResponse("the password-change response has no success field", provider: provider, status: response.status)
    }

    /// Maps an unsuccessful `/token` answer to a typed error.
    static func failure(_ response: Reply, fields: Fields?) -> AuthError {
        let status = response.status
        let serverCode = fields?.value("error")?.text
        let description = fields?.value("error_description")?.text ?? fields?.value("message")?.text
        let code: AuthError.Code
        switch (serverCode, status) {
        case ("invalid_grant", _): code = .invalidGrant
        case ("invalid_client", _), (_, 401), (_, 406): code = .invalidCredentials
        // RFC 6749 §5.2: the client may not use this grant type (its registration names another).
        case ("unauthorized_client", _), ("unsupported_grant_type", _), ("invalid_scope", _): code = .invalidConfiguration
        case ("invalid_request", _): code = .invalidRequest
        // Not in RFC 6749 §5.2, but servers and proxies send them (even inside a 200).
        case ("server_error", _), ("temporarily_unavailable", _): code = .serviceUnavailable
        case (_, 403): code = .forbidden
        case (_, 429): code = .rateLimited
        case (_, 500...599): code = .serviceUnavailable
        case (_, 400): code = .invalidGrant
        default: code = .unexpectedStatus
        }
        let retryAfter = RetryPolicy.retryAfter(in: response.response, now: Date())
        return AuthError(code, provider: provider, status: status, serverCode: serverCode,
                         message: description ?? serverCode.flatMap(defaultMessage(serverCode:)) ?? defaultMessage(status), retryAfter: retryAfter)
    }

    /// What an OAuth2 error code means, for answers without an `error_description`.
    static func defaultMessage(serverCode: String) -> String? {
        switch serverCode {
        case "invalid_grant": return "the code, refresh token or password was not accepted (expired, already used, revoked, or issued for another redirect URI)"
        case "invalid_client": return "the client id or secret was not accepted"
        case "unauthorized_client": return "the client is not allowed to use this grant type (its registration names another grant)"
        case "unsupported_grant_type": return "the service does not support this grant type"
        case "invalid_scope": return "the requested scope is not valid"
        case "invalid_request": return "the token request is malformed or misses a parameter"
        default: return nil
        }
    }

    /// Maps an unsuccessful API answer (not `/token`) to a typed error.
    static func apiFailure(_ response: Reply) -> AuthError {
        let fields = response.looksLikeHTML ? nil : JSONValue.object(in: response.body.prefix(1 << 20))
        let code = AuthError.Code.forStatus(response.status)
        let message = fields?.text("error_description") ?? fields?.text("message")
            ?? (response.looksLikeHTML ? "the service answered HTTP \(response.status) with an HTML page" : "the service answered HTTP \(response.status)")
        return AuthError(code, provider: provider, status: response.status, serverCode: fields?.text("error"),
                         message: message, retryAfter: RetryPolicy.retryAfter(in: response.response, now: Date()))
    }

    static func defaultMessage(_ status: Int) -> String {
        switch status {
        case 400: return "the token endpoint rejected the request"
        case 401: return "the client id or secret was not accepted"
        case 403: return "the licence does not allow this"
        case 406: return "the application id does not match the credentials"
        case 503: return "the service is unavailable or the application is not connected"
        default: return "the token endpoint answered HTTP \(status)"
        }
    }

    // MARK: Body decoding

    /// A decoded JSON object or form body, with case-insensitive key lookup.
    typealias Fields = JSONObject

    /// Decodes the body, or returns `nil` when it is empty or not an object; throws for oversized
    /// bodies and HTML pages.
    static func decodeFields(_ response: Reply, maxBytes: Int) throws(AuthError) -> Fields? {
        guard response.body.count <= maxBytes else {
            throw AuthError(.responseTooLarge, provider: provider, status: response.status,
                            message: "the response body exceeds \(maxBytes) bytes")
        }
        if response.looksLikeHTML {
            let code: AuthError.Code = (500...599).contains(response.status) ? .serviceUnavailable : .malformedResponse
            throw AuthError(code, provider: provider, status: response.status, message: "the service answered with an HTML page")
        }
        if response.body.isEmpty { return nil }
        if let type = response.contentType, type.hasPrefix("application/x-www-form-urlencoded") {
            var values: [String: JSONValue] = [:]
            for (name, value) in FormEncoding.decode(response.text) { values[name] = .string(value) }
            return Fields(values: values)
        }
        return JSONValue.object(in: response.body)
    }
}

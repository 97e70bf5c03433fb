// libFuzzer target: the Profix-it /token and /token/ChangePassword response parsers must never
// crash or hang, and whatever they accept must satisfy the rules the provider relies on.
//
// Input: byte 0 picks the HTTP status, the content type and whether a password change may be
// answered; the rest is the body.
@testable import AuthCore
import AuthRuntime
import Foundation
import HTTPTypes
@testable import ProfixOAuth

let statuses = [200, 201, 400, 401, 403, 406, 429, 500, 503, 302]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    let selector = Int(bytes.first ?? 0)
    let body = Data(bytes.dropFirst())
    var headers = HTTPFields()
    switch selector & 0x30 {
    case 0x10: headers[.contentType] = "application/x-www-form-urlencoded"
    case 0x20: headers[.contentType] = "text/html"
    case 0x30: break
    default: headers[.contentType] = "application/json; charset=utf-8"
    }
    if selector & 0x80 != 0 { headers[.retryAfter] = "7" }
    let response = Reply(status: statuses[selector % statuses.count], headerFields: headers, body: body)
    let allowsPasswordChange = selector & 0x40 != 0

    do {
        switch try ProfixTokenEndpoint.parseToken(response, maxBytes: 4096, allowsPasswordChange: allowsPasswordChange) {
        case .tokens(let tokens):
            guard response.isSuccess, !tokens.accessToken.isEmpty, tokens.refreshToken.map({ !$0.isEmpty }) ?? true else {
                fatalError("accepted a token response without a usable access token")
            }
            if let fields = try? ProfixTokenEndpoint.decodeFields(response, maxBytes: 4096), fields.value("error") != nil {
                fatalError("accepted a token response that carries an OAuth error")
            }
            if let seconds = tokens.expiresIn {
                guard seconds.isFinite, seconds > 0, seconds <= ProfixTokenEndpoint.maximumLifetime else {
                    fatalError("accepted a lifetime that is not a positive number of seconds")
                }
            }
        case .passwordChangeRequired(let userID):
            guard allowsPasswordChange, !userID.isEmpty else { fatalError("accepted a password change that was not allowed") }
        }
    } catch {
        _ = error.description
    }
    do {
        try ProfixTokenEndpoint.parseChangePassword(response, maxBytes: 4096)
        guard response.isSuccess else { fatalError("accepted a password change from an error status") }
    } catch {
        _ = error.description
    }
    return 0
}

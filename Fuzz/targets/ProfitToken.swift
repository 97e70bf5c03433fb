// libFuzzer target: the AFAS Profit token parser (XML or 64 hex digits) and Profit's error-body,
// OtpValidation and metainfo decoding must never crash or hang, and a parsed token must be in
// the canonical form that parses back to itself.
//
// Input: byte 0 picks the HTTP status and which header carries the rest; the rest is the text.
@testable import AuthCore
import Foundation
import HTTPTypes
@testable import ProfitAuth

let statuses = [200, 400, 401, 403, 404, 429, 500, 503, 302, 418]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    let selector = Int(bytes.first ?? 0)
    let payload = bytes.dropFirst()
    let text = String(decoding: payload, as: UTF8.self)

    // The token text itself, and the whole input as text.
    for candidate in [text, String(decoding: bytes, as: UTF8.self)] {
        if let token = try? ProfitAuth.ProfitToken(candidate) {
            guard let again = try? ProfitAuth.ProfitToken(token.xml.revealed), again == token,
                  token.authorizationValue.revealed.hasPrefix("AfasToken "),
                  token.xml.revealed.utf8.count < 200 else {
                fatalError("a parsed ProfitToken is not canonical")
            }
        }
    }

    // The same bytes as a Profit response: error body, OtpValidation answer, metainfo.
    var headers = HTTPFields()
    switch selector & 0x30 {
    case 0x10: headers[.contentType] = "text/html; charset=utf-8"
    case 0x20: headers[.profitError] = text
    case 0x30: headers[.retryAfter] = text
    default: headers[.contentType] = "application/json"
    }
    let response = Reply(status: statuses[selector % statuses.count], headerFields: headers, body: Data(payload))
    _ = ProfitResponse.errorBody(of: response)
    let error = ProfitResponse.error(for: response)
    _ = error.description
    _ = ProfitAuth.ProfitProvider.error(for: response.response, body: response.body)?.description
    _ = try? ProfitResponse.checkSize(response, limit: 4096)
    _ = try? ProfitResponse.tokenFromValidation(response)
    _ = try? ProfitResponse.tokenExpiry(inMetainfo: Data(payload))
    return 0
}

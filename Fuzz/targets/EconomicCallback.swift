// libFuzzer target: e-conomic's grant-callback parsing (arbitrary URLs, with and without the
// expected request) and the Set-Cookie parser must never crash or hang; an accepted callback has
// exactly one clean token, and the cookie jar only ever holds pairs it can replay safely.
//
// Input: byte 0 picks how the URL is built; the rest is the URL text or a query, and also the
// Set-Cookie field values (split on newlines).
@testable import AuthCore
import Foundation
@testable import EconomicAuth

let redirect = URL(string: "https://app.example.com/economic/granted")
let expected = EconomicGrantRequest(appPublicToken: "appPublicTokenFz", redirectURL: redirect,
                                    parameters: [.init("UserInMySystem", "123"), .init("tenant", "a b&c")],
                                    state: Secret("state-Fz!1"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    let selector = bytes.first ?? 0
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)

    let candidate: String
    switch selector % 3 {
    case 0: candidate = text
    case 1: candidate = "https://app.example.com/economic/granted?" + text
    default: candidate = "https://app.example.com/economic/granted?UserInMySystem=123&tenant=a%20b%26c&state=state-Fz%211&" + text
    }
    if let url = URL(string: candidate) {
        for request in [nil, expected] {
            guard let callback = try? EconomicGrantCallback(url: url, expecting: request) else { continue }
            let token = callback.agreementGrantToken.revealed
            let tokens = FormEncoding.queryItems(of: url).filter { $0.0 == EconomicGrantRequest.tokenParameterName }
            guard tokens.count == 1, !token.isEmpty,
                  !token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }),
                  !callback.parameters.contains(where: { $0.name == EconomicGrantRequest.tokenParameterName }) else {
                fatalError("accepted a grant callback that should have been refused")
            }
            if request != nil, callback.value(for: "UserInMySystem") != "123" {
                fatalError("accepted a callback whose parameters differ from the request's")
            }
        }
    }

    var jar = EconomicCookies()
    let fields = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    jar.absorb(fields)
    for pair in jar.pairs {
        guard EconomicCookies.isToken(pair.name),
              !pair.value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == ";" || $0 == "," }) else {
            fatalError("the cookie jar holds a pair it cannot replay safely")
        }
    }
    var again = EconomicCookies()
    again.absorb([jar.headerValue.replacingOccurrences(of: "; ", with: ", ")])
    if !jar.isEmpty && again != jar {
        fatalError("replayed cookies do not parse back to the same jar")
    }
    return 0
}

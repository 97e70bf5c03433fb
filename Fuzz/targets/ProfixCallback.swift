// libFuzzer target: reading the authorization code from an arbitrary callback URL must never
// crash or hang, and a code is only ever returned for the registered redirect URI, without
// `error=`, with exactly one non-empty code and an acceptable state.
//
// Input: byte 0 picks how the URL is built; the rest is the URL text, a query, or a path+query.
@testable import AuthCore
import Foundation
@testable import ProfixOAuth

let redirect = "https://app.example.com/profix/callback"
let client = ProfixRegistration(clientID: "b81cc4de-d192-400e-bcb4-09254394c52a", clientSecret: Secret("n3G7KAhcv8OH"),
                          redirectURI: URL(string: redirect))
let lenient = try? ProfixAuthorizationRequest(client: client, state: Secret("st-Fz9!q"), statePolicy: .verifyIfPresent)
let strict = try? ProfixAuthorizationRequest(client: client, state: Secret("st-Fz9!q"), statePolicy: .required)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    let selector = bytes.first ?? 0
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let candidates: [String]
    switch selector % 4 {
    case 0: candidates = [text]
    case 1: candidates = [redirect + "?" + text]
    case 2: candidates = ["https://app.example.com/" + text]
    default: candidates = [redirect + "?state=st-Fz9%21q&" + text, redirect + "?" + text + "&state=st-Fz9%21q"]
    }
    guard let lenient, let strict else { fatalError("the fixed request could not be built") }
    for candidate in candidates {
        guard let url = URL(string: candidate) else { continue }
        for request in [lenient, strict] {
            guard let code = try? request.code(from: url) else { continue }
            let items = FormEncoding.queryItems(of: url)
            guard !code.isEmpty,
                  ProfixAuthorizationRequest.sameEndpoint(url, request.redirectURI),
                  !items.contains(where: { $0.0 == "error" }),
                  items.filter({ $0.0 == "code" }).count == 1,
                  items.filter({ $0.0 == "state" }).allSatisfy({ $0.1 == "st-Fz9!q" }),
                  request.statePolicy != .required || items.contains(where: { $0.0 == "state" }) else {
                fatalError("accepted a callback that should have been refused")
            }
        }
    }
    return 0
}

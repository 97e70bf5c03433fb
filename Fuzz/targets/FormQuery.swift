// libFuzzer target: form/query decoding and encoding must never crash, and encode∘decode must
// give back what was decoded.
@testable import AuthCore
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: Data(bytes: start, count: count), as: UTF8.self)
    let pairs = FormEncoding.decode(text)
    let again = FormEncoding.decode(FormEncoding.encode(pairs))
    if again.map(\.0) != pairs.map(\.0) || again.map(\.1) != pairs.map(\.1) {
        fatalError("form encoding does not round-trip")
    }
    if let url = URL(string: "https://app.example/cb?" + text) {
        _ = FormEncoding.queryItems(of: url)
    }
    return 0
}

// libFuzzer target: the SOAP response/fault parser must never crash or hang on any input.
@testable import AuthCore
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let message = try? SOAPMessage(parsing: data) {
        _ = message.fault?.mentions("E02250")
        _ = message.text(of: "ConnectWithTokenResult")
    }
    return 0
}

package import AuthCore
import HTTPTypes

/// Unguessable `state` values for browser redirects.
package enum RandomState {
    /// 32 bytes from the system's secure generator, as 64 lowercase hex digits.
    package static func make() -> Secret {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return Secret(String(decoding: bytes, as: UTF8.self))
    }
}

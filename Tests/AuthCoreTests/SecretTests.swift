import AuthCore
import Foundation
import Testing

@Suite struct SecretTests {
    let value = "hunter2-THE-VALUE-42"

    @Test func noStringConversionShowsTheValue() {
        let secret = Secret(value)
        var dumped = ""
        dump(secret, to: &dumped)
        var dumpedInStruct = ""
        struct Holder { let key: Secret; let name = "x" }
        dump(Holder(key: secret), to: &dumpedInStruct)
        let renderings = [
            secret.description,
            secret.debugDescription,
            "\(secret)",
            String(describing: secret),
            String(reflecting: secret),
            dumped,
            dumpedInStruct,
            "\(Holder(key: secret))",
            String(reflecting: Holder(key: secret)),
            "\([secret])",
            "\(Optional(secret) as Any)",
            Mirror(reflecting: secret).children.map { "\($0.value)" }.joined(),
        ]
        for text in renderings {
            #expect(!text.contains(value), "leaked in: \(text)")
            #expect(!text.contains("hunter2"))
        }
        #expect(secret.description == "<redacted>")
        #expect(dumped.contains("redacted"))
    }

    @Test func revealsOnlyOnRequest() {
        #expect(Secret(value).revealed == value)
        #expect(Secret(value).byteCount == value.utf8.count)
        #expect(Secret("").isEmpty)
    }

    @Test func equalityComparesWholeValues() {
        #expect(Secret("abc") == Secret("abc"))
        #expect(Secret("abc") != Secret("abd"))
        #expect(Secret("abc") != Secret("abcd"))
        #expect(Secret("") != Secret("a"))
        #expect(Secret("") == Secret(""))
        // Lengths that differ by a multiple of 256 must still differ.
        #expect(Secret(String(repeating: "a", count: 256)) != Secret(""))
        #expect(Secret("state-1").matches("state-1"))
        #expect(!Secret("state-1").matches("state-2"))
    }

    @Test func codableRoundTripsForStorage() throws {
        let data = try JSONEncoder().encode(["k": Secret(value)])
        let decoded = try JSONDecoder().decode([String: Secret].self, from: data)
        #expect(decoded["k"] == Secret(value))
    }
}

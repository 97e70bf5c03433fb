import AuthCore
import HTTPTypes
import Foundation
import Testing

@Suite struct FormEncodingTests {
    @Test func encodesReservedCharactersInCodesAndSecrets() {
        let body = FormEncoding.encode([("code", "XTzM!IAAAA+b/c%d&e=f g~_.-"), ("grant_type", "authorization_code")])
        #expect(body == "code=XTzM%21IAAAA%2Bb%2Fc%25d%26e%3Df+g~_.-&grant_type=authorization_code")
    }

    @Test func decodeInvertsEncode() {
        let pairs = [("a b", "c+d"), ("ü", "€ & = ? # %"), ("empty", "")]
        let decoded = FormEncoding.decode(FormEncoding.encode(pairs))
        #expect(decoded.map(\.0) == pairs.map(\.0))
        #expect(decoded.map(\.1) == pairs.map(\.1))
    }

    @Test func queryItemsKeepPlusLiteral() throws {
        let url = try #require(URL(string: "https://app.example/cb?code=ab+c%21d&state=x%20y&flag"))
        let items = FormEncoding.queryItems(of: url)
        #expect(items.map(\.0) == ["code", "state", "flag"])
        #expect(items.map(\.1) == ["ab+c!d", "x y", ""])
    }

    @Test func brokenEscapesAreReported() {
        #expect(FormEncoding.decodeComponent("%zz") == nil)
        #expect(FormEncoding.decodeComponent("%4") == nil)
        #expect(FormEncoding.decodeComponent("%FF") == nil)   // not UTF-8
        #expect(FormEncoding.decodeComponent("%41") == "A")
    }

    @Test func formRequestHasTheRightHeaders() throws {
        let request = OutgoingRequest.form(url: try #require(URL(string: "https://x.example/token")), [("a", "1")])
        #expect(request.method == .post)
        #expect(request.headerFields[.contentType] == "application/x-www-form-urlencoded")
        #expect(request.body == Data("a=1".utf8))
    }
}

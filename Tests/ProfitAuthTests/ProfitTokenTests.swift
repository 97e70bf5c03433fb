import AuthCore
import HTTPTypes
import Foundation
import ProfitAuthTesting
import Testing
@testable import ProfitAuth

@Suite struct ProfitTokenTests {
    @Test func headerBytesMatchBase64ComputedOnTheShell() throws {
        let token = try ProfitToken(Fixtures.tokenXML)
        let expected = "AfasToken " + Fixtures.tokenBase64
        #expect(Array(token.authorizationValue.revealed.utf8) == Array(expected.utf8))
        #expect(token.xml.revealed == Fixtures.tokenXML)
    }

    @Test func hexOnlyFormGivesTheSameHeader() throws {
        let token = try ProfitToken(Fixtures.hex.lowercased())
        #expect(token.authorizationValue.revealed == "AfasToken " + Fixtures.tokenBase64)
        #expect(token == (try ProfitToken(Fixtures.tokenXML)))
    }

    /// The SOAP `<token>` element's XML is read back from the prepared header: the same token,
    /// whatever form the stored text had; any other field gives nothing.
    @Test func theTokenReadBackFromItsPreparedFieldIsTheSame() throws {
        for text in [Fixtures.tokenXML, Fixtures.hex.lowercased(), "  <token><version>12</version><data>\(Fixtures.hex)</data></token>\r\n"] {
            let token = try ProfitToken(text)
            let readBack = try #require(ProfitToken(preparedField: token.authorizationField))
            #expect(readBack == token)
            #expect(readBack.version == token.version)
        }
        #expect(ProfitToken(preparedField: HTTPField(name: .authorization, value: "Bearer abc")) == nil)
        #expect(ProfitToken(preparedField: HTTPField(name: .authorization, value: "AfasToken !!!")) == nil)
        #expect(ProfitToken(preparedField: HTTPField(name: .authorization, value: "AfasToken " + Data("<x/>".utf8).base64EncodedString())) == nil)
        #expect(ProfitToken(preparedField: HTTPField(name: .cookie, value: "AfasToken " + Fixtures.tokenBase64)) == nil)
    }

    @Test func trimsWhitespaceAndTheTrailingCRLF() throws {
        let spaced = "  <token>\n  <version>1</version>\n  <data> \(Fixtures.hex) </data>\n</token>\r\n"
        #expect(try ProfitToken(spaced).xml.revealed == Fixtures.tokenXML)
        #expect(try ProfitToken(Fixtures.tokenXML + "\r\n").authorizationValue.revealed == "AfasToken " + Fixtures.tokenBase64)
    }

    @Test(arguments: [
        "", "abc", String(Fixtures.hex.dropLast()), Fixtures.hex + "0", String(Fixtures.hex.dropLast()) + "G",
        "<token><version>1</version></token>",
        "<token><version>x</version><data>\(Fixtures.hex)</data></token>",
        "<token><version>1</version><data>\(Fixtures.hex)</data></token><extra/>",
        "<token><version>1</version><data><b>\(Fixtures.hex)</b></data></token>",
    ])
    func rejectsMalformedTokens(_ text: String) {
        #expect(throws: AuthError(.invalidCredentialFormat)) { try ProfitToken(text) }
    }

    @Test func errorForMalformedTokenDoesNotEchoIt() {
        let secretish = "<token><version>1</version><data>NOTHEXNOTHEX</data></token>"
        do {
            _ = try ProfitToken(secretish)
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("NOTHEX"))
        }
    }

    @Test func redactsItself() throws {
        let token = try ProfitToken(Fixtures.tokenXML)
        var dumped = ""
        dump(token, to: &dumped)
        for text in ["\(token)", String(reflecting: token), dumped] {
            #expect(!text.contains(Fixtures.hex))
            #expect(!text.contains(Fixtures.tokenBase64))
        }
        #expect("\(token)" == "ProfitToken(<redacted>)")
    }
}

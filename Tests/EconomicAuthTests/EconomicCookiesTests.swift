@testable import EconomicAuth
import Testing

@Suite struct EconomicCookiesTests {
    @Test func separateFieldsKeepOnlyNameValuePairs() {
        var cookies = EconomicCookies()
        cookies.absorb([
            "ASP.NET_SessionId=abc123; path=/; HttpOnly; SameSite=Lax",
            "BIGipServerpool=1.2.3; Expires=Thu, 01 Jan 2099 00:00:00 GMT; path=/; Secure",
        ])
        #expect(cookies.headerValue == "ASP.NET_SessionId=abc123; BIGipServerpool=1.2.3")
    }

    @Test func commaJoinedFieldWithExpiresDatesIsSplitCorrectly() {
        var cookies = EconomicCookies()
        cookies.absorb(["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; path=/, b=2; Expires=Thu, 01 Jan 2099 00:00:00 GMT, c=3"])
        #expect(cookies.headerValue == "a=1; b=2; c=3")
    }

    @Test func laterValuesReplaceEarlierOnesOfTheSameName() {
        var cookies = EconomicCookies()
        cookies.absorb(["a=1", "b=2"])
        cookies.absorb(["a=9; path=/"])
        #expect(cookies.headerValue == "a=9; b=2")
    }

    @Test func malformedPiecesAreIgnored() {
        var cookies = EconomicCookies()
        cookies.absorb(["", "noequals", "bad name=1", "=novalue", "ok=1", "x=has space"])
        #expect(cookies.headerValue == "ok=1")
    }
}

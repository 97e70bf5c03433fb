@testable import EconomicAuth
import EconomicAuthTesting
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

    /// Found by the EconomicCallback fuzz target (Fuzz/corpus/EconomicCallback/
    /// regression-combining-mark-after-equals.txt): parsed by `Character`, `=` followed by a
    /// combining mark is one grapheme, so the jar accepted `name=\u{30A}` from a `Set-Cookie`
    /// but could not read back the `Cookie` value it replays.
    @Test func delimiterFollowedByCombiningMarkStillDelimits() {
        var cookies = EconomicCookies()
        cookies.absorb(["", "RgASP.NET_SessionId=" + String(repeating: "\u{0C}", count: 32) + "\u{30A}", "G", "\u{FFFD}\u{FFFD}"])
        #expect(cookies.value(of: "RgASP.NET_SessionId") == "\u{30A}")
        var replayed = EconomicCookies()
        replayed.absorb([cookies.headerValue])
        #expect(replayed == cookies)
        #expect(EconomicCookies.pair(of: "a=\u{301}1; path=/")?.value == "\u{301}1")
        #expect(EconomicCookies.split("a=1,\u{301}x=2") == ["a=1,\u{301}x=2"])   // not a cookie name: rejoined
        #expect(EconomicCookies.split("a=1, b=\u{301}2") == ["a=1", " b=\u{301}2"])
    }
}

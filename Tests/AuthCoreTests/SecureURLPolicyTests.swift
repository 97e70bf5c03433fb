import AuthCore
import HTTPTypes
import Foundation
import Testing

@Suite struct SecureURLPolicyTests {
    @Test(arguments: [
        "https://api.profix-it.nl/token",
        "https://12345.rest.afas.online/ProfitRestServices",
        "http://127.0.0.1:8080/token",
        "http://127.1.2.3/x",
        "http://localhost:9000/x",
        "http://[::1]:9000/x",
    ])
    func allows(_ text: String) throws {
        let url = try #require(URL(string: text))
        #expect(SecureURLPolicy.allows(url))
        try SecureURLPolicy.check(url)
    }

    @Test(arguments: [
        "http://api.profix-it.nl/token",
        "http://128.0.0.1/x",
        "http://127.0.0.1.evil.com/x",
        "http://localhost.evil.com/x",
        "http://10.0.0.1/x",
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "http://[::2]/x",
        "http://127.0.0.08/x",
        "http://127.0.0.010/x",
        "http://localhost./x",
    ])
    func refuses(_ text: String) throws {
        let url = try #require(URL(string: text))
        #expect(!SecureURLPolicy.allows(url))
        let error = #expect(throws: AuthError.self) { try SecureURLPolicy.check(url) }
        #expect(error?.code == .insecureURL)
    }

    @Test func errorMessageDropsTheQuery() throws {
        let url = try #require(URL(string: "http://example.com/cb?code=SECRET-CODE&token=abc"))
        let error = #expect(throws: AuthError.self) { try SecureURLPolicy.check(url) }
        #expect(error.map { "\($0)".contains("SECRET-CODE") } == false)
    }
}

@Suite struct SecureURLPolicyFastPathTests {
    @Test(arguments: ["https:///path", "https://?q=1", "https://#frag", "https://"])
    func httpsWithoutAHostIsRefused(_ text: String) throws {
        // Foundation may refuse to build such a URL at all; if it builds one, the policy refuses it.
        let refused = URL(string: text).map { !SecureURLPolicy.allows($0) } ?? true
        #expect(refused)
    }

    @Test(arguments: ["HTTPS://API.EXAMPLE.COM/x", "HtTpS://a.example", "https://user@api.example.com/x"])
    func httpsInAnyCaseIsAllowed(_ text: String) throws {
        #expect(SecureURLPolicy.allows(try #require(URL(string: text))))
    }
}

/// `CredentialAudience.checkRequest`, the providers' one check per request: its shortcut (`https`
/// to a plain host of the list) gives the same verdicts as the two full checks.
@Suite struct AudienceRequestCheckTests {
    let audience = CredentialAudience(hosts: ["api.example.com"])

    private func request(_ scheme: String, _ authority: String) -> HTTPRequest {
        HTTPRequest(method: .get, scheme: scheme, authority: authority, path: "/x")
    }

    @Test(arguments: ["api.example.com", "API.Example.COM", "api.example.com.", "api.example.com:8443", "api.example.com.:443", "api.example.com:"])
    func aListedHostOverHTTPSPasses(_ authority: String) throws {
        try audience.checkRequest(request("https", authority), provider: "t")
        try audience.check(request("https", authority), provider: "t")
    }

    /// The byte comparison accepts a listed name, in any case, then only dots and a decimal port.
    @Test(arguments: ["api.example.com:8a", "api.example.com:443x", "api.example.comx", "api.example.com.evil.example",
                      "api.example.co", "", "api.example.com\u{00E9}", "xapi.example.com", "api.example.com:1:2"])
    func anythingElseAfterTheNameIsRefused(_ authority: String) {
        #expect(throws: AuthError.self) { try audience.checkRequest(request("https", authority), provider: "t") }
        #expect(throws: AuthError.self) { try audience.check(request("https", authority), provider: "t") }
    }

    /// A transport joins scheme, authority and path: a path that does not start with `/` moves the
    /// host (`https://api.example.com` + `.evil.example/x` is `api.example.com.evil.example`).
    @Test(arguments: [".evil.example/x", "@evil.example/x", ":1@evil.example/x", "evil"])
    func aPathThatMovesTheHostIsRefused(_ path: String) {
        let moved = HTTPRequest(method: .get, scheme: "https", authority: "api.example.com", path: path)
        #expect(moved.url?.host != "api.example.com")
        #expect { try audience.checkRequest(moved, provider: "t") } throws: { ($0 as? AuthError)?.code == .untrustedHost }
        #expect { try audience.check(moved, provider: "t") } throws: { ($0 as? AuthError)?.code == .untrustedHost }
    }

    @Test(arguments: ["", "/", "/x?y=1", "/@evil.example"])
    func aPathFromTheRootPasses(_ path: String) throws {
        let request = HTTPRequest(method: .get, scheme: "https", authority: "api.example.com", path: path)
        try audience.checkRequest(request, provider: "t")
    }

    /// A listed IPv6 literal is not a plain name: it takes the full check, and passes there.
    @Test func aListedIPv6HostTakesTheFullCheck() throws {
        let local = CredentialAudience(hosts: ["[::1]"])
        try local.checkRequest(HTTPRequest(method: .get, scheme: "http", authority: "[::1]:8443", path: "/x"), provider: "t")
        #expect(throws: AuthError.self) {
            try local.checkRequest(HTTPRequest(method: .get, scheme: "http", authority: "[::2]:8443", path: "/x"), provider: "t")
        }
    }

    @Test(arguments: [
        ("http", "api.example.com", AuthError.Code.insecureURL),
        ("https", "evil.example.com", .untrustedHost),
        // The host part before the first colon is listed, but the authority is not a plain host:
        // the shortcut must not take it, and the full checks send it to evil.example.com.
        ("https", "api.example.com:1@evil.example.com", .untrustedHost),
        ("https", "api.example.com@evil.example.com", .untrustedHost),
    ])
    func anythingElseGetsTheFullChecksErrors(_ scheme: String, _ authority: String, _ code: AuthError.Code) {
        #expect { try audience.checkRequest(request(scheme, authority), provider: "t") } throws: { ($0 as? AuthError)?.code == code }
    }

    /// A user-info authority names another host than what precedes its first colon: the public
    /// check reads the host the transport would connect to.
    @Test(arguments: ["api.example.com:1@evil.example.com", "api.example.com@evil.example.com"])
    func theAuthoritysRealHostDecides(_ authority: String) {
        let sent = request("https", authority)
        #expect(sent.url?.host == "evil.example.com")
        #expect { try audience.check(sent, provider: "t") } throws: { ($0 as? AuthError)?.code == .untrustedHost }
    }
}

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

import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
@testable import EconomicAuth
import Foundation
import Testing

@Suite struct EconomicGrantFlowTests {
    @Test func documentedExampleIsEncodedOnceAsAWhole() throws {
        let request = EconomicGrantRequest(
            appPublicToken: "PUBLIC",
            locale: .danish,
            redirectURL: try url("https://myapp.example.com/token"),
            parameters: [.init("UserInMySystem", "123")]
        )
        #expect(try request.url().absoluteString ==
            "https://secure.e-conomic.com/secure/api1/requestaccess.aspx?appPublicToken=PUBLIC&locale=da-DK&redirectUrl=https%3A%2F%2Fmyapp.example.com%2Ftoken%3FUserInMySystem%3D123")
    }

    @Test func existingQueryIsKeptAndLocaleReplaced() throws {
        let request = EconomicGrantRequest(
            requestURL: try url("https://secure.e-conomic.com/secure/api1/requestaccess.aspx?appId=OLD%2BID&locale=sv-SE"),
            locale: .english, redirectURL: try url("https://app.example.com/cb?tenant=a%20b")
        )
        let text = try request.url().absoluteString
        #expect(text == "https://secure.e-conomic.com/secure/api1/requestaccess.aspx?appId=OLD%2BID&locale=en-US&redirectUrl=https%3A%2F%2Fapp.example.com%2Fcb%3Ftenant%3Da%2520b")
    }

    @Test func noRedirectLeavesTheRequestURL() throws {
        let request = EconomicGrantRequest(appPublicToken: "P")
        #expect(try request.url().absoluteString == "https://secure.e-conomic.com/secure/api1/requestaccess.aspx?appPublicToken=P")
        #expect(try request.redirectTarget() == nil)
    }

    @Test(arguments: [
        ("https://app.example.com/cb#frag", [EconomicGrantRequest.Parameter]()),
        ("http://app.example.com/cb", []),
        ("ftp://app.example.com/cb", []),
        ("https://app.example.com/cb", [.init("token", "x")]),
        ("https://app.example.com/cb", [.init("TOKEN", "x")]),
        ("https://app.example.com/cb", [.init("", "x")]),
        ("https://app.example.com/cb", [.init("a", "1"), .init("a", "2")]),
        ("https://app.example.com/cb?a=1", [.init("a", "2")]),
        ("https://app.example.com/cb?token=1", []),
    ])
    func invalidRedirectsAreRefused(redirect: String, parameters: [EconomicGrantRequest.Parameter]) throws {
        let request = EconomicGrantRequest(appPublicToken: "P", redirectURL: try url(redirect), parameters: parameters)
        #expect(throws: AuthError(.invalidConfiguration)) { try request.url() }
    }

    @Test func parametersWithoutRedirectAreRefused() {
        let request = EconomicGrantRequest(appPublicToken: "P", parameters: [.init("a", "1")])
        #expect(throws: AuthError(.invalidConfiguration)) { try request.url() }
    }

    @Test func stateClashingWithAParameterIsRefused() throws {
        let request = EconomicGrantRequest(appPublicToken: "P", redirectURL: try url("https://a.example/cb"), parameters: [.init("state", "mine")], state: Secret("s"))
        #expect(throws: AuthError(.invalidConfiguration)) { try request.url() }
    }

    @Test func callbackParsesTokenAndParameters() throws {
        let callback = try EconomicGrantCallback(url: url("https://app.example.com/cb?UserInMySystem=123&token=ABC%2BDEF"))
        #expect(callback.agreementGrantToken == Secret("ABC+DEF"))
        #expect(callback.parameters == [.init("UserInMySystem", "123")])
        #expect(callback.value(for: "UserInMySystem") == "123")
        #expect(!callback.description.contains("ABC"))
    }

    @Test(arguments: [
        "https://app.example.com/cb?UserInMySystem=123",
        "https://app.example.com/cb",
        "https://app.example.com/cb?token=",
        "https://app.example.com/cb?token",
        "https://app.example.com/cb?token=a&token=b",
        "https://app.example.com/cb?token=a%20b",
        "https://app.example.com/cb?token=a%0Ab",
    ])
    func badCallbacksAreRefused(text: String) throws {
        #expect(throws: AuthError(.callbackInvalid)) { try EconomicGrantCallback(url: url(text)) }
    }

    @Test func tamperedCallbacksAreRefused() throws {
        let request = EconomicGrantRequest(
            appPublicToken: "P", redirectURL: try url("https://app.example.com/cb?site=1"),
            parameters: [.init("UserInMySystem", "123")], state: Secret("STATE-1")
        )
        let good = "https://app.example.com/cb?site=1&UserInMySystem=123&state=STATE-1&token=T"
        let parsed = try EconomicGrantCallback(url: url(good), expecting: request)
        #expect(parsed.parameters == [.init("site", "1"), .init("UserInMySystem", "123")])

        let tampered = [
            "https://app.example.com/cb?site=1&UserInMySystem=124&state=STATE-1&token=T",
            "https://app.example.com/cb?site=1&UserInMySystem=123&extra=1&state=STATE-1&token=T",
            "https://app.example.com/cb?site=1&state=STATE-1&token=T",
            "https://app.example.com/other?site=1&UserInMySystem=123&state=STATE-1&token=T",
            "https://evil.example.com/cb?site=1&UserInMySystem=123&state=STATE-1&token=T",
        ]
        for text in tampered {
            #expect(throws: AuthError(.callbackInvalid)) { try EconomicGrantCallback(url: url(text), expecting: request) }
        }
        for text in ["https://app.example.com/cb?site=1&UserInMySystem=123&state=STATE-2&token=T",
                     "https://app.example.com/cb?site=1&UserInMySystem=123&token=T",
                     "https://app.example.com/cb?site=1&UserInMySystem=123&state=STATE-1&state=STATE-1&token=T"] {
            #expect(throws: AuthError(.stateMismatch)) { try EconomicGrantCallback(url: url(text), expecting: request) }
        }
    }

    @Test func sandboxGrantPageRedirectsWithTokenAndRefusesBadRequests() async throws {
        let sandbox = EconomicSandbox()
        let request = EconomicGrantRequest(appPublicToken: sandbox.appPublicToken, locale: .norwegian, redirectURL: try url("https://app.example.com/cb"))
        let response = try await sandbox.reply(HTTPRequest(url: request.url()))
        #expect(response.status == 302)
        let location = try #require(response.headerFields[.location])
        #expect(location.hasPrefix("https://app.example.com/cb?token="))
        let callback = try EconomicGrantCallback(url: url(location), expecting: request)
        #expect(sandbox.activeGrantCount == 1)

        let unknownApp = try await sandbox.reply(HTTPRequest(url: EconomicGrantRequest(appPublicToken: "other").url()))
        #expect(unknownApp.status == 400)
        let badLocale = try await sandbox.reply(HTTPRequest(url: EconomicGrantRequest(appPublicToken: sandbox.appPublicToken, locale: .init(rawValue: "xx-XX")).url()))
        #expect(badLocale.status == 400)
        let noRedirect = try await sandbox.reply(HTTPRequest(url: EconomicGrantRequest(appPublicToken: sandbox.appPublicToken).url()))
        #expect(noRedirect.status == 200)
        #expect(noRedirect.looksLikeHTML)

        // The token works.
        let provider = try EconomicProvider(
            credentials: EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: callback.agreementGrantToken),
            transport: sandbox
        )
        #expect(try await provider.validate().agreementNumber == EconomicSandbox.defaultAgreementNumber)
    }

    /// Property: for arbitrary parameter values, build the link, let the sandbox's grant page
    /// decode `redirectUrl` and append the token, and parse the callback: the same values and
    /// the token come back, and the parser accepts it against the original request.
    @Test(arguments: [UInt64(1), 7, 42, 2024, 0xC0FFEE])
    func arbitraryParametersRoundTrip(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        let sandbox = EconomicSandbox()
        for _ in 0..<60 {
            var parameters: [EconomicGrantRequest.Parameter] = []
            var names = Set<String>()
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let name = random.nastyText(maxLength: 6, allowEmpty: false)
                guard !["token", "state"].contains(name.lowercased()), names.insert(name.lowercased()).inserted else { continue }
                parameters.append(.init(name, random.nastyText()))
            }
            let existing = Bool.random(using: &random) ? "?fixed=" + FormEncoding.encodeComponent(random.nastyText()) : ""
            let state = Bool.random(using: &random) ? EconomicGrantRequest.randomState() : nil
            let request = EconomicGrantRequest(
                appPublicToken: sandbox.appPublicToken,
                locale: EconomicGrantRequest.Locale.documented.randomElement(using: &random),
                redirectURL: try url("https://app.example.com/økonomi%20cb/back" + existing),
                parameters: parameters, state: state
            )
            let link = try request.url()
            // Exactly one query on the link, and the redirect value is one component.
            let linkItems = FormEncoding.queryItems(of: link)
            #expect(linkItems.filter { $0.0 == "redirectUrl" }.count == 1)
            #expect(try linkItems.first { $0.0 == "redirectUrl" }?.1 == request.redirectTarget()?.absoluteString)

            let response = try await sandbox.reply(HTTPRequest(url: link))
            #expect(response.status == 302)
            let location = try #require(response.headerFields[.location])
            let callback = try EconomicGrantCallback(url: url(location), expecting: request)
            let expectedFixed = FormEncoding.queryItems(of: try url("https://x.example/" + existing)).map { EconomicGrantRequest.Parameter($0.0, $0.1) }
            #expect(callback.parameters == expectedFixed + parameters)
            #expect(callback.agreementGrantToken.byteCount > 10)
            let loose = try EconomicGrantCallback(url: url(location))
            #expect(loose.agreementGrantToken == callback.agreementGrantToken)
        }
    }

    /// Property: a token of arbitrary text appended by the service (percent-encoded) comes back intact.
    @Test func arbitraryTokensRoundTrip() throws {
        var random = SeededGenerator(seed: 99)
        for _ in 0..<300 {
            let token = random.nastyText(maxLength: 20, allowEmpty: false)
            guard !token.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else { continue }
            let value = random.nastyText()
            let callbackURL = try url("https://app.example.com/cb?v=" + FormEncoding.encodeComponent(value) + "&token=" + FormEncoding.encodeComponent(token))
            let callback = try EconomicGrantCallback(url: callbackURL)
            #expect(callback.agreementGrantToken.revealed == token)
            #expect(callback.value(for: "v") == value)
        }
    }

    @Test func randomStatesDiffer() {
        let a = EconomicGrantRequest.randomState()
        let b = EconomicGrantRequest.randomState()
        #expect(a != b)
        #expect(a.byteCount == 64)
    }
}

/// A pending grant survives a trip through another instance's session store.
@Suite struct EconomicGrantRequestCodingTests {
    @Test func aDecodedRequestChecksTheCallbackLikeTheOriginal() throws {
        let request = EconomicGrantRequest(
            appPublicToken: "P", locale: .danish, redirectURL: URL(string: "https://app.example.com/cb?site=1"),
            parameters: [.init("UserInMySystem", "123")], state: Secret("STATE-ACROSS")
        )
        let decoded = try JSONDecoder().decode(EconomicGrantRequest.self, from: JSONEncoder().encode(request))
        #expect(try decoded.url() == request.url())
        let good = try #require(URL(string: "https://app.example.com/cb?site=1&UserInMySystem=123&state=STATE-ACROSS&token=T"))
        #expect(try EconomicGrantCallback(url: good, expecting: decoded).agreementGrantToken.revealed == "T")
        let forged = try #require(URL(string: "https://app.example.com/cb?site=1&UserInMySystem=123&state=STATE-ACROSZ&token=T"))
        #expect(throws: AuthError.self) { try EconomicGrantCallback(url: forged, expecting: decoded) }
    }
}

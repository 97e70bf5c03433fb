import AuthCore
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing

@Suite struct ProfixAuthorizationRequestTests {
    let pending: ProfixAuthorizationRequest

    init() throws {
        pending = try ProfixAuthorizationRequest(client: Fixture.codeClient, state: Secret("st4te"))
    }

    @Test func buildsTheDocumentedURL() {
        #expect(pending.url.absoluteString == "https://api.profix-it.nl/Authorization?client_id=b81cc4de-d192-400e-bcb4-09254394c52a&redirect_uri=https%3A%2F%2Fapp.example.com%2Fprofix%2Fcallback&state=st4te")
        #expect(!pending.description.contains("st4te"))
    }

    @Test func generatesARandomState() throws {
        let a = try ProfixAuthorizationRequest(client: Fixture.codeClient)
        let b = try ProfixAuthorizationRequest(client: Fixture.codeClient)
        #expect(a.state.byteCount == 64)
        #expect(a.state != b.state)
    }

    @Test func needsARedirectURI() {
        #expect(throws: AuthError(.invalidConfiguration)) { try ProfixAuthorizationRequest(client: Fixture.serviceClient) }
    }

    @Test func readsCodesWithSpecialCharacters() throws {
        let callback = URL(string: "https://app.example.com/profix/callback?code=XTzM%21IA%2BB%25C%26D&state=st4te")!
        #expect(try pending.code(from: callback).revealed == "XTzM!IA+B%C&D")
        let raw = URL(string: "https://app.example.com/profix/callback?code=XTzM!IAAA+x")!
        #expect(try pending.code(from: raw).revealed == "XTzM!IAAA+x")   // `+` stays a plus in a query
    }

    @Test func stateIsOptionalUnlessRequired() throws {
        let callback = URL(string: "https://app.example.com/profix/callback?code=abc")!
        #expect(try pending.code(from: callback).revealed == "abc")
        var strict = pending
        strict.statePolicy = .required
        #expect(throws: AuthError(.stateMismatch)) { try strict.code(from: callback) }
    }

    @Test(arguments: [
        ("https://app.example.com/profix/callback?code=abc&state=other", AuthError.Code.stateMismatch),
        ("https://app.example.com/profix/callback?code=abc&state=st4te&state=st4te", .stateMismatch),
        ("https://app.example.com/profix/callback?error=access_denied&state=st4te", .callbackInvalid),
        ("https://app.example.com/profix/callback?state=st4te", .callbackInvalid),
        ("https://app.example.com/profix/callback?code=&state=st4te", .callbackInvalid),
        ("https://app.example.com/profix/callback?code=a&code=b", .callbackInvalid),
        ("https://evil.example.com/profix/callback?code=abc", .callbackInvalid),
        ("http://app.example.com/profix/callback?code=abc", .callbackInvalid),
        ("https://app.example.com/other?code=abc", .callbackInvalid),
        ("https://app.example.com:8443/profix/callback?code=abc", .callbackInvalid),
    ])
    func rejectsBadCallbacks(_ text: String, _ code: AuthError.Code) throws {
        let url = try #require(URL(string: text))
        #expect(throws: AuthError(code)) { try pending.code(from: url) }
    }

    @Test func errorsDoNotEchoTheCode() {
        do {
            _ = try pending.code(from: URL(string: "https://evil.example.com/cb?code=SECRETCODE")!)
        } catch {
            #expect(!"\(error)".contains("SECRETCODE"))
        }
    }
}

/// A pending authorization survives a trip through another instance's session store.
@Suite struct ProfixAuthorizationRequestCodingTests {
    @Test func aDecodedRequestChecksTheCallbackLikeTheOriginal() throws {
        let pending = try ProfixAuthorizationRequest(client: Fixture.codeClient, state: Secret("st4te-across-instances"))
        let decoded = try JSONDecoder().decode(ProfixAuthorizationRequest.self, from: JSONEncoder().encode(pending))
        #expect(decoded.url == pending.url)
        #expect(decoded.statePolicy == pending.statePolicy)
        let good = try #require(URL(string: Fixture.redirect.absoluteString + "?code=abc&state=st4te-across-instances"))
        #expect(try decoded.code(from: good).revealed == "abc")
        let forged = try #require(URL(string: Fixture.redirect.absoluteString + "?code=abc&state=st4te-across-instancez"))
        #expect(throws: AuthError(.stateMismatch)) { try decoded.code(from: forged) }
        #expect(!"\(decoded)".contains("st4te-across-instances"))
    }
}

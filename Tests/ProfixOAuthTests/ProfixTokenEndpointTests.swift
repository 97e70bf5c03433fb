import AuthCore
import HTTPTypes
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing

@Suite struct ProfixTokenEndpointTests {
    private func form(_ request: OutgoingRequest) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in FormEncoding.decode(String(decoding: request.body ?? Data(), as: UTF8.self)) { result[name] = value }
        return result
    }

    @Test(arguments: ["XTzM!IAAAACbPTzQJXwFhM", "a+b", "100%sure", "x&grant_type=password", "k=v", "sp ace", "ünï!+%&="])
    func codeSurvivesFormEncoding(_ code: String) throws {
        let request = ProfixTokenEndpoint.codeRequest(Fixture.codeClient, code: Secret(code))
        let body = String(decoding: try #require(request.body), as: UTF8.self)
        #expect(request.method == .post)
        #expect(request.url.absoluteString == "https://api.profix-it.nl/token")
        #expect(request.headerFields[.contentType] == "application/x-www-form-urlencoded")
        for raw in ["!", "&", "%", "+"] where code.contains(raw) && raw != "%" {
            #expect(!body.contains("code=" + code))   // never sent raw
        }
        let fields = form(request)
        #expect(fields["code"] == code)
        #expect(fields["grant_type"] == "authorization_code")
        #expect(fields["client_id"] == Fixture.codeClient.clientID)
        #expect(fields["client_secret"] == "n3G7KAhcv8OH")
        #expect(fields["redirect_uri"] == Fixture.redirect.absoluteString)
        #expect(body.split(separator: "&").count == 5)
    }

    @Test func bangPlusPercentAmpersandAreEscaped() throws {
        let request = ProfixTokenEndpoint.codeRequest(Fixture.codeClient, code: Secret("a!b+c%d&e"))
        let body = String(decoding: try #require(request.body), as: UTF8.self)
        #expect(body.contains("code=a%21b%2Bc%25d%26e"))
    }

    @Test func grantRequestsCarryTheDocumentedFields() {
        let cc = form(ProfixTokenEndpoint.clientCredentialsRequest(Fixture.serviceClient))
        #expect(cc == ["grant_type": "client_credentials", "client_id": "0d6f6a39-service", "client_secret": "svc-secret"])
        let pw = form(ProfixTokenEndpoint.passwordRequest(Fixture.passwordClient, username: "u@x.nl", password: Secret("p&w")))
        #expect(pw["grant_type"] == "password")
        #expect(pw["username"] == "u@x.nl")
        #expect(pw["password"] == "p&w")
        let refresh = form(ProfixTokenEndpoint.refreshRequest(Fixture.codeClient, refreshToken: Secret("Gcp7!abc")))
        #expect(refresh == ["grant_type": "refresh_token", "refresh_token": "Gcp7!abc",
                            "client_id": Fixture.codeClient.clientID, "client_secret": "n3G7KAhcv8OH"])
        let change = ProfixTokenEndpoint.changePasswordRequest(Fixture.passwordClient, userID: "123", password: Secret("old"), newPassword: Secret("new"))
        #expect(change.url.absoluteString == "https://api.profix-it.nl/token/ChangePassword")
        #expect(form(change) == ["client_id": "5e0c1d2b-password", "client_secret": "pw-secret",
                                 "userid": "123", "password": "old", "newpassword": "new"])
    }

    @Test func parsesTheDocumentedSuccess() throws {
        let response = Reply.json(200, #"{"access_token":"AAEAAGx","token_type":"Bearer","expires_in":600,"refresh_token":"Gcp7!IAAA"}"#)
        let result = try ProfixTokenEndpoint.parseToken(response, maxBytes: 1 << 20)
        #expect(result == .tokens(ProfixTokenResponse(accessToken: Secret("AAEAAGx"), refreshToken: Secret("Gcp7!IAAA"), expiresIn: 600)))
    }

    @Test func acceptsNumericStringLifetimeAndFormBodies() throws {
        let json = Reply.json(200, #"{"access_token":"a","token_type":"bearer","expires_in":"600"}"#)
        #expect(try ProfixTokenEndpoint.parseToken(json, maxBytes: 1 << 20) == .tokens(ProfixTokenResponse(accessToken: Secret("a"), expiresIn: 600)))
        let formBody = Reply(status: 200, headerFields: [.contentType: "application/x-www-form-urlencoded"],
                                    body: Data("access_token=b%21&expires_in=60".utf8))
        #expect(try ProfixTokenEndpoint.parseToken(formBody, maxBytes: 1 << 20) == .tokens(ProfixTokenResponse(accessToken: Secret("b!"), expiresIn: 60)))
    }

    static let malformed: [(String, Reply, AuthError.Code)] = [
        ("html page", Reply(status: 200, headerFields: [.contentType: "text/html"], body: Data("<html><body>Login</body></html>".utf8)), .malformedResponse),
        ("html 502", Reply(status: 502, body: Data("<!DOCTYPE html><html>Bad gateway</html>".utf8)), .serviceUnavailable),
        ("missing access_token", .json(200, #"{"token_type":"Bearer","expires_in":600,"refresh_token":"r"}"#), .malformedResponse),
        ("empty access_token", .json(200, #"{"access_token":"","expires_in":600}"#), .malformedResponse),
        ("expires_in word", .json(200, #"{"access_token":"a","expires_in":"ten minutes"}"#), .malformedResponse),
        ("expires_in negative", .json(200, #"{"access_token":"a","expires_in":-600}"#), .malformedResponse),
        ("expires_in zero", .json(200, #"{"access_token":"a","expires_in":0}"#), .malformedResponse),
        ("expires_in huge", .json(200, #"{"access_token":"a","expires_in":1e300}"#), .malformedResponse),
        ("token_type mac", .json(200, #"{"access_token":"a","token_type":"mac"}"#), .malformedResponse),
        ("refresh_token number", .json(200, #"{"access_token":"a","refresh_token":42}"#), .malformedResponse),
        ("2xx with error", .json(200, #"{"error":"invalid_grant"}"#), .invalidGrant),
        ("not json", Reply(status: 200, body: Data("OK".utf8)), .malformedResponse),
        ("json array", .json(200, "[1,2]"), .malformedResponse),
        ("huge body", .json(200, #"{"access_token":""# + String(repeating: "x", count: 1 << 20) + #""}"#), .responseTooLarge),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedResponses(_ name: String, _ response: Reply, _ code: AuthError.Code) {
        #expect {
            _ = try ProfixTokenEndpoint.parseToken(response, maxBytes: 1 << 20)
        } throws: { error in
            guard let error = error as? AuthError else { return false }
            return error.code == code && error.provider == "profix"
        }
    }

    @Test(arguments: [
        (400, #"{"error":"invalid_grant"}"#, AuthError.Code.invalidGrant),
        (401, #"{"error":"invalid_client"}"#, .invalidCredentials),
        (401, "", .invalidCredentials),
        (403, "", .forbidden),
        (406, "", .invalidCredentials),
        (400, #"{"error":"unsupported_grant_type"}"#, .invalidConfiguration),
        (429, "", .rateLimited),
        (503, "", .serviceUnavailable),
        (418, "", .unexpectedStatus),
    ])
    func mapsErrorStatuses(_ status: Int, _ body: String, _ code: AuthError.Code) {
        let response = Reply(status: status, headerFields: [.contentType: "application/json"], body: Data(body.utf8))
        #expect(throws: AuthError(code)) { try ProfixTokenEndpoint.parseToken(response, maxBytes: 1 << 20) }
    }

    @Test func recognisesRequiredPasswordChangeOnlyForThePasswordGrant() throws {
        let response = Reply.json(200, #"{"userid": 123, "RequireChangePassword": true}"#)
        #expect(try ProfixTokenEndpoint.parseToken(response, maxBytes: 1024, allowsPasswordChange: true) == .passwordChangeRequired(userID: "123"))
        #expect(throws: AuthError(.malformedResponse)) { try ProfixTokenEndpoint.parseToken(response, maxBytes: 1024) }
        let noUser = Reply.json(400, #"{"RequireChangePassword": true}"#)
        #expect(throws: AuthError(.malformedResponse)) { try ProfixTokenEndpoint.parseToken(noUser, maxBytes: 1024, allowsPasswordChange: true) }
    }

    @Test func changePasswordOutcomes() throws {
        try ProfixTokenEndpoint.parseChangePassword(.json(200, #"{"success":true,"message":"You can now login"}"#), maxBytes: 1024)
        do {
            try ProfixTokenEndpoint.parseChangePassword(.json(200, #"{"success":false,"message":"Password too short"}"#), maxBytes: 1024)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .passwordChangeRejected)
            #expect(error.serverMessage == "Password too short")
        }
        #expect(throws: AuthError(.malformedResponse)) { try ProfixTokenEndpoint.parseChangePassword(.json(200, "{}"), maxBytes: 1024) }
        #expect(throws: AuthError(.invalidCredentials)) { try ProfixTokenEndpoint.parseChangePassword(.json(401, "{}"), maxBytes: 1024) }
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
import ProfixOAuth
import Testing

@Suite struct ProfixSandboxTests {
    let clock = TestClock()
    let tokenURL = URL(string: "https://api.profix-it.nl/token")!

    private func post(_ sandbox: ProfixSandbox, _ pairs: [(String, String)]) async throws -> Reply {
        try await sandbox.reply(.form(url: tokenURL, pairs))
    }

    @Test func acceptsOnlyFormBodies() async throws {
        let sandbox = Fixture.sandbox(clock)
        let json = OutgoingRequest(method: .post, url: tokenURL, headerFields: [.contentType: "application/json"],
                               body: Data(#"{"grant_type":"client_credentials"}"#.utf8))
        let response = try await sandbox.reply(json)
        #expect(response.status == 400)
        #expect(response.text.contains("invalid_request"))
    }

    @Test func checksTheSecretAndThePinnedGrant() async throws {
        let sandbox = Fixture.sandbox(clock)
        let wrong = try await post(sandbox, [("grant_type", "client_credentials"), ("client_id", Fixture.serviceClient.clientID), ("client_secret", "nope")])
        #expect(wrong.status == 401)
        #expect(wrong.text.contains("invalid_client"))
        let pinned = try await post(sandbox, [("grant_type", "client_credentials"), ("client_id", Fixture.codeClient.clientID), ("client_secret", "n3G7KAhcv8OH")])
        #expect(pinned.status == 400)
        #expect(pinned.text.contains("unauthorized_client"))
        let unknown = try await post(sandbox, [("grant_type", "magic"), ("client_id", Fixture.codeClient.clientID), ("client_secret", "n3G7KAhcv8OH")])
        #expect(unknown.text.contains("unsupported_grant_type"))
    }

    @Test func rotatesRefreshTokens() async throws {
        let sandbox = Fixture.sandbox(clock)
        let creds = [("client_id", Fixture.passwordClient.clientID), ("client_secret", "pw-secret")]
        let login = try await post(sandbox, [("grant_type", "password"), ("username", "support@example.com"), ("password", "correct horse")] + creds)
        let first = try JSONSerialization.jsonObject(with: login.body) as? [String: Any]
        let refresh = try #require(first?["refresh_token"] as? String)
        #expect(refresh.contains("!"))
        #expect(first?["expires_in"] as? Int == 600)
        let rotated = try await post(sandbox, [("grant_type", "refresh_token"), ("refresh_token", refresh)] + creds)
        #expect(rotated.status == 200)
        let again = try await post(sandbox, [("grant_type", "refresh_token"), ("refresh_token", refresh)] + creds)
        #expect(again.status == 400)
        #expect(again.text.contains("invalid_grant"))
    }

    @Test func tokensExpireOnTheSandboxClock() async throws {
        let sandbox = Fixture.sandbox(clock)
        let response = try await post(sandbox, [("grant_type", "client_credentials"), ("client_id", Fixture.serviceClient.clientID), ("client_secret", "svc-secret")])
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let token = try #require(object?["access_token"] as? String)
        #expect(object?["refresh_token"] == nil)
        let call = HTTPRequest(url: Fixture.apiURL, headerFields: [.authorization: "Bearer \(token)"])
        #expect(try await sandbox.reply(call).status == 200)
        clock.advance(600)
        #expect(try await sandbox.reply(call).status == 401)
    }

    @Test func authorizationEndpointRedirectsWithACode() async throws {
        let sandbox = Fixture.sandbox(clock)
        let url = URL(string: "https://api.profix-it.nl/Authorization?client_id=\(Fixture.codeClient.clientID)&redirect_uri=https%3A%2F%2Fapp.example.com%2Fprofix%2Fcallback")!
        let response = try await sandbox.reply(HTTPRequest(url: url))
        #expect(response.status == 302)
        #expect(response.headerFields[.location]?.hasPrefix("https://app.example.com/profix/callback?code=") == true)
        let mismatch = URL(string: "https://api.profix-it.nl/Authorization?client_id=\(Fixture.codeClient.clientID)&redirect_uri=https%3A%2F%2Fevil.example.com")!
        #expect(try await sandbox.reply(HTTPRequest(url: mismatch)).status == 400)
    }
}

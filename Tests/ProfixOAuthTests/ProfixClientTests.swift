import AuthCore
import HTTPTypes
import Foundation
import ProfixOAuthTesting
@testable import ProfixOAuth
import Testing

@Suite struct ProfixClientTests {
    @Test func regionsAndEndpoints() throws {
        #expect(Fixture.codeClient.tokenURL.absoluteString == "https://api.profix-it.nl/token")
        #expect(Fixture.serviceClient.tokenURL.absoluteString == "https://api.profix-it.be/token")
        let custom = try ProfixRegistration.Region.custom(URL(string: "http://127.0.0.1:8080/profix/")!)
        let client = ProfixRegistration(clientID: "id", clientSecret: Secret("s"), region: custom)
        #expect(client.tokenURL.absoluteString == "http://127.0.0.1:8080/profix/token")
        #expect(client.changePasswordURL.absoluteString == "http://127.0.0.1:8080/profix/token/ChangePassword")
        #expect(client.authorizationEndpoint.absoluteString == "http://127.0.0.1:8080/profix/Authorization")
    }

    @Test func customRegionMustBeSecure() {
        #expect(throws: AuthError(.insecureURL)) { try ProfixRegistration.Region.custom(URL(string: "http://profix.example.com")!) }
        #expect(throws: AuthError(.invalidConfiguration)) { try ProfixRegistration.Region.custom(URL(string: "https://profix.example.com/?x=1")!) }
    }

    @Test func descriptionHidesTheSecret() {
        let text = "\(Fixture.codeClient) \(String(reflecting: Fixture.codeClient))"
        #expect(!text.contains("n3G7KAhcv8OH"))
        #expect(text.contains("b81cc4de"))
    }
}

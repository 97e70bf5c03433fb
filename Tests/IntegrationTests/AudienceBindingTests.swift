import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuth
import Foundation
import EconomicAuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import ProfitAuth
import ProfixOAuth
import Testing

/// Each provider sends its credentials only to the hosts it is configured for; anything else is
/// refused before a byte is sent.
@Suite struct AudienceBindingTests {
    static let foreign = [
        "https://evil.example/api/v1/items",
        "https://api.profix-it.nl.evil.example/x",      // a suffix is not the host
        "https://12345.rest.afas.online.evil.example/x",
        "https://restapi.e-conomic.com.evil.example/x",
        "https://127.0.0.1/x",
    ]

    private func refuses(_ provider: some CredentialProvider, mock: MockTransport) async throws {
        for address in Self.foreign {
            let url = try #require(URL(string: address))
            await #expect(throws: AuthError(.untrustedHost)) { _ = try await provider.authorized(HTTPRequest(url: url)) }
            await #expect(throws: AuthError(.untrustedHost)) {
                _ = try await AuthorizingTransport(base: mock, provider: provider).reply(HTTPRequest(url: url))
            }
        }
        #expect(mock.requestCount == 0)
    }

    @Test func profixSendsItsTokenOnlyToItsRegion() async throws {
        let mock = MockTransport { _ in .json(200, #"{"access_token":"tok-1","token_type":"bearer","expires_in":600}"#) }
        let client = ProfixRegistration(clientID: "svc", clientSecret: Secret("svc-secret"), region: .nl)
        let provider = ProfixProvider(client: client, transport: mock)
        try await provider.requestClientCredentialsToken()
        let grantCalls = mock.requestCount
        try await refuses(provider, mock: MockTransport())
        #expect(mock.requestCount == grantCalls)

        let own = try await provider.authorized(HTTPRequest(url: try #require(URL(string: "https://API.Profix-IT.nl./api/v1/items"))))
        #expect(own.headerFields[.authorization] == "Bearer tok-1")

        let widened = ProfixProvider(client: client, transport: mock, configuration: .init(additionalHosts: ["files.profix-it.nl"]))
        try await widened.requestClientCredentialsToken()
        let extra = try await widened.authorized(HTTPRequest(url: try #require(URL(string: "https://files.profix-it.nl/f/1"))))
        #expect(extra.headerFields[.authorization] != nil)
    }

    @Test func profitSendsItsTokenOnlyToItsEnvironment() async throws {
        let environment = try ProfitEnvironment(number: "12345")
        let token = try ProfitToken("<token><version>1</version><data>\(String(repeating: "AB", count: 32))</data></token>")
        let provider = ProfitProvider(environment: environment, transport: MockTransport())
        try await provider.addToken(token)
        try await refuses(provider, mock: MockTransport())
        #expect(try await provider.authorized(HTTPRequest(url: environment.restURL("ProfitVersion"))).headerFields[.authorization] != nil)
        #expect(try await provider.authorized(HTTPRequest(url: environment.soapURL("appconnectorget.asmx"))).headerFields[.authorization] != nil)
        #expect(provider.audience.hosts == ["12345.rest.afas.online", "12345.soap.afas.online"])
    }

    @Test func economicSendsItsTokensOnlyToItsAPIHosts() async throws {
        let provider = try EconomicProvider(credentials: .demo, transport: MockTransport())
        try await refuses(provider, mock: MockTransport())
        for address in ["https://restapi.e-conomic.com/customers", "https://apis.e-conomic.com/q2capi/v5.1.0/invoices"] {
            let authorized = try await provider.authorized(HTTPRequest(url: try #require(URL(string: address))))
            #expect(authorized.headerFields[.economicAppSecretToken] == "demo")
        }
    }

    @Test func audienceNormalisesHosts() throws {
        var audience = CredentialAudience(urls: [try #require(URL(string: "https://API.example.com:8443/base"))])
        audience.insert("[::1]")
        #expect(audience.allows(try #require(URL(string: "https://api.example.com./x"))))
        #expect(audience.allows(try #require(URL(string: "http://[::1]:8080/x"))))
        #expect(!audience.allows(try #require(URL(string: "https://example.com/x"))))
        #expect(!audience.allows(try #require(URL(string: "https://xapi.example.com/x"))))
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
@testable import DocSnippets
import ProfitAuthTesting
import Foundation
import Testing
import ProfitAuth

/// Runs the code of `Docs/ProfitAuth.md` (compiled into DocSnippets by Scripts/docsnippets.py) in
/// the guide's order; the guide's own test (block 8) runs from DocSnippets.
@Suite struct DocumentationExamples {
    let apiKey = Fixtures.apiKey.revealed
    let environmentKey = Fixtures.environmentKey.revealed

    @Test func fromZeroToAnAuthorizedCall() async throws {
        let sandbox = ProfitSandbox(apiKey: Secret(apiKey), environmentKey: Secret(environmentKey),
                                    users: ["DavidB": "david@example.com"], tokenValidity: .seconds(3 * 86_400))
        let transport = sandbox
        let store = InMemoryTokenStore()

        // 2. Address the environment
        let environment = try ProfitEnvironment(number: "O12345AA", kind: .test)
        #expect(environment.restBaseURL.absoluteString == "https://12345.resttest.afas.online/ProfitRestServices")
        #expect(environment.soapBaseURL?.absoluteString == "https://12345.soaptest.afas.online/profitservices")

        // 3. Create the provider
        let provider = makeProfitProvider(environment: environment, apiKey: apiKey, environmentKey: environmentKey,
                                          transport: transport, store: store)

        // 4. Ask for the e-mail
        try await provider.requestOTP(userId: "DavidB")

        // 5. Redeem the code
        let codeTheUserTyped = try #require(sandbox.latestCode(for: "DavidB")).revealed
        try await provider.redeemOTP(Secret(codeTheUserTyped), userId: "DavidB")

        // 6. Make authorized calls
        let client = AuthorizingTransport(base: transport, provider: provider)
        let response = try await client.reply(HTTPRequest(url: try environment.restURL("connectors/Profit_Debtors?take=10")))
        #expect(response.status == 200)

        // 7. When the token stops working
        let info = try await provider.tokenInfo()          // GET …/metainfo
        var warned = false
        if info.expires(within: .seconds(7 * 86_400), after: Date()) {
            warned = true   // ask the user to request a new code soon
        }
        #expect(warned)
        #expect(try await store.load(provider.key) != nil)
    }

    @Test func addOrDeleteTokensByHand() async throws {
        let sandbox = Fixtures.sandbox()
        let provider = ProfitProvider(environment: try ProfitEnvironment(number: "12345"), transport: sandbox, key: TokenKey(provider: "profit", account: "DavidB"))
        let tokenTextFromTheAdministrator = try sandbox.issueToken(for: "DavidB").xml.revealed

        try await provider.addToken(try ProfitToken(tokenTextFromTheAdministrator))   // XML or 64 hex digits
        try await provider.deleteToken()                          // SOAP DeleteToken, then local removal
        #expect(sandbox.activeTokenCount == 0)
        try await provider.addToken(try ProfitToken(tokenTextFromTheAdministrator))
        try await provider.deleteToken(revokingOnServer: false)   // local removal only
        #expect(try await provider.hasToken() == false)
    }
}

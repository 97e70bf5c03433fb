// Runs the code of Docs/EconomicAuth.md, which Scripts/docsnippets.py compiles into DocSnippets.
import AuthCore
import HTTPTypes
import AuthTesting
@testable import DocSnippets
import EconomicAuthTesting
import EconomicAuth
import Foundation
import Testing

@Suite struct DocumentationExamples {
    @Test func restExampleRuns() async throws {
        let sandbox = EconomicSandbox()
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let (agreement, customers) = try await docsValidateAgreement(appSecret: sandbox.appSecretToken, grant: grant, transport: sandbox)
        #expect(agreement == EconomicSandbox.defaultAgreementNumber)
        #expect(!customers.isEmpty)
    }

    @Test func redirectEndpointStoresTheGrant() async throws {
        let sandbox = EconomicSandbox(appPublicToken: "my-app-public-token")
        let store = InMemoryTokenStore()
        let (link, pending) = try docsGrantLink(userID: "user 42 & co")
        let page = try await sandbox.reply(HTTPRequest(url: link))
        let location = try #require(page.headerFields[.location].flatMap(URL.init(string:)))
        let reply = await handleEconomicRedirect(requestURL: location, pending: { state in
            pending.state?.matches(state) == true ? pending : nil
        }, store: store)
        #expect(reply == GrantRedirectReply(status: 200, body: "e-conomic is connected."))
        let saved = try #require(try await store.load(TokenKey(provider: "economic", account: "user 42 & co")))
        #expect(saved.accessToken.byteCount > 10)

        // A tampered callback is refused and nothing is stored.
        let tampered = try #require(URL(string: location.absoluteString.replacingOccurrences(of: "user%2042", with: "user%2043")))
        let refused = await handleEconomicRedirect(requestURL: tampered, pending: { _ in pending }, store: store)
        #expect(refused.status == 400)
        #expect(store.keys.count == 1)
    }

    @Test func soapAndManyAgreementsExamplesRun() async throws {
        let sandbox = EconomicSandbox()
        sandbox.addAgreement(number: 5, companyName: "Five")
        let grants = [sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber), sandbox.issueGrant(agreementNumber: 5)]
        let credentials = EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: grants[1])
        #expect(try await docsSOAPAgreementNumber(credentials: credentials, transport: sandbox) == "5")
        #expect(try await docsManyAgreements(appSecret: sandbox.appSecretToken, grants: grants, transport: sandbox) == [EconomicSandbox.defaultAgreementNumber, 5])
    }
}

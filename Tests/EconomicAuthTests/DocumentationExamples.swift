// The code examples of Docs/EconomicAuth.md, compiled and run. Keep the two in sync.
import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
import EconomicAuth
import Foundation
import Testing

// MARK: Docs example 1 — REST with one agreement

func docsValidateAgreement(appSecret: Secret, grant: Secret, transport: any HTTPTransport) async throws -> Int? {
    let provider = try EconomicProvider(
        credentials: EconomicCredentials(appSecretToken: appSecret, agreementGrantToken: grant),
        transport: transport
    )
    let agreement = try await provider.validate()              // GET /self
    let (response, customers) = try await provider.send(.get, path: "customers?pagesize=100")
    _ = (response.status, customers)
    return agreement.agreementNumber
}

// MARK: Docs example 2 — the grant link

func docsGrantLink(userID: String) throws -> (link: URL, pending: EconomicGrantRequest) {
    let request = EconomicGrantRequest(
        appPublicToken: "my-app-public-token",
        locale: .danish,
        redirectURL: URL(string: "https://app.example.com/economic/callback"),
        parameters: [.init("UserInMySystem", userID)],
        state: EconomicGrantRequest.randomState()
    )
    return (try request.url(), request)
}

// MARK: Docs example 3 — serving the redirect endpoint

/// What the redirect endpoint answers; map it onto your framework's response type.
struct GrantRedirectReply: Sendable, Equatable {
    var status: Int
    var body: String
}

/// Handles `GET /economic/callback?…&state=…&token=…` in any server framework.
///
/// `pending` finds the request the link was built from by its state (kept in the user's
/// session or a short-lived table when the link was made); `store` keeps the grant.
func handleEconomicRedirect(
    requestURL: URL,
    pending: (String) async -> EconomicGrantRequest?,
    store: any TokenStore
) async -> GrantRedirectReply {
    let state = FormEncoding.queryItems(of: requestURL).first { $0.0 == "state" }?.1 ?? ""
    guard let request = await pending(state) else {
        return GrantRedirectReply(status: 400, body: "This link has expired. Please start again.")
    }
    do {
        let callback = try EconomicGrantCallback(url: requestURL, expecting: request)
        let user = callback.value(for: "UserInMySystem") ?? "unknown"
        try await store.save(
            StoredCredential(accessToken: callback.agreementGrantToken, issuedAt: Date()),
            for: TokenKey(provider: "economic", account: user)
        )
        return GrantRedirectReply(status: 200, body: "e-conomic is connected.")
    } catch let error as AuthError {
        return GrantRedirectReply(status: 400, body: "The connection failed (\(error.code)).")
    } catch {
        return GrantRedirectReply(status: 500, body: "The grant could not be saved.")
    }
}

// MARK: Docs example 4 — SOAP session

func docsSOAPAgreementNumber(credentials: EconomicCredentials, transport: any HTTPTransport) async throws -> String? {
    let session = try EconomicSOAPSession(credentials: credentials, transport: transport)
    let reply = try await session.call("Agreement_GetNumber")
    try await session.disconnect()
    return reply.text(of: "Agreement_GetNumberResult")
}

// MARK: Docs example 5 — many agreements

func docsManyAgreements(appSecret: Secret, grants: [Secret], transport: any HTTPTransport) async throws -> [Int?] {
    let app = EconomicApp(appSecretToken: appSecret, transport: transport)
    var numbers: [Int?] = []
    for grant in grants {
        numbers.append(try await app.provider(grantToken: grant).validate().agreementNumber)
    }
    return numbers
}

@Suite struct DocumentationExamples {
    @Test func restExampleRuns() async throws {
        let sandbox = EconomicSandbox()
        let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        #expect(try await docsValidateAgreement(appSecret: sandbox.appSecretToken, grant: grant, transport: sandbox) == EconomicSandbox.defaultAgreementNumber)
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

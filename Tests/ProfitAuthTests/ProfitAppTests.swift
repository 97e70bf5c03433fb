import AuthCore
import AuthTesting
import Foundation
import HTTPTypes
@testable import ProfitAuth
import ProfitAuthTesting
import Testing
import TestSupport

/// Providers made by one `ProfitApp`: one shared copy of the environment, keys and options, and
/// each user's own token under its own key.
@Suite struct ProfitAppTests {
    @Test func usersOfOneAppKeepTheirOwnTokens() async throws {
        let sandbox = Fixtures.sandbox()
        let store = InMemoryTokenStore()
        let changes = Recorder<String>()
        let app = ProfitApp(environment: try Fixtures.environment(), keys: Fixtures.keys, transport: sandbox, store: store,
                            configuration: Fixtures.configuration(), now: { Fixtures.start },
                            onCredentialChange: { key, credential in changes.append("\(key.account):\(credential == nil ? "removed" : "saved")") })
        let david = app.provider(key: TokenKey(provider: "profit", account: "DavidB"))
        let other = app.provider(key: TokenKey(provider: "profit", account: "NoMail"))
        #expect(david.shared === other.shared)

        let davidToken = try sandbox.issueToken(for: "DavidB")
        let otherToken = try sandbox.issueToken(for: "NoMail")
        #expect(davidToken.xml.revealed != otherToken.xml.revealed)
        try await david.addToken(davidToken)
        try await other.addToken(otherToken)
        let url = try app.environment.restURL("ProfitVersion")
        let davidRequest = try await david.authorized(HTTPRequest(url: url))
        let otherRequest = try await other.authorized(HTTPRequest(url: url))
        #expect(davidRequest.headerFields[.authorization] != otherRequest.headerFields[.authorization])
        #expect(try await store.load(david.key)?.accessToken.revealed == davidToken.xml.revealed)
        #expect(try await store.load(other.key)?.accessToken.revealed == otherToken.xml.revealed)
        let (response, _) = try await AuthorizingTransport(base: sandbox, provider: other).send(HTTPRequest(url: url), body: nil)
        #expect(response.status == .ok)

        #expect(try await david.deleteToken(revokingOnServer: false))
        #expect(try await store.load(david.key) == nil)
        #expect(try await store.load(other.key) != nil)
        #expect(changes.values == ["DavidB:saved", "NoMail:saved", "DavidB:removed"])
    }
}

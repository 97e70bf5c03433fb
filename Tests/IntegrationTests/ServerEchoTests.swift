import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import Foundation
import EconomicAuthTesting
import ProfitAuth
import ProfixOAuth
import Testing

/// Every text of an error, down its chain of underlying errors.
private func texts(of error: any Error) -> [String] {
    var out = renderings(of: error)
    if let error = error as? AuthError {
        out += [error.serverMessage, error.serverCode, error.logReference].compactMap { $0 }
        if let underlying = error.underlying { out += texts(of: underlying) }
    }
    return out
}

/// Servers (and proxies) that repeat the request in their error answers never get a secret into
/// an error: the sandboxes' echo modes send back the whole form and the token header.
@Suite struct ServerEchoTests {
    @Test func profixEchoesOfFormsAndTokensNeverReachAnError() async throws {
        let now = Locked(Date(timeIntervalSince1970: 1_800_000_000))
        let clock: @Sendable () -> Date = { now.withLock { $0 } }
        var configuration = ProfixSandbox.Configuration()
        configuration.echoesRequests = true
        let sandbox = ProfixSandbox(configuration: configuration, now: clock)
        let redirect = try #require(URL(string: "https://app.example.com/cb"))
        let client = ProfixRegistration(clientID: "app-echo", clientSecret: Secret("CLIENT-secret-echo-4711"), redirectURI: redirect)
        sandbox.registerClient(id: client.clientID, secret: client.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        let passwordClient = ProfixRegistration(clientID: "pw-echo", clientSecret: Secret("PASSWORD-client-echo-99"))
        sandbox.registerClient(id: passwordClient.clientID, secret: passwordClient.clientSecret, grant: .password)
        sandbox.addUser(username: "ann@example.com", password: Secret("Right-Passw0rd-ann"), userID: "77")
        var errors: [any Error] = []
        func capture(_ body: () async throws -> Void) async {
            do { try await body() } catch { errors.append(error) }
        }

        let provider = ProfixProvider(client: client, transport: sandbox, now: clock)
        let pending = try ProfixAuthorizationRequest(client: client)
        let callback = try sandbox.approve(authorizationURL: pending.url)
        let code = try pending.code(from: callback)
        let wrongSecret = ProfixProvider(client: ProfixRegistration(clientID: client.clientID, clientSecret: Secret("WRONG-client-secret-1"),
                                                              redirectURI: redirect), transport: sandbox, now: clock)
        await capture { try await wrongSecret.exchange(code: code) }
        try await provider.exchange(code: code)
        await capture { try await provider.exchange(code: code) }   // a used code
        let refreshToken = try #require(try await provider.credential()?.refreshToken)
        sandbox.revokeRefreshTokens()
        now.withLock { $0 = $0.addingTimeInterval(600) }
        await capture { _ = try await provider.authorized(HTTPRequest(url: try #require(URL(string: "https://api.profix-it.nl/api/v1/x")))) }

        let user = ProfixProvider(client: passwordClient, transport: sandbox, now: clock)
        await capture { _ = try await user.logIn(username: "ann@example.com", password: Secret("Wrong-Passw0rd-ann")) }
        await capture { try await user.changePassword(userID: "77", currentPassword: Secret("Wrong-Passw0rd-ann"), newPassword: Secret("New-Passw0rd-ann-2")) }

        #expect(errors.count == 5)
        let rendered = errors.flatMap(texts(of:))
        #expect(rendered.contains { $0.contains("could not process") }, "the echo must reach the errors for this test to mean anything")
        let secrets: Set<String> = ["CLIENT-secret-echo-4711", "WRONG-client-secret-1", code.revealed, refreshToken.revealed,
                                    "PASSWORD-client-echo-99", "Wrong-Passw0rd-ann", "New-Passw0rd-ann-2"]
        expectNoLeak(of: secrets, in: rendered)
    }

    @Test func profitEchoesOfKeysCodesAndTokensNeverReachAnError() async throws {
        let apiKey = Secret("A1B2C3D4E5F60718293A4B5C6D7E8F90")
        let environmentKey = Secret("F0E1D2C3B4A5968778695A4B3C2D1E0F")
        let sandbox = ProfitSandbox(apiKey: apiKey, environmentKey: environmentKey, users: ["DavidB": "david@example.com"])
        sandbox.setEchoesRequests(true)
        let provider = ProfitProvider(environment: try ProfitEnvironment(number: "12345"),
                                      keys: .init(apiKey: apiKey, environmentKey: environmentKey), transport: sandbox)
        var errors: [any Error] = []
        do { try await provider.redeemOTP(Secret("99999999"), userId: "DavidB") } catch { errors.append(error) }
        do { try await provider.redeemOTP(Secret("88888888"), userId: "DavidB", over: .soap) } catch { errors.append(error) }
        try await provider.requestOTP(userId: "DavidB")
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        let token = try await provider.redeemOTP(code, userId: "DavidB")
        sandbox.revokeAllTokens()
        let client = AuthorizingTransport(base: sandbox, provider: provider)
        do { _ = try await client.reply(HTTPRequest(url: try provider.environment.restURL("connectors/Profit_Debtors"))) } catch { errors.append(error) }
        do { _ = try await provider.tokenInfo() } catch { errors.append(error) }

        #expect(errors.count == 4)
        let rendered = errors.flatMap(texts(of:))
        #expect(rendered.contains { $0.contains("could not process") }, "the echo must reach the errors for this test to mean anything")
        expectNoLeak(of: [apiKey.revealed, environmentKey.revealed, "99999999", "88888888", code.revealed, token.xml.revealed], in: rendered)
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import EconomicAuth
import Foundation
import ProfitAuth
import ProfixOAuth
import Testing
import TestSupport

/// Records every request and response that crosses it, so the test learns every credential that
/// went over the wire (keys, secrets, passwords, codes, tokens, cookies) without knowing the
/// sandboxes' internals.
final class WireTap<Base: HTTPTransport>: HTTPTransport {
    let base: Base
    let exchanges = Recorder<(MockTransport.Request, MockTransport.Response?)>()

    init(_ base: Base) { self.base = base }

    func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        let sent = MockTransport.Request(head: request, body: body)
        do {
            let (response, data) = try await base.send(request, body: body)
            exchanges.append((sent, MockTransport.Response(status: response.status, headerFields: response.headerFields, body: data)))
            return (response, data)
        } catch {
            exchanges.append((sent, nil))
            throw error
        }
    }

    /// Every credential value seen on the wire.
    var secrets: Set<String> {
        var found = Set<String>()
        let credentialHeaders: [HTTPField.Name] = [.authorization, .economicAppSecretToken, .economicAgreementGrantToken, .cookie]
        let fieldNames = ["client_secret", "password", "newpassword", "refresh_token", "code", "access_token",
                          "apiKey", "apiToken", "environmentKey", "otp", "token", "appToken",
                          "GetTokenFromOTPResult", "state"]
        for (request, response) in exchanges.values {
            for name in credentialHeaders {
                for value in request.headerFields[values: name] {
                    found.insert(value)
                    if let space = value.firstIndex(of: " ") { found.insert(String(value[value.index(after: space)...])) }
                    for cookie in value.split(separator: ";") {
                        if let eq = cookie.firstIndex(of: "=") { found.insert(String(cookie[cookie.index(after: eq)...])) }
                    }
                }
            }
            for (name, value) in FormEncoding.queryItems(of: request.url) where fieldNames.contains(name) { found.insert(value) }
            for (_, value) in FormEncoding.queryItems(of: request.url) where value.contains("token=") {
                if let url = URL(string: value) {
                    for (n, v) in FormEncoding.queryItems(of: url) where n == "token" { found.insert(v) }
                }
            }
            var bodies = [request.body ?? Data()]
            if let response { bodies.append(response.body) }
            if let location = response?.headerFields[.location], let url = URL(string: location) {
                for (name, value) in FormEncoding.queryItems(of: url) where fieldNames.contains(name) { found.insert(value) }
            }
            for cookie in response?.headerFields[values: .setCookie] ?? [] {
                for part in cookie.split(separator: ",") {
                    let pair = part.split(separator: ";").first.map(String.init) ?? ""
                    if let eq = pair.firstIndex(of: "="), !pair.lowercased().contains("expires") {
                        found.insert(String(pair[pair.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
                    }
                }
            }
            for body in bodies {
                let text = String(decoding: body, as: UTF8.self)
                if request.headerFields[.contentType]?.contains("form") == true, body == request.body ?? Data() {
                    for (name, value) in FormEncoding.decode(text) where fieldNames.contains(name) { found.insert(value) }
                }
                if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
                    for name in fieldNames { if let value = object[name] as? String { found.insert(value) } }
                }
                if let soap = try? SOAPMessage(parsing: body) {
                    for name in fieldNames { if let value = soap.text(of: name) { found.insert(value) } }
                }
            }
        }
        // Short values (an 8-digit code is the shortest credential here) would match by chance.
        return found.filter { $0.count >= 8 && $0 != "application/json" }
    }
}

/// Checks that no secret, raw or encoded, appears in any captured text.
func expectNoLeak(of secrets: Set<String>, in texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    var forms: [String: String] = [:]
    for secret in secrets {
        forms[secret] = secret
        forms[Data(secret.utf8).base64EncodedString()] = secret
        forms[FormEncoding.encodeComponent(secret)] = secret
        forms[FormEncoding.encodeComponent(secret, spaceAsPlus: true)] = secret
        forms[SOAPMessage.escape(secret)] = secret
    }
    let haystack = texts.joined(separator: "\n")
    for (form, secret) in forms where haystack.contains(form) {
        let context = haystack.components(separatedBy: form).first.map { String($0.suffix(60)) } ?? ""
        let kind = form == secret ? "raw" : "encoded"
        Issue.record("a secret (\(kind), \(form.count) characters) appeared after: …\(context.replacingOccurrences(of: "\n", with: " "))", sourceLocation: sourceLocation)
    }
}

func renderings(of value: Any) -> [String] {
    var dumped = ""
    dump(value, to: &dumped)
    return [String(describing: value), String(reflecting: value), dumped]
}

@Suite(.serialized) struct SecretsNeverLeakTests {
    @Test func profitFlows() async throws {
        let apiKey = Secret("A1B2C3D4E5F60718293A4B5C6D7E8F90")
        let environmentKey = Secret("F0E1D2C3B4A5968778695A4B3C2D1E0F")
        let sandbox = ProfitSandbox(apiKey: apiKey, environmentKey: environmentKey, users: ["DavidB": "david@example.com"])
        let tap = WireTap(sandbox)
        let events = Recorder<String>()
        let store = InMemoryTokenStore()
        let environment = try ProfitEnvironment(number: "12345")
        let provider = ProfitProvider(environment: environment,
                                      keys: .init(apiKey: apiKey, environmentKey: environmentKey),
                                      transport: tap,
                                      store: store,
                                      key: TokenKey(provider: "profit", account: "DavidB"),
                                      observer: AuthEventObserver { events.append("\($0)") })
        var texts: [String] = []
        func capture(_ body: () async throws -> Void) async {
            do { try await body() } catch { texts += renderings(of: error) + ["\(error.localizedDescription)"] }
        }
        await capture { try await provider.requestOTP(userId: "DavidB") }
        await capture { try await provider.redeemOTP(Secret("87654321"), userId: "DavidB") }   // wrong code
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        await capture { try await provider.redeemOTP(code, userId: "DavidB") }
        await capture { try await provider.redeemOTP(code, userId: "DavidB") }                  // used twice
        let client = AuthorizingTransport(base: tap, provider: provider)
        await capture { _ = try await client.reply(HTTPRequest(url: try environment.restURL("ProfitVersion"))) }
        await capture { _ = try await provider.tokenInfo() }
        sandbox.revokeAllTokens()
        await capture { _ = try await client.reply(HTTPRequest(url: try environment.restURL("ProfitVersion"))) }
        await capture { try await provider.deleteToken() }
        let stored = try await store.load(provider.key)
        texts += renderings(of: provider) + renderings(of: stored as Any) + events.values
        texts += tap.exchanges.values.flatMap { renderings(of: $0.0) + [$0.0.headerFields.redactedDescription] }
        let secrets = tap.secrets.union([apiKey.revealed, environmentKey.revealed, code.revealed])
        #expect(secrets.count >= 4)
        expectNoLeak(of: secrets, in: texts)
    }

    @Test func profixFlows() async throws {
        let time = TestTime()
        let client = ProfixRegistration(clientID: "b81cc4de-d192-400e-bcb4-09254394c52a", clientSecret: Secret("CLIENT-SECRET-profix-4411"),
                                  redirectURI: URL(string: "https://app.example.com/cb"))
        let sandbox = ProfixSandbox(now: time.now)
        sandbox.registerClient(id: client.clientID, secret: client.clientSecret, grant: .authorizationCode, redirectURI: client.redirectURI)
        let passwordClient = ProfixRegistration(clientID: "5e0c1d2b-0000-4000-8000-000000000002", clientSecret: Secret("PASSWORD-CLIENT-secret-77"))
        sandbox.registerClient(id: passwordClient.clientID, secret: passwordClient.clientSecret, grant: .password)
        sandbox.addUser(username: "planner@example.com", password: Secret("first-Passw0rd-XYZ"), userID: "123", mustChangePassword: true)
        let tap = WireTap(sandbox)
        let events = Recorder<String>()
        let store = InMemoryTokenStore()
        let provider = ProfixProvider(client: client, transport: tap, store: store,
                                           key: TokenKey(provider: "profix", account: "acme"),
                                           observer: AuthEventObserver { events.append("\($0)") }, now: time.now)
        var texts: [String] = []
        func capture(_ body: () async throws -> Void) async {
            do { try await body() } catch { texts += renderings(of: error) + ["\(error.localizedDescription)"] }
        }
        let pending = try ProfixAuthorizationRequest(client: client)
        let callback = try sandbox.approve(authorizationURL: pending.url)
        await capture { _ = try await provider.exchange(callbackURL: callback, for: pending) }
        await capture { _ = try await provider.exchange(callbackURL: callback, for: pending) }   // code used twice
        let api = AuthorizingTransport(base: tap, provider: provider)
        let url = try #require(URL(string: "https://api.profix-it.nl/api/v1/workorders"))
        await capture { _ = try await api.reply(HTTPRequest(url: url)) }
        time.advance(700)
        await capture { _ = try await api.reply(HTTPRequest(url: url)) }                       // refresh + rotation
        sandbox.revokeRefreshTokens()
        time.advance(700)
        await capture { _ = try await api.reply(HTTPRequest(url: url)) }                       // invalid_grant
        let user = ProfixProvider(client: passwordClient, transport: tap, store: store,
                                       key: TokenKey(provider: "profix", account: "planner"),
                                       observer: AuthEventObserver { events.append("\($0)") }, now: time.now)
        await capture {
            let outcome = try await user.logIn(username: "planner@example.com", password: Secret("first-Passw0rd-XYZ"))
            texts += renderings(of: outcome)
        }
        await capture { _ = try await user.changePassword(userID: "123", currentPassword: Secret("WRONG-password-000"), newPassword: Secret("second-Passw0rd-XYZ")) }
        await capture { _ = try await user.changePassword(userID: "123", currentPassword: Secret("first-Passw0rd-XYZ"), newPassword: Secret("second-Passw0rd-XYZ")) }
        await capture { _ = try await user.logIn(username: "planner@example.com", password: Secret("second-Passw0rd-XYZ")) }
        texts += renderings(of: provider) + renderings(of: user) + renderings(of: client) + renderings(of: pending) + events.values
        texts += renderings(of: try await store.load(TokenKey(provider: "profix", account: "acme")) as Any)
        texts += tap.exchanges.values.flatMap { renderings(of: $0.0) + [$0.0.headerFields.redactedDescription] }
        let secrets = tap.secrets.union(["CLIENT-SECRET-profix-4411", "PASSWORD-CLIENT-secret-77", "first-Passw0rd-XYZ", "second-Passw0rd-XYZ", "WRONG-password-000"])
        #expect(secrets.count >= 8)
        expectNoLeak(of: secrets, in: texts)
    }

    @Test func economicFlows() async throws {
        let appSecret = Secret("APP-SECRET-economic-9182")
        let sandbox = EconomicSandbox(appSecretToken: appSecret)
        let tap = WireTap(sandbox)
        let events = Recorder<String>()
        var texts: [String] = []
        func capture(_ body: () async throws -> Void) async {
            do { try await body() } catch { texts += renderings(of: error) + ["\(error.localizedDescription)"] }
        }
        let request = EconomicGrantRequest(requestURL: sandbox.requestURL, redirectURL: URL(string: "https://app.example.com/cb?UserInMySystem=1"),
                                           state: EconomicGrantRequest.randomState())
        let approval = try await tap.reply(HTTPRequest(url: try request.url()))
        let location = try #require(approval.headerFields[.location].flatMap(URL.init(string:)))
        let callback = try EconomicGrantCallback(url: location, expecting: request)
        let credentials = EconomicCredentials(appSecretToken: appSecret, agreementGrantToken: callback.agreementGrantToken)
        let provider = try EconomicProvider(credentials: credentials, transport: tap, observer: AuthEventObserver { events.append("\($0)") })
        await capture { _ = try await provider.validate() }
        let session = try EconomicSOAPSession(credentials: credentials, transport: tap, observer: AuthEventObserver { events.append("\($0)") })
        await capture { _ = try await session.call("Agreement_GetNumber") }
        sandbox.expireSessions()
        await capture { _ = try await session.call("Agreement_GetNumber") }
        sandbox.revokeGrant(callback.agreementGrantToken)
        await capture { _ = try await provider.validate() }
        await capture { _ = try await session.call("Agreement_GetNumber") }
        await capture { _ = try EconomicGrantCallback(url: URL(string: "https://app.example.com/cb?UserInMySystem=2&token=\(callback.agreementGrantToken.revealed)")!, expecting: request) }
        texts += renderings(of: provider) + renderings(of: session) + renderings(of: credentials) + renderings(of: callback) + renderings(of: request) + events.values
        texts += tap.exchanges.values.flatMap { renderings(of: $0.0) + [$0.0.headerFields.redactedDescription] }
        let secrets = tap.secrets.union([appSecret.revealed, callback.agreementGrantToken.revealed])
        #expect(secrets.count >= 3)
        expectNoLeak(of: secrets, in: texts)
    }
}

/// A clock tests move by hand.
final class TestTime: Sendable {
    private let current = Recorder<Date>()
    init() { current.append(Date(timeIntervalSince1970: 1_800_000_000)) }
    var now: @Sendable () -> Date { { [current] in current.values.last ?? Date() } }
    func advance(_ seconds: TimeInterval) { current.append((current.values.last ?? Date()).addingTimeInterval(seconds)) }
}

import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import ProfitAuthTesting
import Testing
import TestSupport
@testable import ProfitAuth

@Suite struct ProfitProviderOnboardingTests {
    @Test func restOnboardingEndToEndWithTheSandbox() async throws {
        let sandbox = Fixtures.sandbox()
        let store = InMemoryTokenStore()
        let events = EventLog()
        let provider = try Fixtures.provider(transport: sandbox, store: store, events: events)

        try await provider.requestOTP(userId: "DavidB")
        #expect(sandbox.outbox.count == 1)
        #expect(sandbox.outbox.first?.address == "david@example.com")
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        try await provider.redeemOTP(code, userId: "DavidB")

        let stored = try #require(try await store.load(Fixtures.key))
        #expect(try ProfitToken(stored.accessToken.revealed).xml.revealed.hasPrefix("<token><version>1</version><data>"))
        #expect(stored.attributes["userId"] == "DavidB")
        #expect(stored.attributes["obtainedVia"] == "otp-rest")
        #expect(stored.issuedAt == Fixtures.start)
        #expect(events.events.contains(.credentialAcquired(provider: "profit", grant: "otp-rest", expiresAt: nil)))

        let client = AuthorizingTransport(base: sandbox, provider: provider)
        let response = try await client.reply(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
        #expect(response.status == 200)
        #expect(response.text.contains("Profit 6"))
    }

    @Test func otpRequestWireFormat() async throws {
        let mock = MockTransport(responses: [MockTransport.Response(status: 201)])
        let provider = try Fixtures.provider(transport: mock, configuration: Fixtures.configuration {
            $0.integrationId = "12345_67890"
            $0.acceptLanguage = "en-us"
        })
        try await provider.requestOTP(userId: "DavidB")
        let request = try #require(mock.requests.first)
        #expect(request.method == .post)
        #expect(request.url.absoluteString == "https://12345.rest.afas.online/ProfitRestServices/OtpRequest")
        #expect(request.headerFields[.contentType] == "application/json")
        #expect(request.headerFields[.authorization] == nil)
        #expect(request.headerFields[.profitIntegrationId] == "12345_67890")
        #expect(request.headerFields[.acceptLanguage] == "en-us")
        let object = try Fixtures.jsonFields(request)
        #expect(object == ["apiKey": Fixtures.apiKey.revealed, "apiToken": Fixtures.environmentKey.revealed, "userId": "DavidB"])
    }

    @Test func anySuccessStatusAcceptsTheRequest() async throws {
        let mock = MockTransport(responses: [MockTransport.Response(status: 200), MockTransport.Response(status: 204)])
        let provider = try Fixtures.provider(transport: mock)
        try await provider.requestOTP(userId: "DavidB")
        try await provider.requestOTP(userId: "DavidB")
        #expect(mock.requestCount == 2)
    }

    @Test func otpValidationWireFormatAndCRLFTrim() async throws {
        let mock = MockTransport(responses: [.json(200, #"{"token":"\#(Fixtures.tokenXML)\r\n"}"#)])
        let provider = try Fixtures.provider(transport: mock)
        let token = try await provider.redeemOTP(Secret(" 12345678 "), userId: "DavidB")
        #expect(token.authorizationValue.revealed == "AfasToken " + Fixtures.tokenBase64)
        let request = try #require(mock.requests.first)
        #expect(request.url.path == "/ProfitRestServices/OtpValidation")
        let object = try Fixtures.jsonFields(request)
        #expect(object["otp"] == "12345678")
        #expect(object["apiToken"] == Fixtures.environmentKey.revealed)
    }

    @Test func wrongCodeIsTypedAndLeavesTheStoredTokenAlone() async throws {
        let sandbox = Fixtures.sandbox()
        let store = InMemoryTokenStore()
        let original = StoredCredential(accessToken: Secret(Fixtures.tokenXML), attributes: ["userId": "DavidB"])
        try await store.save(original, for: Fixtures.key)
        let provider = try Fixtures.provider(transport: sandbox, store: store)
        try await provider.requestOTP(userId: "DavidB")

        await #expect(throws: AuthError(.invalidCredentials)) {
            try await provider.redeemOTP(Secret("00000000"), userId: "DavidB")
        }
        do {
            try await provider.redeemOTP(Secret("99999999"), userId: "DavidB")
            Issue.record("expected an error")
        } catch let error as AuthError {
            #expect(error.provider == "profit")
            #expect(error.status == 500)
            #expect(error.logReference?.hasPrefix("SANDBOX-") == true)
            #expect(error.serverMessage?.contains("activatiecode") == true)
        }
        #expect(try await store.load(Fixtures.key) == original)
        let request = try await provider.authorized(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
        #expect(request.headerFields[.authorization] == "AfasToken " + Fixtures.tokenBase64)
    }

    /// Only 401 and a 500 with Profit's error body mean "code not accepted"; 403 (IP restriction)
    /// and 400 (missing elements) keep their own codes, and so does a 500 that is not Profit's.
    @Test(arguments: [
        (MockTransport.Response.json(401, #"{"externalMessage":"Ongeldige code"}"#), AuthError.Code.invalidCredentials),
        (.json(500, #"{"externalMessage":"De activatiecode is ongeldig of verlopen","errorNumber":-2146233079,"profitLogReference":"R-1"}"#), .invalidCredentials),
        (.json(403, #"{"externalMessage":"Toegang geweigerd: IP-adres niet toegestaan"}"#), .forbidden),
        (.json(400, #"{"externalMessage":"Ongeldige aanvraag: otp is verplicht"}"#), .invalidRequest),
        (MockTransport.Response(status: 500, headerFields: [.contentType: "text/html"], body: Data("<!DOCTYPE html><html>error</html>".utf8)), .profitFunctionalError),
        (.json(404, #"{"externalMessage":"Onbekende URL"}"#), .unexpectedStatus),
        (.json(429, #"{"externalMessage":"Te veel verzoeken"}"#), .rateLimited),
    ])
    func validationStatusesKeepTheirMeaning(_ response: MockTransport.Response, _ code: AuthError.Code) async throws {
        let store = InMemoryTokenStore()
        let original = StoredCredential(accessToken: Secret(Fixtures.tokenXML))
        try await store.save(original, for: Fixtures.key)
        let mock = MockTransport(responses: [response, response])
        let provider = try Fixtures.provider(transport: mock, store: store, configuration: Fixtures.configuration { $0.retryPolicy = .none })
        let error = try await #require(throws: AuthError.self) { try await provider.redeemOTP(Secret("12345678"), userId: "DavidB") }
        #expect(error.code == code)
        #expect(error.status == response.status.code)
        #expect(error.provider == "profit")
        #expect(mock.requestCount == 1)
        #expect(try await store.load(Fixtures.key) == original)
    }

    @Test(arguments: [
        MockTransport.Response.json(200, #"{"token":""}"#),
        MockTransport.Response.json(200, #"{"token":"   \r\n"}"#),
        MockTransport.Response.json(200, #"{"other":"x"}"#),
        MockTransport.Response.json(200, #"{"token":"<token><version>1</version><data>nothex</data></token>"}"#),
        MockTransport.Response.json(200, #"["token"]"#),
        MockTransport.Response(status: 200, headerFields: [.contentType: "text/html"], body: Data("<!DOCTYPE html><html>proxy</html>".utf8)),
        MockTransport.Response(status: 200, body: Data("not json".utf8)),
        MockTransport.Response(status: 200),
    ])
    func badValidationAnswersAreMalformed(_ response: MockTransport.Response) async throws {
        let store = InMemoryTokenStore()
        let original = StoredCredential(accessToken: Secret(Fixtures.tokenXML))
        try await store.save(original, for: Fixtures.key)
        let provider = try Fixtures.provider(transport: MockTransport(responses: [response]), store: store)
        await #expect(throws: AuthError(.malformedResponse)) {
            try await provider.redeemOTP(Secret("12345678"), userId: "DavidB")
        }
        #expect(try await store.load(Fixtures.key) == original)
    }

    @Test func hugeBodyIsRefused() async throws {
        let huge = MockTransport.Response(status: 200, body: Data(repeating: UInt8(ascii: "a"), count: (1 << 20) + 1))
        let provider = try Fixtures.provider(transport: MockTransport(responses: [huge]))
        await #expect(throws: AuthError(.responseTooLarge)) {
            try await provider.redeemOTP(Secret("12345678"), userId: "DavidB")
        }
        #expect(try await provider.hasToken() == false)
    }

    @Test func codeIsAcceptedOnceAndOnlyWithinItsLifetime() async throws {
        let sandbox = Fixtures.sandbox(otpLifetime: .seconds(300))
        let provider = try Fixtures.provider(transport: sandbox)
        try await provider.requestOTP(userId: "DavidB")
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        try await provider.redeemOTP(code, userId: "DavidB")
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.redeemOTP(code, userId: "DavidB") }

        try await provider.requestOTP(userId: "DavidB")
        let late = try #require(sandbox.latestCode(for: "DavidB"))
        sandbox.advanceClock(by: .seconds(301))
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.redeemOTP(late, userId: "DavidB") }
    }

    @Test func wrongKeysAreAcceptedAtRequestButFailAtValidation() async throws {
        let sandbox = Fixtures.sandbox()
        let wrong = ProfitProvider.AppConnectorKeys(apiKey: Secret(String(repeating: "0", count: 32)), environmentKey: Fixtures.environmentKey)
        let provider = try Fixtures.provider(transport: sandbox, keys: wrong)
        try await provider.requestOTP(userId: "DavidB")
        #expect(sandbox.outbox.isEmpty)
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.redeemOTP(Secret("12345678"), userId: "DavidB") }
    }

    /// A key copied with a line end (from a file, a terminal) is trimmed: Profit answers
    /// `OtpRequest` with 201 whatever the keys, so an untrimmed key would fail silently.
    @Test func keysAreTrimmedBeforeTheyAreSent() async throws {
        let sandbox = Fixtures.sandbox()
        let keys = ProfitProvider.AppConnectorKeys(apiKey: Secret(Fixtures.apiKey.revealed + "\n"),
                                                   environmentKey: Secret(" \t" + Fixtures.environmentKey.revealed + "\r\n"))
        #expect(keys.apiKey == Fixtures.apiKey)
        #expect(keys.environmentKey == Fixtures.environmentKey)
        let provider = try Fixtures.provider(transport: sandbox, keys: keys)
        try await provider.requestOTP(userId: "DavidB")
        #expect(sandbox.outbox.count == 1)   // the sandbox mails a code only for the exact keys
        try await provider.redeemOTP(try #require(sandbox.latestCode(for: "DavidB")), userId: "DavidB")
        #expect(try await provider.hasToken())

        // Keys changed after creation are trimmed too, and lower-case hex is accepted as it is.
        let mock = MockTransport(responses: [MockTransport.Response(status: 201)])
        var later = Fixtures.keys
        later.apiKey = Secret(Fixtures.apiKey.revealed.lowercased() + "\r\n")
        let other = try Fixtures.provider(transport: mock, keys: later)
        try await other.requestOTP(userId: "DavidB")
        let fields = try Fixtures.jsonFields(try #require(mock.requests.first))
        #expect(fields["apiKey"] == Fixtures.apiKey.revealed.lowercased())
    }

    /// A pair of keys with one flaw; the description names the flaw, never the keys.
    struct MalformedKeys: Sendable, CustomTestStringConvertible {
        let flaw: String
        let apiKey: String
        let environmentKey: String
        var testDescription: String { flaw }

        static let good = (api: Fixtures.apiKey.revealed, environment: Fixtures.environmentKey.revealed)
        static let all: [MalformedKeys] = [
            .init(flaw: "not hex at all", apiKey: "WRONG", environmentKey: good.environment),
            .init(flaw: "31 digits", apiKey: String(good.api.dropLast()), environmentKey: good.environment),
            .init(flaw: "33 digits", apiKey: good.api, environmentKey: good.environment + "F"),
            .init(flaw: "a G", apiKey: String(good.api.dropLast()) + "G", environmentKey: good.environment),
            .init(flaw: "inner space", apiKey: String(good.api.prefix(16)) + " " + good.api.dropFirst(17), environmentKey: good.environment),
            .init(flaw: "inner line break", apiKey: good.api, environmentKey: String(good.environment.prefix(31)) + "\n" + good.environment.suffix(1)),
            .init(flaw: "full-width digit", apiKey: good.api, environmentKey: "８" + good.environment.dropFirst()),
        ]
    }

    @Test(arguments: MalformedKeys.all)
    func malformedKeysAreRefusedBeforeSending(_ keys: MalformedKeys) async throws {
        let (apiKey, environmentKey) = (keys.apiKey, keys.environmentKey)
        let mock = MockTransport(responses: [MockTransport.Response(status: 201), MockTransport.Response(status: 201)])
        let provider = try Fixtures.provider(transport: mock, keys: .init(apiKey: Secret(apiKey), environmentKey: Secret(environmentKey)))
        let requesting = try await #require(throws: AuthError.self) { try await provider.requestOTP(userId: "DavidB") }
        #expect(requesting.code == .invalidCredentialFormat)
        let leaked = "\(requesting)".contains(apiKey) || "\(requesting)".contains(environmentKey)   // not printed
        #expect(!leaked)
        await #expect(throws: AuthError(.invalidCredentialFormat)) { try await provider.redeemOTP(Secret("12345678"), userId: "DavidB") }
        await #expect(throws: AuthError(.invalidCredentialFormat)) { try await provider.requestOTP(userId: "DavidB", over: .soap) }
        #expect(mock.requestCount == 0)
    }

    @Test func missingKeysAndBadInputAreTyped() async throws {
        let provider = try Fixtures.provider(transport: MockTransport(), keys: nil)
        await #expect(throws: AuthError(.invalidConfiguration)) { try await provider.requestOTP(userId: "DavidB") }
        let keyed = try Fixtures.provider(transport: MockTransport())
        await #expect(throws: AuthError(.invalidCredentialFormat)) { try await keyed.requestOTP(userId: "  ") }
        await #expect(throws: AuthError(.invalidCredentialFormat)) { try await keyed.redeemOTP(Secret(""), userId: "DavidB") }
        await #expect(throws: AuthError(.invalidCredentialFormat)) { try await keyed.redeemOTP(Secret("12\n34"), userId: "DavidB") }
    }

    @Test func saveFailureKeepsTheTokenInUseAndReportsIt() async throws {
        let events = EventLog()
        let provider = try Fixtures.provider(transport: MockTransport(responses: [.json(200, #"{"token":"\#(Fixtures.tokenXML)"}"#)]),
                                             store: FailingStore(), events: events)
        await #expect(throws: AuthError(.storeFailure)) { try await provider.redeemOTP(Secret("12345678"), userId: "DavidB") }
        #expect(try await provider.hasToken())
        #expect(events.events.contains(.storeFailed(provider: "profit", code: .storeFailure)))
    }

    @Test func serviceUnavailableIsRetriedThenTyped() async throws {
        let outage = MockTransport.Response.json(503, #"{"externalMessage":"Onderhoud","retry_after":30}"#)
        let mock = MockTransport(responses: [outage, outage])
        let provider = try Fixtures.provider(transport: mock)
        do {
            try await provider.requestOTP(userId: "DavidB")
            Issue.record("expected an error")
        } catch let error as AuthError {
            #expect(error.code == .serviceUnavailable)
            #expect(error.isTransient)
            #expect(error.retryAfter == .seconds(30))
            #expect(error.serverMessage == "Onderhoud")
        }
        #expect(mock.requestCount == 2)
    }

    /// A 503 whose body says `retry_after` is retried after that many seconds (through the
    /// policy's sleep), not after the policy's own backoff.
    @Test func bodyRetryAfterSetsTheWaitBeforeTheRetry() async throws {
        let sleeps = Recorder<Duration>()
        let outage = MockTransport.Response.json(503, #"{"externalMessage":"Onderhoud","retry_after":7}"#)
        let mock = MockTransport(responses: [outage, outage, MockTransport.Response(status: 201)])
        let provider = try Fixtures.provider(transport: mock, configuration: Fixtures.configuration {
            $0.retryPolicy = RetryPolicy(maxAttempts: 3, sleep: { sleeps.append($0) })
        })
        try await provider.requestOTP(userId: "DavidB")
        #expect(sleeps.values == [.seconds(7), .seconds(7)])
        #expect(mock.requestCount == 3)
    }

    /// A `retry_after` longer than the policy allows stops at once with a typed, transient error
    /// that carries the wait; against the sandbox's outage, on REST and SOAP.
    @Test func bodyRetryAfterBeyondThePolicyStopsWithTheWait() async throws {
        let sandbox = Fixtures.sandbox()
        let sleeps = Recorder<Duration>()
        let provider = try Fixtures.provider(transport: sandbox, configuration: Fixtures.configuration {
            $0.retryPolicy = RetryPolicy(maxAttempts: 3, maximumRetryAfter: .seconds(60), sleep: { sleeps.append($0) })
        })
        sandbox.setUnavailable(retryAfter: 3_600)
        for channel in [ProfitProvider.Channel.rest, .soap] {
            let before = sandbox.calls.count
            let error = try await #require(throws: AuthError.self) { try await provider.requestOTP(userId: "DavidB", over: channel) }
            #expect(error.code == .serviceUnavailable)
            #expect(error.isTransient)
            #expect(error.status == 503)
            #expect(error.retryAfter == .seconds(3_600))
            #expect(sandbox.calls.count - before == 1)
        }
        #expect(sleeps.values.isEmpty)

        // A short outage is waited out as the body says, then the call goes through.
        sandbox.setUnavailable(retryAfter: 2)
        let error = try await #require(throws: AuthError.self) { try await provider.requestOTP(userId: "DavidB") }
        #expect(error.code == .serviceUnavailable && error.retryAfter == .seconds(2))
        #expect(sleeps.values == [.seconds(2), .seconds(2)])
        sandbox.setUnavailable(retryAfter: nil)
        try await provider.requestOTP(userId: "DavidB")
        #expect(sandbox.outbox.count == 1)
    }

    @Test func functionalErrorIsNotRetriedAndKeepsTheLogReference() async throws {
        let mock = MockTransport(responses: [.json(500, #"{"externalMessage":"Gebruiker onbekend","errorNumber":-2146232832,"profitLogReference":"ABC123"}"#)])
        let provider = try Fixtures.provider(transport: mock)
        do {
            try await provider.requestOTP(userId: "DavidB")
            Issue.record("expected an error")
        } catch let error as AuthError {
            #expect(error.code == .profitFunctionalError)
            #expect(error.serverCode == "-2146232832")
            #expect(error.logReference == "ABC123")
        }
        #expect(mock.requestCount == 1)
    }
}

@Suite struct ProfitProviderAuthorizationTests {
    @Test func injectsTheHeaderOnRESTAndSOAP() async throws {
        let provider = try Fixtures.provider(transport: MockTransport())
        try await provider.addToken(try ProfitToken(Fixtures.hex))
        let rest = try await provider.authorized(HTTPRequest(url: try provider.environment.restURL("connectors/Profit_Debtors")))
        #expect(rest.headerFields[.authorization] == "AfasToken " + Fixtures.tokenBase64)
        let soapRequest = SOAPMessage.request(url: try provider.environment.soapURL("appconnectorget.asmx"),
                                              action: "urn:Afas.Profit.Services/GetData",
                                              envelope: SOAPMessage.envelope(operation: "GetData", namespace: "urn:Afas.Profit.Services", parameters: [("connectorId", "X")]))
        let soap = try await provider.authorized(soapRequest)
        #expect(soap.headerFields[.authorization] == "AfasToken " + Fixtures.tokenBase64)
        #expect(soap.body == soapRequest.body)
    }

    @Test func legacyTokenElementInsteadOfTheHeader() async throws {
        let sandbox = Fixtures.sandbox()
        let token = try sandbox.issueToken(for: "DavidB")
        let provider = try Fixtures.provider(transport: sandbox, configuration: Fixtures.configuration { $0.soapToken = .element })
        try await provider.addToken(token)
        let envelope = SOAPMessage.envelope(operation: "GetData", namespace: "urn:Afas.Profit.Services", parameters: [("connectorId", "Profit_Debtors")])
        let request = SOAPMessage.request(url: try provider.environment.soapURL("appconnectorget.asmx"), action: "urn:Afas.Profit.Services/GetData", envelope: envelope)
        let authorized = try await provider.authorized(request)
        #expect(authorized.headerFields[.authorization] == nil)
        let body = String(decoding: try #require(authorized.body), as: UTF8.self)
        #expect(body.contains("<GetData xmlns=\"urn:Afas.Profit.Services\"><token>&lt;token&gt;&lt;version&gt;1&lt;/version&gt;&lt;data&gt;"))
        let response = try await AuthorizingTransport(base: sandbox, provider: provider).reply(request)
        #expect(response.status == 200)
        #expect(try SOAPMessage(parsing: response.body).text(of: "GetDataResult")?.contains("Sandbox Trading BV") == true)
        // REST requests still get the header.
        let rest = try await provider.authorized(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
        #expect(rest.headerFields[.authorization] == token.authorizationValue.revealed)
    }

    /// The clients send what `authorizeIfReady` authorized without a check of their own
    /// (`requestTargetCheck` is `.byProvider`), so the provider's check is all there is: nothing reaches the
    /// transport for a host outside the audience, by either client form, cached or not.
    @Test(arguments: [("evil.example.com", "/ProfitRestServices/ProfitVersion"),
                      ("12345.rest.afas.online:1@evil.example.com", "/ProfitRestServices/ProfitVersion"),
                      ("12345.rest.afas.online.evil.example.com", "/ProfitRestServices/ProfitVersion"),
                      ("12345.rest.afas.onlinex", "/ProfitRestServices/ProfitVersion"),
                      ("12345.rest.afas.online", ".evil.example.com/ProfitRestServices/ProfitVersion"),
                      ("12345.rest.afas.online", "@evil.example.com/ProfitRestServices/ProfitVersion")])
    func theClientsRelyOnItsCheck(_ authority: String, _ path: String) async throws {
        #expect(ProfitProvider.requestTargetCheck == .byProvider)
        let request = HTTPRequest(method: .get, scheme: "https", authority: authority, path: path)
        let mock = MockTransport(responses: [MockTransport.Response(status: 200)])
        let store = InMemoryTokenStore()
        try await store.save(StoredCredential(accessToken: Secret(Fixtures.tokenXML)), for: Fixtures.key)
        let provider = try Fixtures.provider(transport: mock, store: store)
        for _ in 0..<2 {
            await #expect(throws: AuthError(.untrustedHost)) { _ = try await AuthorizingTransport(base: mock, provider: provider).reply(request) }
            await #expect(throws: AuthError(.untrustedHost)) { _ = try await provider.client(over: mock).send(request, body: nil) }
            _ = try await provider.authorized(HTTPRequest(url: try Fixtures.environment().restURL("ProfitVersion")))   // loaded now
        }
        #expect(mock.requestCount == 0)
    }

    @Test(arguments: ["http://12345.rest.afas.online/ProfitRestServices/ProfitVersion", "ftp://12345.rest.afas.online/x",
                      "http://10.0.0.8/ProfitRestServices/ProfitVersion", "file:///etc/passwd"])
    func tokenGoesOnlyToSecureURLs(_ address: String) async throws {
        let url = try #require(URL(string: address))
        let mock = MockTransport(responses: [MockTransport.Response(status: 200)])
        // From the store (first call) and from the cached fast path (second call).
        let store = InMemoryTokenStore()
        try await store.save(StoredCredential(accessToken: Secret(Fixtures.tokenXML)), for: Fixtures.key)
        let provider = try Fixtures.provider(transport: mock, store: store)
        for _ in 0..<2 {
            await #expect(throws: AuthError(.insecureURL)) { _ = try await provider.authorized(HTTPRequest(url: url)) }
            await #expect(throws: AuthError(.insecureURL)) { _ = try await AuthorizingTransport(base: mock, provider: provider).reply(HTTPRequest(url: url)) }
        }
        #expect(mock.requestCount == 0)
        // Loopback http stays allowed for tests and local sandboxes (a host the app adds).
        let localURL = try #require(URL(string: "http://127.0.0.1:8080/ProfitRestServices/ProfitVersion"))
        await #expect(throws: AuthError(.untrustedHost)) { _ = try await provider.authorized(HTTPRequest(url: localURL)) }
        var configuration = Fixtures.configuration()
        configuration.additionalHosts = ["127.0.0.1"]
        let local = try await Fixtures.provider(transport: mock, store: store, configuration: configuration).authorized(HTTPRequest(url: localURL))
        #expect(local.headerFields[.authorization] == "AfasToken " + Fixtures.tokenBase64)
    }

    @Test func withoutATokenAuthorizeIsTyped() async throws {
        let provider = try Fixtures.provider(transport: MockTransport())
        await #expect(throws: AuthError(.notAuthenticated)) {
            _ = try await provider.authorized(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
        }
    }

    @Test func loadsTheStoredTokenOnceForConcurrentCallers() async throws {
        let store = CountingStore()
        try await store.inner.save(StoredCredential(accessToken: Secret(Fixtures.tokenXML)), for: Fixtures.key)
        let provider = try Fixtures.provider(transport: MockTransport(), store: store)
        let url = try provider.environment.restURL("ProfitVersion")
        let headers = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.authorized(HTTPRequest(url: url)).headerFields[.authorization] } }
            var all: [String?] = []
            for try await header in group { all.append(header) }
            return all
        }
        #expect(headers.count == 20)
        #expect(headers.allSatisfy { $0 == "AfasToken " + Fixtures.tokenBase64 })
        #expect(store.loads == 1)
    }

    @Test func corruptStoredTokenIsTypedAndLeftInPlace() async throws {
        let store = InMemoryTokenStore()
        let junk = StoredCredential(accessToken: Secret("not a token"))
        try await store.save(junk, for: Fixtures.key)
        let provider = try Fixtures.provider(transport: MockTransport(), store: store)
        await #expect(throws: AuthError(.storeCorrupt)) {
            _ = try await provider.authorized(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
        }
        #expect(try await store.load(Fixtures.key) == junk)
    }

    @Test func revokedTokenGivesATypedErrorWithoutRetry() async throws {
        let sandbox = Fixtures.sandbox()
        let token = try sandbox.issueToken(for: "DavidB")
        let events = EventLog()
        let provider = try Fixtures.provider(transport: sandbox, events: events)
        try await provider.addToken(token)
        let client = AuthorizingTransport(base: sandbox, provider: provider)
        let url = try provider.environment.restURL("ProfitVersion")
        #expect(try await client.reply(HTTPRequest(url: url)).status == 200)
        sandbox.revoke(token)
        let before = sandbox.calls.count
        do {
            _ = try await client.reply(HTTPRequest(url: url))
            Issue.record("expected an error")
        } catch let error as AuthError {
            #expect(error.code == .revoked)
            #expect(error.status == 401)
            #expect(error.serverMessage == "Ongeldige token")
            #expect(error.logReference != nil)
            #expect(!"\(error)".contains(Fixtures.tokenBase64))
        }
        #expect(sandbox.calls.count == before + 1)
        #expect(events.events.contains(.credentialRevoked(provider: "profit")))
    }

    @Test func ipRestrictionIsForbidden() async throws {
        let sandbox = Fixtures.sandbox()
        let provider = try Fixtures.provider(transport: sandbox)
        try await provider.addToken(try sandbox.issueToken(for: "DavidB"))
        sandbox.setIPRestricted(true)
        let client = AuthorizingTransport(base: sandbox, provider: provider)
        await #expect(throws: AuthError(.forbidden)) {
            _ = try await client.reply(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
        }
    }

    /// The mapping the documentation of `error(for:)` states, status by status.
    @Test(arguments: [
        (400, AuthError.Code.invalidRequest), (401, .revoked), (403, .forbidden), (404, .unexpectedStatus),
        (405, .unexpectedStatus), (418, .unexpectedStatus), (429, .rateLimited), (500, .profitFunctionalError),
        (501, .serviceUnavailable), (502, .serviceUnavailable), (503, .serviceUnavailable), (504, .serviceUnavailable),
        (599, .serviceUnavailable), (302, .unexpectedStatus), (600, .unexpectedStatus),
    ])
    func errorForMapsEveryStatusAsDocumented(_ status: Int, _ code: AuthError.Code) throws {
        let error = try #require(typedError(ProfitProvider.error(for:body:), MockTransport.Response(status: .init(code: status))))
        #expect(error.code == code)
        #expect(error.status == status)
        let header = try #require(typedError(ProfitProvider.error(for:body:), MockTransport.Response(status: .init(code: status), headerFields: [.retryAfter: "9"])))
        #expect(header.retryAfter == .seconds(9))
        let body = try #require(typedError(ProfitProvider.error(for:body:), .json(status, #"{"retry_after":4}"#, headerFields: [.retryAfter: "9"])))
        #expect(body.retryAfter == .seconds(4))
    }

    @Test func errorBodiesDecode() throws {
        let functional = try #require(typedError(ProfitProvider.error(for:body:), .json(500, #"{"externalMessage":"Veld ontbreekt","errorNumber":12,"profitLogReference":"REF-9"}"#)))
        #expect(functional.code == .profitFunctionalError)
        #expect(functional.serverMessage == "Veld ontbreekt")
        #expect(functional.serverCode == "12")
        #expect(functional.logReference == "REF-9")
        let header = MockTransport.Response(status: 500, headerFields: [.profitError: Data("Oude fout".utf8).base64EncodedString()])
        #expect(typedError(ProfitProvider.error(for:body:), header)?.serverMessage == "Oude fout")
        let unavailable = try #require(typedError(ProfitProvider.error(for:body:), .json(503, #"{"retry_after":"12"}"#)))
        #expect(unavailable.code == .serviceUnavailable && unavailable.retryAfter == .seconds(12))
        #expect(typedError(ProfitProvider.error(for:body:), MockTransport.Response(status: 400))?.code == .invalidRequest)
        #expect(typedError(ProfitProvider.error(for:body:), MockTransport.Response(status: 404))?.code == .unexpectedStatus)
        #expect(typedError(ProfitProvider.error(for:body:), MockTransport.Response(status: 403))?.code == .forbidden)
        let html = MockTransport.Response(status: 502, headerFields: [.contentType: "text/html"], body: Data("<html>bad gateway</html>".utf8))
        #expect(typedError(ProfitProvider.error(for:body:), html)?.serverMessage?.contains("HTML") == true)
        #expect(typedError(ProfitProvider.error(for:body:), MockTransport.Response(status: 204)) == nil)
    }
}

@Suite struct ProfitTokenManagementTests {
    @Test func addReplaceAndDeleteLocally() async throws {
        let store = InMemoryTokenStore()
        let events = EventLog()
        let provider = try Fixtures.provider(transport: MockTransport(), store: store, events: events)
        try await provider.addToken(try ProfitToken(Fixtures.hex), userId: "DavidB")
        #expect(try await store.load(Fixtures.key)?.accessToken.revealed == Fixtures.tokenXML)
        #expect(try await store.load(Fixtures.key)?.attributes["obtainedVia"] == "manual")
        let replacement = try ProfitToken(String(repeating: "AB", count: 32))
        try await provider.addToken(replacement)
        #expect(try await store.load(Fixtures.key)?.accessToken == replacement.xml)
        try await provider.deleteToken(revokingOnServer: false)
        #expect(try await store.load(Fixtures.key) == nil)
        #expect(try await provider.hasToken() == false)
        #expect(events.events.contains(.credentialRemoved(provider: "profit")))
    }

    @Test func deleteTokenRevokesInProfit() async throws {
        let sandbox = Fixtures.sandbox()
        let store = InMemoryTokenStore()
        let provider = try Fixtures.provider(transport: sandbox, store: store)
        try await provider.addToken(try sandbox.issueToken(for: "DavidB"))
        #expect(sandbox.activeTokenCount == 1)
        try await provider.deleteToken()
        #expect(sandbox.activeTokenCount == 0)
        #expect(sandbox.calls.last?.operation == "DeleteToken")
        #expect(try await store.load(Fixtures.key) == nil)
    }

    @Test func failedServerDeletionKeepsTheLocalToken() async throws {
        let sandbox = Fixtures.sandbox()
        let store = InMemoryTokenStore()
        let provider = try Fixtures.provider(transport: sandbox, store: store)
        try await provider.addToken(try ProfitToken(Fixtures.hex))   // never issued by the sandbox
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.deleteToken() }
        #expect(try await store.load(Fixtures.key)?.accessToken.revealed == Fixtures.tokenXML)
    }

    @Test func deleteTokenRequestIsEscapedSOAP() async throws {
        let mock = MockTransport(responses: [MockTransport.Response(status: 200, body: Data(#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><DeleteTokenResponse xmlns="urn:Afas.Profit.Services"><DeleteTokenResult/></DeleteTokenResponse></soap:Body></soap:Envelope>"#.utf8))])
        let provider = try Fixtures.provider(transport: mock)
        try await provider.addToken(try ProfitToken(Fixtures.hex))
        try await provider.deleteToken()
        let request = try #require(mock.requests.first)
        #expect(request.url.absoluteString == "https://12345.soap.afas.online/profitservices/tokenconnector.asmx")
        #expect(request.headerFields[.soapAction] == "\"urn:Afas.Profit.Services/DeleteToken\"")
        let body = String(decoding: try #require(request.body), as: UTF8.self)
        #expect(body.contains("<token>&lt;token&gt;&lt;version&gt;1&lt;/version&gt;&lt;data&gt;\(Fixtures.hex)&lt;/data&gt;&lt;/token&gt;</token>"))
    }

    @Test func tokenInfoReportsTheExpiry() async throws {
        let sandbox = Fixtures.sandbox(tokenValidity: .seconds(86_400 * 30))
        let provider = try Fixtures.provider(transport: sandbox)
        try await provider.requestOTP(userId: "DavidB")
        try await provider.redeemOTP(try #require(sandbox.latestCode(for: "DavidB")), userId: "DavidB")
        let info = try await provider.tokenInfo()
        let expiry = try #require(info.expiresAt)
        #expect(expiry == Fixtures.start.addingTimeInterval(86_400 * 30))
        #expect(info.userId == "DavidB")
        #expect(!info.isExpired(at: Fixtures.start))
        #expect(info.expires(within: .seconds(86_400 * 31), after: Fixtures.start))
        #expect(!info.expires(within: .seconds(86_400), after: Fixtures.start))
    }

    @Test func tokenInfoWithoutExpiryAndWithBadAnswers() async throws {
        let sandbox = Fixtures.sandbox()
        let provider = try Fixtures.provider(transport: sandbox)
        try await provider.addToken(try sandbox.issueToken(for: "DavidB"))
        #expect(try await provider.tokenInfo().expiresAt == nil)

        let mock = MockTransport(responses: [.json(200, #"{"info":{"tokenExpiry":"soon"}}"#), MockTransport.Response(status: 200, body: Data("<html/>".utf8)),
                                             .json(200, #"{"info":{"tokenExpiry":"2026-03-01T00:00:00"}}"#)])
        let other = try Fixtures.provider(transport: mock)
        try await other.addToken(try ProfitToken(Fixtures.hex))
        await #expect(throws: AuthError(.malformedResponse)) { _ = try await other.tokenInfo() }
        await #expect(throws: AuthError(.malformedResponse)) { _ = try await other.tokenInfo() }
        #expect(try await other.tokenInfo().expiresAt == ProfitResponse.parseDate("2026-03-01T00:00:00Z"))
        #expect(mock.requests.first?.headerFields[.authorization] == "AfasToken " + Fixtures.tokenBase64)
    }
}

/// Counts loads, to check that concurrent callers share one.
final class CountingStore: TokenStore {
    let inner = InMemoryTokenStore()
    private let count = Locked(0)
    var loads: Int { count.withLock { $0 } }
    func load(_ key: TokenKey) async throws -> StoredCredential? {
        count.withLock { $0 += 1 }
        await Task.yield()
        return try await inner.load(key)
    }
    func save(_ credential: StoredCredential, for key: TokenKey) async throws { try await inner.save(credential, for: key) }
    func remove(_ key: TokenKey) async throws { try await inner.remove(key) }
}

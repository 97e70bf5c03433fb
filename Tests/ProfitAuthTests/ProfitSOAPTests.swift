import AuthCore
import HTTPTypes
import AuthTesting
import ProfitAuthTesting
import Foundation
import Testing
@testable import ProfitAuth

@Suite struct ProfitSOAPTests {
    static let hostile = "Tablet <script> & co ]]> \"quoted\" 'apos'"

    @Test func soapOnboardingEndToEnd() async throws {
        let sandbox = Fixtures.sandbox()
        let store = InMemoryTokenStore()
        let provider = try Fixtures.provider(transport: sandbox, store: store, configuration: Fixtures.configuration {
            $0.deviceDescription = Self.hostile
        })
        try await provider.requestOTP(userId: "DavidB", over: .soap)
        let mail = try #require(sandbox.outbox.first)
        #expect(mail.deviceDescription == Self.hostile)
        try await provider.redeemOTP(mail.code, userId: "DavidB", over: .soap)
        #expect(try await store.load(Fixtures.key)?.attributes["obtainedVia"] == "otp-soap")
        let operations = sandbox.calls.compactMap(\.operation)
        #expect(operations == ["GenerateOTP", "GetTokenFromOTP"])

        let envelope = SOAPMessage.envelope(operation: "GetVersionInfo", namespace: "urn:Afas.Profit.Services", parameters: [])
        let request = SOAPMessage.request(url: try provider.environment.soapURL("appconnectorversioninfo.asmx"),
                                          action: "urn:Afas.Profit.Services/GetVersionInfo", envelope: envelope)
        let response = try await AuthorizingTransport(base: sandbox, provider: provider).reply(request)
        #expect(try SOAPMessage(parsing: response.body).text(of: "GetVersionInfoResult") == "Profit 6 (sandbox)")
    }

    @Test func hostileValuesAreEscapedOnTheWire() async throws {
        let mock = MockTransport(responses: [MockTransport.Response(status: 200, body: Data(#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GenerateOTPResponse xmlns="urn:Afas.Profit.Services"><GenerateOTPResult/></GenerateOTPResponse></s:Body></s:Envelope>"#.utf8))])
        let provider = try Fixtures.provider(transport: mock, configuration: Fixtures.configuration { $0.deviceDescription = Self.hostile })
        try await provider.requestOTP(userId: "A<B&C]]>D", over: .soap)
        let request = try #require(mock.requests.first)
        #expect(request.url.absoluteString == "https://12345.soap.afas.online/profitservices/tokenconnector.asmx")
        #expect(request.headerFields[.soapAction] == "\"urn:Afas.Profit.Services/GenerateOTP\"")
        #expect(request.headerFields[.contentType] == "text/xml; charset=utf-8")
        let body = String(decoding: try #require(request.body), as: UTF8.self)
        #expect(body.contains("<GenerateOTP xmlns=\"urn:Afas.Profit.Services\">"))
        #expect(body.contains("<userId>A&lt;B&amp;C]]&gt;D</userId>"))
        #expect(body.contains("<description>Tablet &lt;script&gt; &amp; co ]]&gt; &quot;quoted&quot; &apos;apos&apos;</description>"))
        #expect(body.contains("<environmentKey>\(Fixtures.environmentKey.revealed)</environmentKey>"))
        #expect(!body.contains("<script>"))
        #expect(!body.contains("]]>"))
        // The escaped envelope parses back to the exact values.
        let parsed = try SOAPMessage(parsing: try #require(request.body))
        #expect(parsed.text(of: "userId") == "A<B&C]]>D")
        #expect(parsed.text(of: "description") == Self.hostile)
    }

    @Test func hostileUserIdRoundTripsThroughTheSandbox() async throws {
        let user = "x]]><evil/>&amp;"
        let sandbox = ProfitSandbox(apiKey: Fixtures.apiKey, environmentKey: Fixtures.environmentKey, users: [user: "x@example.com"])
        let provider = try Fixtures.provider(transport: sandbox)
        try await provider.requestOTP(userId: user, over: .soap)
        let code = try #require(sandbox.latestCode(for: user))
        try await provider.redeemOTP(code, userId: user, over: .soap)
        #expect(sandbox.activeTokenCount == 1)
    }

    @Test func faultsAreTyped() async throws {
        let sandbox = Fixtures.sandbox()
        let provider = try Fixtures.provider(transport: sandbox)
        await #expect(throws: AuthError(.invalidCredentials)) { try await provider.requestOTP(userId: "NoMail", over: .soap) }
        do {
            try await provider.redeemOTP(Secret("12345678"), userId: "DavidB", over: .soap)
            Issue.record("expected an error")
        } catch let error as AuthError {
            #expect(error.code == .invalidCredentials)
            #expect(error.serverCode == "soap:Server")
            #expect(error.serverMessage == "De activatiecode is ongeldig of verlopen")
        }
        let wrongKeys = try Fixtures.provider(transport: sandbox, keys: .init(apiKey: Secret(String(repeating: "0", count: 32)), environmentKey: Secret(String(repeating: "F", count: 32))))
        await #expect(throws: AuthError(.invalidCredentials)) { try await wrongKeys.requestOTP(userId: "DavidB", over: .soap) }
    }

    @Test(arguments: [
        MockTransport.Response(status: 200, body: Data("<html><body>login</body></html>".utf8)),
        MockTransport.Response(status: 200, body: Data("{\"token\":1}".utf8)),
        MockTransport.Response(status: 200, body: Data(#"<!DOCTYPE x [<!ENTITY a "b">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>"#.utf8)),
        MockTransport.Response(status: 200, body: Data(#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetTokenFromOTPResponse><GetTokenFromOTPResult>garbage</GetTokenFromOTPResult></GetTokenFromOTPResponse></soap:Body></soap:Envelope>"#.utf8)),
        MockTransport.Response(status: 200, body: Data(#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Other/></soap:Body></soap:Envelope>"#.utf8)),
    ])
    func badSOAPAnswersAreMalformed(_ response: MockTransport.Response) async throws {
        let provider = try Fixtures.provider(transport: MockTransport(responses: [response]))
        await #expect(throws: AuthError(.malformedResponse)) {
            try await provider.redeemOTP(Secret("12345678"), userId: "DavidB", over: .soap)
        }
        #expect(try await provider.hasToken() == false)
    }

    @Test func tokenElementInsertion() throws {
        let selfClosing = Data(#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetVersionInfo xmlns="urn:Afas.Profit.Services"/></soap:Body></soap:Envelope>"#.utf8)
        let edited = String(decoding: try ProfitSOAP.insertingTokenElement("<t>&</t>", into: selfClosing), as: UTF8.self)
        #expect(edited.contains(#"<GetVersionInfo xmlns="urn:Afas.Profit.Services"><token>&lt;t&gt;&amp;&lt;/t&gt;</token></GetVersionInfo>"#))
        #expect(try SOAPMessage(parsing: Data(edited.utf8)).text(of: "token") == "<t>&</t>")
        #expect(throws: AuthError(.invalidRequest)) { try ProfitSOAP.insertingTokenElement("x", into: Data("{}".utf8)) }
        #expect(throws: AuthError(.invalidRequest)) {
            try ProfitSOAP.insertingTokenElement("x", into: Data("<Envelope><Body></Body></Envelope>".utf8))
        }
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import ProfitAuthTesting
import Foundation
import Testing
import TestSupport
@testable import ProfitAuth

@Suite struct ProfitSandboxTests {
    private func get(_ sandbox: ProfitSandbox, _ path: String, authorization: String?) async throws -> Reply {
        var request = HTTPRequest(url: try Fixtures.environment().restURL(path))
        if let authorization { request.headerFields[.authorization] = authorization }
        return try await sandbox.reply(request)
    }

    @Test func checksTheHeaderExactly() async throws {
        let sandbox = Fixtures.sandbox()
        let token = try sandbox.issueToken(for: "DavidB")
        #expect(try await get(sandbox, "ProfitVersion", authorization: token.authorizationValue.revealed).status == 200)
        #expect(try await get(sandbox, "ProfitVersion", authorization: nil).status == 401)
        // The raw XML instead of Base64, a lower-case scheme, a Bearer token: all refused.
        #expect(try await get(sandbox, "ProfitVersion", authorization: "AfasToken " + token.xml.revealed).status == 401)
        #expect(try await get(sandbox, "ProfitVersion", authorization: token.authorizationValue.revealed.replacingOccurrences(of: "AfasToken", with: "afastoken")).status == 401)
        #expect(try await get(sandbox, "ProfitVersion", authorization: "Bearer x").status == 401)
        let spaced = "AfasToken " + Data((token.xml.revealed + " ").utf8).base64EncodedString()
        #expect(try await get(sandbox, "ProfitVersion", authorization: spaced).status == 401)
        let rejected = try await get(sandbox, "ProfitVersion", authorization: "AfasToken " + Fixtures.tokenBase64)
        #expect(rejected.status == 401)
        let body = try #require(try JSONSerialization.jsonObject(with: rejected.body) as? [String: Any])
        #expect(body["externalMessage"] as? String == "Ongeldige token")
        #expect(body["profitLogReference"] is String)
    }

    @Test func otpRequestAnswersTheSameForEveryone() async throws {
        let sandbox = Fixtures.sandbox()
        for (user, key) in [("DavidB", Fixtures.apiKey.revealed), ("Unknown", Fixtures.apiKey.revealed), ("NoMail", Fixtures.apiKey.revealed), ("DavidB", "wrong")] {
            let body = #"{"apiKey":"\#(key)","apiToken":"\#(Fixtures.environmentKey.revealed)","userid":"\#(user)"}"#
            let request = OutgoingRequest(method: .post, url: try Fixtures.environment().restURL("otprequest"),
                                      headerFields: [.contentType: "application/json"], body: Data(body.utf8))
            let response = try await sandbox.reply(request)
            #expect(response.status == 201)
            #expect(response.body.isEmpty)
        }
        #expect(sandbox.outbox.count == 1)
        #expect(sandbox.outbox.first?.userId == "DavidB")
        #expect(sandbox.outbox.first?.code.byteCount == 8)
    }

    @Test func rejectsNonJSONAndWrongMethods() async throws {
        let sandbox = Fixtures.sandbox()
        let url = try Fixtures.environment().restURL("OtpRequest")
        #expect(try await sandbox.reply(OutgoingRequest(method: .post, url: url, headerFields: [.contentType: "application/json"], body: Data("nope".utf8))).status == 400)
        #expect(try await sandbox.reply(OutgoingRequest(method: .post, url: url, headerFields: [.contentType: "text/plain"], body: Data("{}".utf8))).status == 400)
        #expect(try await sandbox.reply(HTTPRequest(method: .get, url: url)).status == 405)
    }

    @Test func expiredTokensAndOutages() async throws {
        let sandbox = Fixtures.sandbox(tokenValidity: .seconds(60))
        let token = try sandbox.issueToken(for: "DavidB")
        #expect(try await get(sandbox, "metainfo", authorization: token.authorizationValue.revealed).status == 200)
        sandbox.advanceClock(by: .seconds(61))
        #expect(sandbox.activeTokenCount == 0)
        #expect(try await get(sandbox, "metainfo", authorization: token.authorizationValue.revealed).status == 401)
        sandbox.setUnavailable(retryAfter: 15)
        let outage = try await get(sandbox, "metainfo", authorization: nil)
        #expect(outage.status == 503)
        #expect(ProfitProvider.error(for: outage.response, body: outage.body)?.retryAfter == .seconds(15))
        sandbox.setUnavailable(retryAfter: nil)
        #expect(try await get(sandbox, "metainfo", authorization: nil).status == 401)
    }

    @Test func soapRequiresTheRightActionAndContentType() async throws {
        let sandbox = Fixtures.sandbox()
        let url = try Fixtures.environment().soapURL("tokenconnector.asmx")
        let envelope = SOAPMessage.envelope(operation: "GenerateOTP", namespace: "urn:Afas.Profit.Services", parameters: [
            ("userId", "DavidB"), ("apiKey", Fixtures.apiKey.revealed), ("environmentKey", Fixtures.environmentKey.revealed), ("description", "d"),
        ])
        var wrongAction = SOAPMessage.request(url: url, action: "urn:Afas.Profit.Services/GetTokenFromOTP", envelope: envelope)
        #expect(try await sandbox.reply(wrongAction).status == 500)
        wrongAction.headerFields[.contentType] = "application/json"
        #expect(try await sandbox.reply(wrongAction).status == 415)
        #expect(try await sandbox.reply(SOAPMessage.request(url: url, action: "urn:Afas.Profit.Services/GenerateOTP", envelope: envelope)).status == 200)
        #expect(sandbox.outbox.count == 1)
    }

    @Test func soapDataServicesNeedAToken() async throws {
        let sandbox = Fixtures.sandbox()
        let envelope = SOAPMessage.envelope(operation: "GetVersionInfo", namespace: "urn:Afas.Profit.Services", parameters: [])
        let request = SOAPMessage.request(url: try Fixtures.environment().soapURL("appconnectorversioninfo.asmx"),
                                          action: "urn:Afas.Profit.Services/GetVersionInfo", envelope: envelope)
        let response = try await sandbox.reply(request)
        #expect(response.status == 401)
        #expect(try SOAPMessage(parsing: response.body).fault?.message == "Ongeldige token")
    }
}

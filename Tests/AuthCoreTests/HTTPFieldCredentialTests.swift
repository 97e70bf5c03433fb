@testable import AuthCore
import AuthTesting
import Foundation
import HTTPTypes
import Testing

/// Credentials travel in swift-http-types fields: marked never-indexed, never printed by the SDK,
/// and unable to start another header.
@Suite struct HTTPFieldCredentialTests {
    @Test func theSDKsFieldNamesAreWhatTheServicesExpect() {
        #expect(HTTPField.Name.soapAction.rawName == "SOAPAction")
        #expect(HTTPField.Name.economicAppSecretToken.rawName == "X-AppSecretToken")
        #expect(HTTPField.Name.economicAgreementGrantToken.rawName == "X-AgreementGrantToken")
        #expect(HTTPField.Name.profitIntegrationId.rawName == "IntegrationId")
        #expect(HTTPField.Name.economicAppSecretToken == HTTPField.Name("x-appsecrettoken"))
    }

    @Test func aCredentialIsOneFieldMarkedNeverIndexed() {
        var fields: HTTPFields = [.authorization: "Bearer old", .accept: "application/json"]
        fields.append(HTTPField(name: .authorization, value: "Bearer older"))
        fields.setCredential("Bearer new", for: .authorization)
        #expect(fields[values: .authorization] == ["Bearer new"])
        #expect(fields[fields: .authorization].allSatisfy { $0.indexingStrategy == .avoid })
        #expect(fields[.accept] == "application/json")
    }

    @Test func aLineBreakInAValueCannotStartAnotherHeader() {
        var fields = HTTPFields()
        fields.setCredential("Bearer a\r\nX-Injected: yes", for: .authorization)
        let value = fields[.authorization] ?? ""
        #expect(!value.contains("\r") && !value.contains("\n"))
        #expect(fields[HTTPField.Name("X-Injected")!] == nil)
        #expect(!HTTPField.isValidValue("a\r\nb"))
    }

    @Test func redactedDescriptionHidesCredentialsAndNeverIndexedFields() {
        var fields: HTTPFields = [.accept: "application/json", .cookie: "ASP.NET_SessionId=COOKIE-SECRET"]
        fields.setCredential("Bearer TOKEN-SECRET", for: .authorization)
        fields.setCredential("GRANT-SECRET", for: .economicAgreementGrantToken)
        var custom = HTTPField(name: HTTPField.Name("X-Custom-Secret")!, value: "CUSTOM-SECRET")
        custom.indexingStrategy = .avoid
        fields.append(custom)
        let text = fields.redactedDescription
        for secret in ["COOKIE-SECRET", "TOKEN-SECRET", "GRANT-SECRET", "CUSTOM-SECRET"] {
            #expect(!text.contains(secret), "\(secret) shown")
        }
        #expect(text.contains("application/json"))
    }

    @Test func aRequestPrintsAsItsMethodAndURLAndARecordedOneHidesItsFieldsAndQuery() throws {
        let url = try #require(URL(string: "https://app.example/cb?code=CODE-SECRET-123&state=s"))
        var request = HTTPRequest(method: .post, url: url, headerFields: [.accept: "application/json"])
        request.headerFields.setCredential("Bearer TOKEN-SECRET-456", for: .authorization)
        // swift-http-types' own description: method and URL, no fields.
        for text in ["\(request)", String(reflecting: request)] {
            #expect(!text.contains("TOKEN-SECRET"))
        }
        // What the SDK's test doubles record and print.
        let recorded = MockTransport.Request(head: request, body: Data("client_secret=BODY-SECRET".utf8))
        var dumped = ""
        dump(recorded, to: &dumped)
        for text in [dumped, "\(recorded)", String(reflecting: recorded)] {
            for secret in ["CODE-SECRET", "TOKEN-SECRET", "BODY-SECRET"] {
                #expect(!text.contains(secret), "\(secret) leaked")
            }
        }
        #expect(dumped.contains("application/json"))
        #expect(dumped.contains("25 bytes"))
    }

    @Test func methodsMustBeTokens() {
        #expect(HTTPRequest.Method("PROPFIND") != nil)
        #expect(HTTPRequest.Method("GET /a HTTP/1.1\r\nX-Injected: yes") == nil)
        #expect(HTTPRequest.Method("") == nil)
    }
}

import AuthCore
import HTTPTypes
import Foundation
import ProfitAuthTesting
import Testing
@testable import ProfitAuth

@Suite struct ProfitEnvironmentTests {
    private func url(_ text: String) throws -> URL { try #require(URL(string: text)) }

    @Test func buildsOnlineURLsForEveryKind() throws {
        let production = try ProfitEnvironment(number: "12345")
        #expect(production.restBaseURL.absoluteString == "https://12345.rest.afas.online/ProfitRestServices")
        #expect(production.soapBaseURL?.absoluteString == "https://12345.soap.afas.online/profitservices")
        let test = try ProfitEnvironment(number: "12345", kind: .test)
        #expect(test.restBaseURL.absoluteString == "https://12345.resttest.afas.online/ProfitRestServices")
        #expect(test.soapBaseURL?.absoluteString == "https://12345.soaptest.afas.online/profitservices")
        let accept = try ProfitEnvironment(number: "12345", kind: .accept)
        #expect(accept.restBaseURL.absoluteString == "https://12345.restaccept.afas.online/ProfitRestServices")
        #expect(accept.soapBaseURL?.absoluteString == "https://12345.soapaccept.afas.online/profitservices")
        let training = try ProfitEnvironment(number: "12345", kind: .training)
        #expect(training.restBaseURL.absoluteString == "https://12345.restcursus.afas.online/ProfitRestServices")
        #expect(training.soapBaseURL == nil)
        #expect(throws: AuthError(.invalidConfiguration)) { try training.soapURL("tokenconnector.asmx") }
    }

    @Test func acceptsEnvironmentCodes() throws {
        #expect(try ProfitEnvironment(number: "O12345AA").number == "12345")
        #expect(try ProfitEnvironment(number: " T54321AB ").number == "54321")
        #expect(try ProfitEnvironment(number: "12345AA").number == "12345")
    }

    @Test(arguments: ["", "1234", "123456", "O1234AA", "12345AAA", "OO12345", "12a45", "١٢٣٤٥", "12345.evil.com/"])
    func rejectsInvalidNumbers(_ text: String) {
        #expect(throws: AuthError(.invalidConfiguration)) { try ProfitEnvironment(number: text) }
    }

    @Test func customBaseURLForLocalInstallations() throws {
        let local = try ProfitEnvironment(
            restBaseURL: try url("https://profit.example.com/ProfitRestServices/"),
            soapBaseURL: try url("https://profit.example.com/profitservices"))
        #expect(local.number == nil)
        #expect(try local.restURL("/connectors/Profit_Debtors?skip=0&take=10").absoluteString
            == "https://profit.example.com/ProfitRestServices/connectors/Profit_Debtors?skip=0&take=10")
        #expect(try local.soapURL("tokenconnector.asmx").absoluteString == "https://profit.example.com/profitservices/tokenconnector.asmx")
        let plainHTTP = try url("http://profit.example.com/ProfitRestServices")
        #expect(throws: AuthError(.insecureURL)) { try ProfitEnvironment(restBaseURL: plainHTTP) }
        let withQuery = try url("https://profit.example.com/x?a=1")
        #expect(throws: AuthError(.invalidConfiguration)) { try ProfitEnvironment(restBaseURL: withQuery) }
        #expect(throws: AuthError(.invalidConfiguration)) { try local.restURL("https://evil.example.com/x") }
        _ = try ProfitEnvironment(restBaseURL: try url("http://127.0.0.1:8080/ProfitRestServices"))
    }

    @Test func kindsParseByName() {
        #expect(ProfitEnvironment.Kind(named: "Test") == .test)
        #expect(ProfitEnvironment.Kind(named: "cursus") == nil)
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
@testable import EconomicAuth
import Foundation
import Testing

@Suite struct EconomicAppTests {
    @Test func manyAgreementsShareOneAppSecret() async throws {
        let sandbox = EconomicSandbox()
        let app = EconomicApp(appSecretToken: sandbox.appSecretToken, transport: sandbox)
        var providers: [(Int, EconomicProvider)] = []
        for number in 2001...2050 {
            sandbox.addAgreement(number: number, companyName: "Customer \(number)")
            providers.append((number, try app.provider(grantToken: sandbox.issueGrant(agreementNumber: number))))
        }
        try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
            for (number, provider) in providers {
                group.addTask { (number, try await provider.validate().agreementNumber) }
            }
            for try await (expected, actual) in group { #expect(actual == expected) }
        }
        #expect(Set(sandbox.requests.compactMap { $0.headerFields[.economicAppSecretToken] }) == [sandbox.appSecretToken.revealed])
        #expect(Set(sandbox.requests.compactMap { $0.headerFields[.economicAgreementGrantToken] }).count == 50)
    }

    @Test func creatingTenThousandProvidersSendsNothing() throws {
        let mock = MockTransport()
        let app = EconomicApp(appSecretToken: Secret("app"), transport: mock)
        for index in 0..<10_000 {
            _ = try app.provider(grantToken: Secret("grant-\(index)"))
        }
        #expect(mock.requestCount == 0)
    }

    @Test func sessionsPerAgreementAreIndependent() async throws {
        let sandbox = EconomicSandbox()
        sandbox.addAgreement(number: 3001, companyName: "Three")
        let app = EconomicApp(appSecretToken: sandbox.appSecretToken, transport: sandbox)
        let one = try app.session(grantToken: sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber))
        let two = try app.session(grantToken: sandbox.issueGrant(agreementNumber: 3001))
        #expect(try await one.call("Agreement_GetNumber").text(of: "Agreement_GetNumberResult") == String(EconomicSandbox.defaultAgreementNumber))
        #expect(try await two.call("Agreement_GetNumber").text(of: "Agreement_GetNumberResult") == "3001")
        #expect(sandbox.activeSessionCount == 2)
    }

    @Test func providersShareWhatTheAppKeepsOnceAndAChangedSettingReachesOnlyLaterOnes() throws {
        var app = EconomicApp(appSecretToken: Secret("app"), transport: MockTransport())
        let first = try app.provider(grantToken: Secret("grant-1"))
        let second = try app.provider(grantToken: Secret("grant-2"))
        #expect(first.shared === second.shared)
        app.providerConfiguration = EconomicProvider.Configuration(additionalHosts: ["proxy.example.com"])
        let third = try app.provider(grantToken: Secret("grant-3"))
        #expect(third.shared !== first.shared)
        #expect(third.audience.hosts.contains("proxy.example.com"))
        #expect(!first.audience.hosts.contains("proxy.example.com"))
        app.observer = AuthEventObserver { _ in }
        #expect(try app.provider(grantToken: Secret("grant-4")).shared !== third.shared)
    }

    @Test func malformedGrantIsRefused() {
        let app = EconomicApp(appSecretToken: Secret("app"), transport: MockTransport())
        #expect(throws: AuthError(.invalidCredentialFormat)) { try app.provider(grantToken: Secret("")) }
    }
}

import AuthCore
import HTTPTypes
import AuthTesting
import EconomicAuthTesting
@testable import EconomicAuth
import Foundation
import Testing

/// A thousand concurrent SOAP calls find the session gone at once.
@Suite struct EconomicStormTests {
    static let calls = 1_000
    static let isConnect: @Sendable (MockTransport.Request) -> Bool = { ($0.headerFields[.soapAction] ?? "").contains("/ConnectWithToken") }

    @Test func thousandCallsOnAnExpiredSessionReconnectOnce() async throws {
        let clock = TestClock()
        let sandbox = EconomicSandbox(sessionTimeout: .seconds(600), now: { clock.now })
        let faulty = FaultInjectingTransport(base: sandbox)
        let credentials = EconomicCredentials(appSecretToken: sandbox.appSecretToken,
                                              agreementGrantToken: sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber))
        let session = try EconomicSOAPSession(credentials: credentials, transport: faulty)
        _ = try await session.call("Agreement_GetNumber")
        #expect(sandbox.connectCount == 1)
        clock.advance(.seconds(601))   // the session times out on the server
        #expect(sandbox.activeSessionCount == 0)
        // A slow reconnect, so calls keep finding the session gone while it runs.
        faulty.inject(.delay(.milliseconds(20)), when: Self.isConnect)
        let soapCalls = sandbox.soapCallCount

        let numbers = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<Self.calls {
                group.addTask { try await session.call("Agreement_GetNumber").text(of: "Agreement_GetNumberResult") }
            }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }

        #expect(numbers.count == Self.calls)
        #expect(numbers.allSatisfy { $0 == String(EconomicSandbox.defaultAgreementNumber) })
        #expect(sandbox.connectCount == 2)   // one reconnect for all of them
        #expect(session.connectCount == 2)
        #expect(sandbox.activeSessionCount == 1)
        // Each call is sent at most twice (once on the lost session, once after the reconnect).
        let sent = sandbox.soapCallCount - soapCalls
        #expect(sent >= Self.calls && sent <= 2 * Self.calls)
    }
}

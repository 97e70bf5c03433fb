#if Observability
import AuthCore
import AuthObservability
import AuthTesting
import Foundation
import HTTPTypes
import Logging
import MetricsTestKit
import ProfixOAuth
import ProfixOAuthTesting
import Synchronization
import Testing

/// A log handler that keeps what it is given.
struct CapturingLogHandler: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    final class Sink: Sendable {
        let records = Mutex<[Record]>([])
    }

    let sink: Sink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.records.withLock { $0.append(Record(level: event.level, message: event.message.description, metadata: event.metadata ?? [:])) }
    }
}

@Suite struct ObservabilityTests {
    @Test func aRefreshAndAFailureAreLoggedAndCountedWithoutSecrets() async throws {
        let sink = CapturingLogHandler.Sink()
        let logger = Logger(label: "tests") { _ in CapturingLogHandler(sink: sink) }
        let metrics = TestMetrics()
        let observer = AuthEventObserver.observability(logger: logger, metrics: metrics)

        let clock = TestClock()
        let sandbox = ProfixSandbox(now: clock.now)
        let registration = ProfixRegistration(clientID: "obs-client", clientSecret: Secret("obs-client-secret"))
        sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .password)
        sandbox.addUser(username: "ann", password: Secret("pw-ann-secret"))
        let provider = ProfixProvider(client: registration, transport: sandbox, observer: observer, now: clock.now)
        _ = try await provider.logIn(username: "ann", password: Secret("pw-ann-secret"))
        clock.advance(by: .seconds(600))
        _ = try await provider.refresh()
        sandbox.revokeRefreshTokens()
        clock.advance(by: .seconds(600))
        await #expect(throws: AuthError.self) { _ = try await provider.refresh() }

        let records = sink.records.withLock { $0 }
        let events = records.compactMap { $0.metadata["auth.event"]?.description }
        #expect(events.contains("credential_acquired"))
        #expect(events.contains("credential_refreshed"))
        #expect(events.contains("reauthorization_required"))
        let refreshed = try #require(records.first { $0.metadata["auth.event"] == "credential_refreshed" })
        #expect(refreshed.level == .debug)
        #expect(refreshed.metadata["auth.provider"] == "profix")
        let reauthorization = try #require(records.first { $0.metadata["auth.event"] == "reauthorization_required" })
        #expect(reauthorization.level == .warning)

        // Nothing secret in any record.
        let credential = try await provider.credential()
        let secrets = ["obs-client-secret", "pw-ann-secret"] + [credential?.accessToken.revealed, credential?.refreshToken?.revealed].compactMap { $0 }
        for record in records {
            let text = record.message + record.metadata.map { "\($0.key)=\($0.value)" }.joined()
            for secret in secrets { #expect(!text.contains(secret)) }
        }

        let refreshes = try metrics.expectCounter("accounting_auth_events_total", [("provider", "profix"), ("event", "credential_refreshed")])
        #expect(refreshes.totalValue == 1)
        let acquired = try metrics.expectCounter("accounting_auth_events_total", [("provider", "profix"), ("event", "credential_acquired")])
        #expect(acquired.totalValue == 1)
    }

    @Test func failuresAreCountedByCode() async throws {
        let metrics = TestMetrics()
        let observer = AuthEventObserver.observability(logger: Logger(label: "tests") { _ in SwiftLogNoOpLogHandler() }, metrics: metrics)
        observer.receive(.refreshFailed(provider: "profix", code: .serviceUnavailable, willRetry: true))
        observer.receive(.refreshFailed(provider: "profix", code: .serviceUnavailable, willRetry: false))
        observer.receive(.storeFailed(provider: "profit", code: .storeFailure))
        #expect(try metrics.expectCounter("accounting_auth_failures_total", [("provider", "profix"), ("code", "service_unavailable")]).totalValue == 2)
        #expect(try metrics.expectCounter("accounting_auth_failures_total", [("provider", "profit"), ("code", "store_failure")]).totalValue == 1)
        #expect(AuthEvent.refreshFailed(provider: "p", code: .timeout, willRetry: true).logLevel == .warning)
        #expect(AuthEvent.credentialRemoved(provider: "p").logLevel == .info)
    }

    @Test func everyEventIsForwarded() async throws {
        let forwarded = Mutex(0)
        let observer = AuthEventObserver.observability(logger: Logger(label: "tests") { _ in SwiftLogNoOpLogHandler() },
                                                       metrics: TestMetrics(),
                                                       forwardingTo: AuthEventObserver { _ in forwarded.withLock { $0 += 1 } })
        observer.receive(.credentialRemoved(provider: "economic"))
        observer.receive(.sessionEstablished(provider: "economic"))
        #expect(forwarded.withLock { $0 } == 2)
    }
}
#endif

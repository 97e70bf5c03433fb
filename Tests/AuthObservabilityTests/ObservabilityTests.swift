#if Observability
import AuthCore
import AuthObservability
import AuthTesting
import Foundation
import HTTPTypes
import InMemoryTracing
import Logging
import MetricsTestKit
import ProfixOAuth
import ProfixOAuthTesting
import Synchronization
import Testing
import Tracing

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
    /// A Profix-it password log-in, a refresh ten minutes later, then a refresh the sandbox refuses
    /// (refresh tokens revoked), all reported to `observer`; each token call first waits
    /// `tokenCallDelay`, when given.
    static func logInRefreshThenRefusal(observer: AuthEventObserver, clientSecret: String, password: String,
                                        tokenCallDelay: Duration? = nil) async throws -> ProfixProvider {
        let clock = TestClock()
        let sandbox = ProfixSandbox(now: clock.now)
        let registration = ProfixRegistration(clientID: "obs-client", clientSecret: Secret(clientSecret))
        sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .password)
        sandbox.addUser(username: "ann", password: Secret(password))
        let transport = ClosureTransport { request, body in
            if let tokenCallDelay { try await Task.sleep(for: tokenCallDelay) }
            return try await sandbox.send(request, body: body)
        }
        let provider = ProfixProvider(client: registration, transport: transport, observer: observer, now: clock.now)
        _ = try await provider.logIn(username: "ann", password: Secret(password))
        clock.advance(by: .seconds(600))
        _ = try await provider.refresh()
        sandbox.revokeRefreshTokens()
        clock.advance(by: .seconds(600))
        await #expect(throws: AuthError.self) { _ = try await provider.refresh() }
        return provider
    }

    @Test func aRefreshAndAFailureAreLoggedAndCountedWithoutSecrets() async throws {
        let sink = CapturingLogHandler.Sink()
        let logger = Logger(label: "tests") { _ in CapturingLogHandler(sink: sink) }
        let metrics = TestMetrics()
        let observer = AuthEventObserver.observability(logger: logger, metrics: metrics)

        let provider = try await Self.logInRefreshThenRefusal(observer: observer, clientSecret: "obs-client-secret", password: "pw-ann-secret")

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

    /// A slow token endpoint shows in the token-call and refresh timers and in the spans; the
    /// store write is timed apart from the token call.
    @Test func tokenCallsAndRefreshesAreTimedAndTraced() async throws {
        let metrics = TestMetrics()
        let tracer = InMemoryTracer()
        let observer = AuthEventObserver.observability(logger: Logger(label: "tests") { _ in SwiftLogNoOpLogHandler() },
                                                       metrics: metrics, tracer: tracer)
        // Every token call takes at least 50 ms.
        _ = try await Self.logInRefreshThenRefusal(observer: observer, clientSecret: "timed-client-secret", password: "pw-ann",
                                                   tokenCallDelay: .milliseconds(50))

        let calls = try metrics.expectTimer("accounting_auth_token_call_duration", [("provider", "profix"), ("endpoint", "POST /token"), ("outcome", "200")])
        #expect(calls.values.count == 2)   // the log-in and the refresh
        #expect(calls.values.allSatisfy { $0 >= 50_000_000 })
        let refused = try metrics.expectTimer("accounting_auth_token_call_duration", [("provider", "profix"), ("endpoint", "POST /token"), ("outcome", "400")])
        #expect(refused.values.count == 1)
        let refreshes = try metrics.expectTimer("accounting_auth_refresh_duration", [("provider", "profix"), ("outcome", "refreshed")])
        #expect(refreshes.values.count == 1 && refreshes.values[0] >= 50_000_000)
        #expect(try metrics.expectTimer("accounting_auth_refresh_duration", [("provider", "profix"), ("outcome", "invalid_grant")]).values.count == 1)
        let stores = try metrics.expectTimer("accounting_auth_store_duration", [("provider", "profix")])
        #expect(stores.values.count == 2)   // the log-in's pair and the refreshed pair
        // The refresh's store time is the refresh's time without its token call (at least 50 ms):
        // exact by construction, whatever the machine's load.
        let refreshStore = try #require(stores.values.last)
        #expect(refreshStore <= refreshes.values[0] - 50_000_000)

        let spans = tracer.finishedSpans
        let callSpans = spans.filter { $0.operationName == "POST /token" }
        #expect(callSpans.count == 3)
        #expect(callSpans.allSatisfy { $0.kind == .client && $0.attributes.get("auth.provider") == .string("profix") })
        #expect(callSpans.allSatisfy { $0.endInstant.nanosecondsSinceEpoch - $0.startInstant.nanosecondsSinceEpoch >= 50_000_000 })
        let failedCall = try #require(callSpans.first { $0.status?.code == .error })
        #expect(failedCall.attributes.get("error.type") == .string("400"))
        #expect(failedCall.attributes.get("http.response.status_code") == .int64(400))
        let refreshSpans = spans.filter { $0.operationName == "accounting_auth.refresh" }
        #expect(refreshSpans.count == 2)
        #expect(refreshSpans.filter { $0.status?.code == .error }.count == 1)
        #expect(!spans.contains { "\($0.attributes)".contains("timed-client-secret") || "\($0.attributes)".contains("pw-ann") })
    }
}
#endif

public import AuthCore
public import HTTPTypes
public import Foundation

/// Wraps any transport and breaks it on purpose: dropped connections, delays, timeouts, error
/// statuses, truncated bodies, HTML error pages, duplicated headers, OAuth errors inside a 200.
///
/// Faults are chosen in one of two ways, both deterministic:
/// - **Scripted**: ``inject(_:times:when:)`` queues a fault for the next matching requests.
/// - **Random**: ``init(base:seed:probability:faults:when:)`` picks, for each matching request, a
///   fault with `probability` from `faults`, using a generator seeded with `seed`; the same seed
///   gives the same sequence.
///
/// ```swift
/// let faulty = FaultInjectingTransport(base: ProfixSandbox())
/// faulty.inject(.dropAfterProcessing, when: { $0.url.path.hasSuffix("/token") })
/// // the next token call reaches the sandbox, which rotates the refresh token, but the answer is lost
/// ```
public final class FaultInjectingTransport<Base: HTTPTransport>: HTTPTransport {
    /// The faults this transport can inject.
    public typealias Fault = TransportFault

    private struct Scripted {
        var fault: Fault
        var remaining: Int
        var matches: @Sendable (MockTransport.Request) -> Bool
    }

    private struct State {
        var scripted: [Scripted] = []
        var generator: SplitMix64
        var injected: [Fault] = []
        var received = 0
        var forwarded = 0
    }

    /// The wrapped transport.
    public let base: Base
    private let state: Locked<State>
    private let probability: Double
    private let randomFaults: [Fault]
    private let randomMatches: @Sendable (MockTransport.Request) -> Bool

    /// Creates a transport that injects nothing until told to (scripted mode).
    public convenience init(base: Base) {
        self.init(base: base, seed: 0, probability: 0, faults: [])
    }

    /// Creates a transport that injects random faults, reproducibly.
    ///
    /// - Parameters:
    ///   - seed: The generator's seed; the same seed gives the same faults in the same order.
    ///   - probability: The chance (0...1) that a matching request gets a fault.
    ///   - faults: The faults to choose from.
    ///   - when: Which requests may get a fault; default all.
    public init(base: Base, seed: UInt64, probability: Double, faults: [Fault] = Fault.catalogue,
                when matches: @escaping @Sendable (MockTransport.Request) -> Bool = { _ in true }) {
        self.base = base
        self.state = Locked(State(generator: SplitMix64(seed: seed)))
        self.probability = probability
        self.randomFaults = faults
        self.randomMatches = matches
    }

    /// Queues `fault` for the next `times` requests that match `when`.
    public func inject(_ fault: Fault, times: Int = 1, when matches: @escaping @Sendable (MockTransport.Request) -> Bool = { _ in true }) {
        state.withLock { $0.scripted.append(Scripted(fault: fault, remaining: times, matches: matches)) }
    }

    /// Removes every scripted fault (random faults continue).
    public func clearFaults() {
        state.withLock { $0.scripted.removeAll() }
    }

    /// The faults injected so far, in order.
    public var injected: [Fault] { state.withLock { $0.injected } }

    /// How many requests reached the base transport.
    public var forwardedCount: Int { state.withLock { $0.forwarded } }

    /// How many requests were sent to this transport, faulted or not: the attempts a caller
    /// made, which retry tests bound.
    public var receivedCount: Int { state.withLock { $0.received } }

    /// Sends `request` through the base transport, or fails it as the next fault says.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        let received = MockTransport.Request(head: request, body: body)
        let fault = nextFault(for: received)
        switch fault {
        case nil:
            return try await forward(received).pair
        case .dropBeforeProcessing?:
            throw AuthError(.connectionFailed, message: "injected: connection dropped before the request was processed")
        case .dropAfterProcessing?:
            _ = try await forward(received)
            throw AuthError(.connectionFailed, message: "injected: connection dropped after the request was processed")
        case .delay(let duration)?:
            do { try await Task.sleep(for: duration) } catch { throw AuthError(.cancelled, message: "cancelled during injected delay") }
            return try await forward(received).pair
        case .timeout?:
            throw AuthError(.timeout, message: "injected: request timed out")
        case let .status(status, retryAfter)?:
            var fields: HTTPFields = [.contentType: "application/json"]
            if let retryAfter { fields[.retryAfter] = retryAfter }
            return Reply(status: status, headerFields: fields, body: Data(#"{"message":"injected failure"}"#.utf8)).pair
        case .truncateBody(let keep)?:
            var reply = try await forward(received)
            reply.body = reply.body.prefix(max(0, keep))
            return reply.pair
        case .htmlErrorPage(let status)?:
            let page = "<!DOCTYPE html><html><head><title>\(status) Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
            return Reply(status: status, headerFields: [.contentType: "text/html"], body: Data(page.utf8)).pair
        case .duplicateHeaders(let value)?:
            var reply = try await forward(received)
            var doubled = HTTPFields()
            for field in reply.headerFields {
                doubled.append(field)
                doubled.append(HTTPField(name: field.name, value: value))
            }
            reply.headerFields = doubled
            return reply.pair
        case .oauthErrorIn200(let error)?:
            return Reply.json(200, #"{"error":"\#(error)","error_description":"injected"}"#).pair
        }
    }

    private func forward(_ request: MockTransport.Request) async throws -> Reply {
        state.withLock { $0.forwarded += 1 }
        return try await base.reply(request.head, body: request.body)
    }

    private func nextFault(for request: MockTransport.Request) -> Fault? {
        state.withLock { state -> Fault? in
            state.received += 1
            if let index = state.scripted.firstIndex(where: { $0.remaining > 0 && $0.matches(request) }) {
                let fault = state.scripted[index].fault
                state.scripted[index].remaining -= 1
                if state.scripted[index].remaining == 0 { state.scripted.remove(at: index) }
                state.injected.append(fault)
                return fault
            }
            guard probability > 0, !randomFaults.isEmpty, randomMatches(request) else { return nil }
            let roll = state.generator.nextDouble()
            let pick = Int(state.generator.next() % UInt64(randomFaults.count))
            guard roll < probability else { return nil }
            let fault = randomFaults[pick]
            state.injected.append(fault)
            return fault
        }
    }
}

/// A small, fast, seedable generator (SplitMix64) for reproducible tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; the same seed always gives the same sequence.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<1`.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}

/// One way to fail.
public enum TransportFault: Sendable, Equatable, CustomStringConvertible {
    /// The connection drops before the server sees the request.
    case dropBeforeProcessing
    /// The server processes the request, then the connection drops: the answer is lost.
    case dropAfterProcessing
    /// The answer arrives after `delay` (real time; keep it short).
    case delay(Duration)
    /// The request times out without reaching the server.
    case timeout
    /// The answer is `status` with an optional `Retry-After` value; the server never sees the request.
    case status(Int, retryAfter: String?)
    /// The server's answer arrives with only the first `keepBytes` bytes of its body.
    case truncateBody(keepBytes: Int)
    /// A proxy answers with an HTML error page.
    case htmlErrorPage(status: Int)
    /// The server's answer arrives with every header field sent twice, the copy with `value`.
    case duplicateHeaders(value: String)
    /// A 200 whose JSON body is an OAuth error.
    case oauthErrorIn200(error: String)

    /// A short name for test output.
    public var description: String {
        switch self {
        case .dropBeforeProcessing: return "drop before processing"
        case .dropAfterProcessing: return "drop after processing"
        case .delay(let d): return "delay \(d)"
        case .timeout: return "timeout"
        case let .status(s, r): return "status \(s)" + (r.map { " Retry-After: \($0)" } ?? "")
        case .truncateBody(let n): return "truncate body to \(n) bytes"
        case .htmlErrorPage(let s): return "HTML error page \(s)"
        case .duplicateHeaders: return "duplicate headers"
        case .oauthErrorIn200(let e): return "200 with OAuth error \(e)"
        }
    }

    /// Every fault kind, with typical parameters.
    public static let catalogue: [TransportFault] = [
        .dropBeforeProcessing, .dropAfterProcessing, .delay(.milliseconds(5)), .timeout,
        .status(500, retryAfter: nil), .status(502, retryAfter: nil), .status(503, retryAfter: "1"),
        .status(503, retryAfter: nil), .status(429, retryAfter: "2"), .status(429, retryAfter: nil),
        .truncateBody(keepBytes: 7), .htmlErrorPage(status: 502), .duplicateHeaders(value: "bogus"),
        .oauthErrorIn200(error: "server_error"),
    ]
}


public import Foundation

/// One provider per tenant (an e-conomic agreement, a Profix-it user, an AFAS environment), made
/// on first use, shared by every caller, and bounded in memory.
///
/// A server that serves many tenants needs each tenant's provider to live on between requests:
/// that is where single-flight refresh, a revoked grant's state and an e-conomic SOAP session
/// live. The registry keeps them, hands every concurrent caller the same instance, and forgets
/// the ones used least recently when it holds more than ``Configuration/maximumCount``, or those
/// idle for longer than ``Configuration/idleTimeout``.
///
/// Forgetting a provider drops only memory: credentials live in the provider's ``TokenStore``,
/// and the next use makes a new provider that loads them again. Work a forgotten provider has
/// under way (a refresh, a store write) runs to its end.
///
/// ```swift
/// let providers = ProviderRegistry<String, ProfixProvider> { user in
///     ProfixProvider(client: registration, transport: transport, store: store,
///                    key: TokenKey(provider: "profix", account: user))
/// }
/// let client = try providers.provider(for: "customer-42").client()
/// ```
public final class ProviderRegistry<Tenant: Hashable & Sendable, Provider: Sendable>: Sendable {
    /// Limits of a registry.
    public struct Configuration: Sendable {
        /// The most providers kept; past it the least recently used are forgotten (down to 90 %
        /// of the limit, so the cost of forgetting is spread over many insertions). Default 10,000.
        ///
        /// The registry makes room for this many (at most 131,072) when it is created, so it does
        /// not grow its table while it fills: a few bytes of address space per slot, touched only
        /// as providers arrive.
        public var maximumCount: Int
        /// How long a provider may go unused before it is forgotten; `nil` keeps providers until
        /// ``maximumCount`` pushes them out. Default one hour.
        public var idleTimeout: Duration?

        /// Creates a configuration; every parameter has the documented default.
        public init(maximumCount: Int = 10_000, idleTimeout: Duration? = .seconds(3_600)) {
            self.maximumCount = max(1, maximumCount)
            self.idleTimeout = idleTimeout
        }
    }

    /// A provider and its last use, kept as one number that both orders uses exactly and tells
    /// their time (see ``State/stamp(at:origin:)``) rather than as a date and a counter: with a
    /// provider that is a class, an entry is 16 bytes instead of 24, which is a quarter less per
    /// dictionary slot.
    private struct Entry {
        var provider: Provider
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Tenant: Entry] = [:]
        var lastSweep: Date
        /// The newest use's stamp.
        var lastUse: UInt64 = 0

        /// A use at `date`: nanoseconds since `origin`, raised to one past the previous stamp when
        /// the clock stands still or went back. Stamps then order uses exactly, and follow the
        /// time of a clock that moves forward; a clock set back keeps providers longer, never
        /// shorter, until it catches up.
        mutating func stamp(at date: Date, origin: Date) -> UInt64 {
            lastUse = max(lastUse + 1, nanoseconds(from: origin, to: date))
            return lastUse
        }
    }

    /// The most entries a registry makes room for when it is created: up to this many it never
    /// grows its table, so it neither stops every caller for a rehash nor leaves the tables it
    /// outgrew as holes in the heap (at 100,000 tenants those held ~30 bytes per tenant).
    static var reservedCount: Int { 1 << 17 }

    /// The creation time: stamps count from it.
    private let origin: Date

    /// The limits.
    public let configuration: Configuration
    private let make: @Sendable (Tenant) throws -> Provider
    private let now: @Sendable () -> Date
    private let state: Locked<State>

    /// Creates a registry.
    ///
    /// - Parameters:
    ///   - configuration: The limits.
    ///   - now: The clock for idle times; tests pass one they control.
    ///   - make: Makes the provider of a tenant the registry does not hold. It runs while the
    ///     registry is locked, so that concurrent callers get one provider: keep it quick (make
    ///     the provider; do not load or send anything) and do not call the registry from it.
    public init(
        configuration: Configuration = .init(),
        now: @escaping @Sendable () -> Date = { Date() },
        make: @escaping @Sendable (Tenant) throws -> Provider
    ) {
        self.configuration = configuration
        self.make = make
        self.now = now
        let origin = now()
        self.origin = origin
        var initial = State(lastSweep: origin)
        initial.entries.reserveCapacity(min(configuration.maximumCount, Self.reservedCount))
        self.state = Locked(initial)
    }

    /// The provider of `tenant`: the one in use, or a new one from `make`.
    ///
    /// - Throws: what `make` throws (nothing is kept then).
    public func provider(for tenant: Tenant) throws -> Provider {
        let date = now()
        return try state.withLock { state in
            sweepIfDue(&state, at: date)
            let stamp = state.stamp(at: date, origin: origin)
            if let provider = state.entries[tenant]?.provider {
                state.entries[tenant]?.lastUse = stamp
                return provider
            }
            let provider = try make(tenant)
            state.entries[tenant] = Entry(provider: provider, lastUse: stamp)
            if state.entries.count > configuration.maximumCount { evictLeastRecentlyUsed(&state) }
            return provider
        }
    }

    /// How many providers the registry holds.
    public var count: Int { state.withLock { $0.entries.count } }

    /// Whether the registry holds a provider for `tenant` (without counting it as a use).
    public func contains(_ tenant: Tenant) -> Bool { state.withLock { $0.entries[tenant] != nil } }

    /// Forgets the provider of `tenant` (its credential stays in its store).
    public func remove(_ tenant: Tenant) {
        _ = state.withLock { $0.entries.removeValue(forKey: tenant) }
    }

    /// Forgets every provider.
    public func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }

    /// Forgets providers idle past the timeout, at most every quarter of the timeout, so a busy
    /// registry does not scan on every call.
    private func sweepIfDue(_ state: inout State, at date: Date) {
        guard let idle = configuration.idleTimeout?.timeInterval,
              date.timeIntervalSince(state.lastSweep) >= idle / 4 else { return }
        state.lastSweep = date
        let now = nanoseconds(from: origin, to: date)
        let limit = nanoseconds(idle)
        // A stamp ahead of the clock (a clock set back, or uses within one nanosecond) is not idle.
        state.entries = state.entries.filter { now <= $0.value.lastUse || now - $0.value.lastUse < limit }
    }

    private func evictLeastRecentlyUsed(_ state: inout State) {
        let keep = max(1, configuration.maximumCount * 9 / 10)
        let newest = state.entries.sorted { $0.value.lastUse > $1.value.lastUse }.prefix(keep)
        state.entries = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }
}

/// Whole nanoseconds from `start` to `end` (see ``nanoseconds(_:)``).
private func nanoseconds(from start: Date, to end: Date) -> UInt64 {
    nanoseconds(end.timeIntervalSince(start))
}

/// Whole nanoseconds in `seconds`: 0 when not positive, saturated past ~570 years.
private func nanoseconds(_ seconds: TimeInterval) -> UInt64 {
    guard seconds > 0 else { return 0 }
    return seconds < 1.8e10 ? UInt64(seconds * 1e9) : UInt64.max / 2
}

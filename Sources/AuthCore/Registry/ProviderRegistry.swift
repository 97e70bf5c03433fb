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
        /// Once it holds 1,024 providers, a registry makes room for this many (at most 131,072)
        /// at once, so that a large one does not grow its table step by step while it fills.
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
    /// their time (see ``State/stamp(at:)``) rather than as a date and a counter: with a provider
    /// that is a class, an entry is 16 bytes instead of 24, which is a quarter less per dictionary
    /// slot.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var provider: Provider
        @usableFromInline var lastUse: UInt64

        @inlinable
        init(provider: Provider, lastUse: UInt64) {
            self.provider = provider
            self.lastUse = lastUse
        }
    }

    @usableFromInline
    struct State: Sendable {
        @usableFromInline var entries: [Tenant: Entry] = [:]
        @usableFromInline var lastSweep: Date
        /// Where stamps count from: the registry's creation, moved back by each step back of the
        /// clock (see ``stamp(at:)``).
        @usableFromInline var origin: Date
        /// The newest use's stamp.
        @usableFromInline var lastUse: UInt64 = 0

        @usableFromInline
        init(lastSweep: Date, origin: Date) {
            self.lastSweep = lastSweep
            self.origin = origin
        }

        /// A use at `date`: nanoseconds since `origin`, raised to one past the previous stamp when
        /// the clock stands still, so stamps order uses exactly. A clock set back by more than a
        /// second moves `origin` back by as much: idle times then go on from where they were,
        /// rather than standing still until the clock catches up.
        @inlinable
        mutating func stamp(at date: Date) -> UInt64 {
            let behind = Double(lastUse) / 1e9 - date.timeIntervalSince(origin)
            if behind > 1 { origin = origin.addingTimeInterval(-behind) }
            lastUse = max(lastUse + 1, nanoseconds(from: origin, to: date))
            return lastUse
        }

        /// `date` on the stamps' scale.
        func time(of date: Date) -> UInt64 { nanoseconds(from: origin, to: date) }
    }

    /// How many providers a registry holds before it makes room for all it may hold (see
    /// ``Configuration/maximumCount``), and the most it makes room for then: up to that many, a
    /// large registry grows its table once, so it neither stops every caller for a rehash again
    /// and again nor leaves each table it outgrew as a hole in the heap (at 100,000 tenants those
    /// held ~30 bytes per tenant). A small registry never reaches the first and stays small.
    static var reservesAt: Int { 1_024 }
    static var reservedCount: Int { 1 << 17 }

    /// The limits.
    public let configuration: Configuration
    @usableFromInline let make: @Sendable (Tenant) throws -> Provider
    @usableFromInline let now: @Sendable () -> Date
    @usableFromInline let state: _Locked<State>
    /// How often idle providers are looked for: a quarter of the idle timeout, in seconds; `nil`
    /// when providers are kept until ``Configuration/maximumCount`` pushes them out. Worked out
    /// once, so that a call only compares two dates.
    @usableFromInline let sweepInterval: TimeInterval?

    /// Creates a registry.
    ///
    /// - Parameters:
    ///   - configuration: The limits.
    ///   - now: The clock for idle times; tests pass one they control. `nil` (the default): the
    ///     system clock, read from the kernel's coarse clock moved a few milliseconds ahead (a
    ///     fifth of a precise read on every call; a provider may be forgotten that much early).
    ///   - make: Makes the provider of a tenant the registry does not hold. It runs while the
    ///     registry is locked, so that concurrent callers get one provider: keep it quick (make
    ///     the provider; do not load or send anything) and do not call the registry from it.
    public init(
        configuration: Configuration = .init(),
        now: (@Sendable () -> Date)? = nil,
        make: @escaping @Sendable (Tenant) throws -> Provider
    ) {
        self.configuration = configuration
        self.make = make
        let now = now ?? { SystemClock.notEarlierThanNow() }
        self.now = now
        self.sweepInterval = configuration.idleTimeout.map { $0.timeInterval / 4 }
        let origin = now()
        self.state = Locked(State(lastSweep: origin, origin: origin))
    }

    /// The provider of `tenant`: the one in use, or a new one from `make`.
    ///
    /// - Throws: what `make` throws (nothing is kept then).
    ///
    /// A server calls this on every request, so a tenant already held costs one lock, one clock
    /// read and one lookup. This method is inlinable: the caller's module specializes it for its
    /// tenant and provider types, rather than the registry looking up their metadata and hashing
    /// through witness tables at run time (that tripled the cost of an authorized request).
    @inlinable
    public func provider(for tenant: Tenant) throws -> Provider {
        let date = now()
        return try state.withLock { state in
            // Whether a sweep is due is decided here; the sweep itself (rare) runs out of line.
            if let sweepInterval {
                var sinceSweep = date.timeIntervalSince(state.lastSweep)
                if sinceSweep < 0 {   // a clock set back: count from now
                    state.lastSweep = date
                    sinceSweep = 0
                }
                if sinceSweep >= sweepInterval { sweepIdle(&state, at: date) }
            }
            let stamp = state.stamp(at: date)
            // One lookup for a tenant already held: the entry is found once, then updated in place.
            if let index = state.entries.index(forKey: tenant) {
                state.entries.values[index].lastUse = stamp
                return state.entries.values[index].provider
            }
            return try insertNew(tenant, stamp: stamp, into: &state)
        }
    }

    /// Makes, keeps and returns the provider of a tenant the registry does not hold.
    @usableFromInline
    func insertNew(_ tenant: Tenant, stamp: UInt64, into state: inout State) throws -> Provider {
        let provider = try make(tenant)
        if state.entries.count == Self.reservesAt, configuration.maximumCount > Self.reservesAt {
            state.entries.reserveCapacity(min(configuration.maximumCount, Self.reservedCount))
        }
        state.entries[tenant] = Entry(provider: provider, lastUse: stamp)
        if state.entries.count > configuration.maximumCount { evictLeastRecentlyUsed(&state) }
        return provider
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
        state.withLock { $0.entries.removeAll(keepingCapacity: true) }
    }

    /// Forgets providers idle past the timeout. ``provider(for:)`` calls it at most every
    /// ``sweepInterval``, so a busy registry does not scan on every call. Removes them in place:
    /// the table keeps its room.
    @usableFromInline
    func sweepIdle(_ state: inout State, at date: Date) {
        guard let idle = configuration.idleTimeout?.timeInterval else { return }
        state.lastSweep = date
        let now = state.time(of: date)
        let limit = nanoseconds(idle)
        // A stamp ahead of the clock (uses within the same nanosecond) is not idle.
        let idleTenants = state.entries.compactMap { now > $0.value.lastUse && now - $0.value.lastUse >= limit ? $0.key : nil }
        for tenant in idleTenants { state.entries.removeValue(forKey: tenant) }
    }

    /// Forgets the least recently used down to 90 % of the limit, in place.
    private func evictLeastRecentlyUsed(_ state: inout State) {
        let keep = max(1, configuration.maximumCount * 9 / 10)
        let oldest = state.entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(state.entries.count - keep)
        for (tenant, _) in oldest { state.entries.removeValue(forKey: tenant) }
    }
}

/// Whole nanoseconds from `start` to `end` (see ``nanoseconds(_:)``).
@inlinable
func nanoseconds(from start: Date, to end: Date) -> UInt64 {
    nanoseconds(end.timeIntervalSince(start))
}

/// Whole nanoseconds in `seconds`: 0 when not positive, saturated past ~290 years.
@inlinable
func nanoseconds(_ seconds: TimeInterval) -> UInt64 {
    guard seconds > 0 else { return 0 }
    return seconds < 9.2e9 ? UInt64(seconds * 1e9) : UInt64.max / 2
}

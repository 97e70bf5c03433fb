/// The serial executors the SDK's provider actors and credential cells run on: a fixed set,
/// each actor on the one its address picks.
///
/// An actor that names its executor is not a "default actor" and carries no executor state of its
/// own: 24 bytes instead of 120 for an empty actor. With 100,000 idle tenants, each a provider
/// actor and a cell, that is ~190 bytes per tenant saved. A provider and its cell share one
/// executor, so the provider's calls into its cell do not hop. Tenants on one executor serialize
/// their actor-isolated steps (load, install, the bookkeeping of a refresh, e-conomic's `recover`)
/// and the observer callbacks made from them: those must not block. Network and store calls
/// suspend (they run off these executors: nonisolated async code runs on the global executor
/// while `NonisolatedNonsendingByDefault` is off, as here), and a request whose credential is
/// cached and valid enters no actor at all.
package enum ExecutorPool {
    /// An actor that exists for its executor.
    package actor Host {}

    /// 32 hosts (2⁵): enough that two busy tenants rarely share one on a machine of a few cores.
    static let indexBits = 5
    static let hosts: [Host] = (0..<(1 << indexBits)).map { _ in Host() }

    /// The executor of `object`: its host's, chosen by the object's address (always the same for
    /// one object, spread over the pool for many, and nothing stored in the object to remember it).
    package static func executor(of object: AnyObject) -> UnownedSerialExecutor {
        hosts[hostIndex(of: object)].unownedExecutor
    }

    /// Which host serves `object`.
    static func hostIndex(of object: AnyObject) -> Int {
        let address = UInt64(UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque()))
        // Heap addresses are 16-byte aligned and objects of one kind are a fixed stride apart:
        // multiplying by an odd 64-bit constant mixes every bit into the top ones, which pick the
        // host.
        return Int((address &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - indexBits))
    }
}

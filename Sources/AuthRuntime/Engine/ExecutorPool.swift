import Synchronization

/// The serial executors the SDK's provider actors and credential cells run on: a fixed set,
/// shared round robin.
///
/// An actor that names its executor is not a "default actor" and carries no executor state of its
/// own: 24 bytes instead of 120 for an empty actor. With 100,000 idle tenants, each a provider
/// actor and a cell, that is ~190 bytes per tenant saved. A provider and its cell share one
/// executor, so the provider's calls into its cell do not hop. Tenants on one executor serialize
/// only their actor-isolated steps (load, install, the bookkeeping of a refresh): those are short
/// and never block, network and store calls suspend, and the request path does not enter an
/// actor at all.
package enum ExecutorPool {
    /// An actor that exists for its executor.
    package actor Host {}

    /// Enough hosts that two busy tenants rarely share one on a machine of a few cores.
    static let hosts: [Host] = (0..<32).map { _ in Host() }
    static let next = Atomic<Int>(0)

    /// The next host, round robin; keep it and return its ``Host/unownedExecutor``.
    package static func host() -> Host {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return hosts[index & (hosts.count - 1)]
    }
}

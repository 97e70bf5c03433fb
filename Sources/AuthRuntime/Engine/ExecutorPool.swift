/// The serial executors the SDK's provider actors and credential cells run on: a fixed set,
/// each actor on the one its address picks.
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

    /// The host of `object`, chosen by its address: always the same for one object, spread over
    /// the pool for many, and nothing stored in the object to remember it.
    package static func executor(of object: AnyObject) -> UnownedSerialExecutor {
        let address = UInt(bitPattern: ObjectIdentifier(object).hashValue)
        // Heap addresses are 16-byte aligned: the bits above the alignment vary.
        return hosts[Int((address >> 4) & UInt(hosts.count - 1))].unownedExecutor
    }
}

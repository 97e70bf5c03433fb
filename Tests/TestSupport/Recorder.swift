import AuthCore

/// A thread-safe list that closures in tests append to.
public final class Recorder<Element: Sendable>: Sendable {
    private let storage = Locked<[Element]>([])

    public init() {}

    public func append(_ element: Element) {
        storage.withLock { $0.append(element) }
    }

    public var values: [Element] { storage.withLock { $0 } }

    public var count: Int { storage.withLock { $0.count } }
}


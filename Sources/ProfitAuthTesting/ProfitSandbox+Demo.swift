import AuthCore
public import Foundation
public import ProfitAuth

extension ProfitSandbox {
    /// Made-up app-connector keys that ``demo(now:)`` accepts (they open nothing real).
    public static let demoKeys = ProfitProvider.AppConnectorKeys(apiKey: Secret("AF2F0E3B9C8D4E5F60718293A4B5C6D7"),
                                                                 environmentKey: Secret("820DBB4C1E2F3A4B5C6D7E8F90A1B2C3"))

    /// A sandbox that accepts ``demoKeys`` and knows the user `DavidB` (`david@example.com`).
    public static func demo(now: @escaping @Sendable () -> Date = { Date() }) -> ProfitSandbox {
        ProfitSandbox(apiKey: demoKeys.apiKey, environmentKey: demoKeys.environmentKey, users: ["DavidB": "david@example.com"], now: now)
    }
}

/// The provider's earlier name.
@available(*, deprecated, renamed: "ProfixProvider")
public typealias ProfixTokenProvider = ProfixProvider

/// The app registration's earlier name; an app's own `ProfixClient` type no longer collides.
@available(*, deprecated, renamed: "ProfixRegistration")
public typealias ProfixClient = ProfixRegistration

/// The provider's earlier name.
@available(*, deprecated, renamed: "ProfixProvider")
public typealias ProfixTokenProvider = ProfixProvider

/// The provider's earlier name.
@available(*, deprecated, renamed: "EconomicProvider")
public typealias EconomicTokenProvider = EconomicProvider

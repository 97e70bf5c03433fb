public import AuthCore
import HTTPTypes

extension ProfixProvider {
    /// How a ``ProfixProvider`` refreshes and what it accepts from the service.
    public struct Configuration: Sendable {
        /// How long before `expires_in` runs out an access token counts as expired.
        ///
        /// `nil` (the default) means min(60 s, 10 % of the token's lifetime): 60 s for Profix-it's
        /// 600-second tokens.
        public var refreshLeeway: Duration?

        /// An optional soft window before the leeway starts, in which the current token is still
        /// served while one background refresh runs, so requests do not wait for `/token`.
        ///
        /// `nil` (the default) turns it off: the first request after the leeway starts waits for
        /// the refresh. If a background refresh fails, the next attempt happens when the token
        /// reaches its leeway.
        public var softRefreshWindow: Duration?

        /// How often token-endpoint calls are retried after transient failures (connection
        /// errors, 5xx, 429). Default: three attempts with exponential back-off.
        public var retryPolicy: RetryPolicy

        /// The largest token-endpoint body that is parsed. Default 1 MiB.
        public var maxResponseBytes: Int

        /// A 401 normally tells by its `Authorization` header whether the rejected token is still
        /// the current one (refresh) or was already replaced (just retry). When the rejected
        /// request carries no header to compare (a custom transport removed it), a 401 within this
        /// interval after a refresh is retried without refreshing again, so a burst of rejections
        /// cannot rotate the refresh token once per request. Default 5 s on the provider's clock.
        public var forcedRefreshInterval: Duration

        /// After a refresh is refused with 403 (a licence restriction: not a token problem, and not
        /// transient), how long requests fail at once with that error instead of calling `/token`
        /// again. Default 60 s on the provider's clock. Any successful grant clears it.
        public var forbiddenRefreshCooldown: Duration

        /// Hosts besides the region's API host that may receive the access token (for example a
        /// file host of the same service). Requests to any other host are refused with
        /// ``AuthError/Code/untrustedHost`` before anything is sent. Default: none.
        public var additionalHosts: [String]

        /// Creates a configuration; every parameter has the documented default.
        public init(
            refreshLeeway: Duration? = nil,
            softRefreshWindow: Duration? = nil,
            retryPolicy: RetryPolicy = .exponential(maxAttempts: 3),
            maxResponseBytes: Int = 1 << 20,
            forcedRefreshInterval: Duration = .seconds(5),
            forbiddenRefreshCooldown: Duration = .seconds(60),
            additionalHosts: [String] = []
        ) {
            self.refreshLeeway = refreshLeeway
            self.softRefreshWindow = softRefreshWindow
            self.retryPolicy = retryPolicy
            self.maxResponseBytes = maxResponseBytes
            self.forcedRefreshInterval = forcedRefreshInterval
            self.forbiddenRefreshCooldown = forbiddenRefreshCooldown
            self.additionalHosts = additionalHosts
        }
    }
}

import AuthCore
import Foundation
import EconomicAuthTesting
import ProfixOAuthTesting
import ProfitAuthTesting
import ProfixOAuth
import Testing

@Suite struct StoreDefaultsTests {
    /// A process waiting for another's coordinated refresh must not give up while that refresh
    /// can still succeed: the default lock timeout outlasts the longest refresh the defaults allow
    /// (every attempt running into the transport's timeout, plus the longest back-off between).
    @Test func theDefaultLockTimeoutOutlastsTheLongestCoordinatedRefresh() {
        let policy = ProfixProvider.Configuration().retryPolicy
        let transportTimeout = URLSessionTransport.Configuration().timeout
        var longest = transportTimeout * policy.maxAttempts
        for attempt in 1..<policy.maxAttempts {
            longest += policy.delay(afterAttempt: attempt, randomValue: 1)
        }
        #expect(longest > .seconds(90))   // the figure the store's documentation gives
        #expect(FileTokenStore.Configuration().lockTimeout > longest)
    }
}

#if Hummingbird
import AuthCore
import AuthHummingbird
import AuthTesting
import EconomicAuth
import EconomicAuthTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProfixOAuth
import ProfixOAuthTesting
import Synchronization
import Testing

/// The callback routes in a Hummingbird app: the browser comes back, the state is checked, the
/// credential is stored and the app's handler runs; tampering gets a typed failure and no secret.
@Suite struct CallbackRouteTests {
    /// One pending sign-in per test, taken once (a code works once).
    final class Pending<Value: Sendable>: Sendable {
        let value: Mutex<Value?>
        init(_ value: Value?) { self.value = Mutex(value) }
        func take() -> Value? { value.withLock { value in defer { value = nil }; return value } }
    }

    /// A Profix-it sandbox with a code client, a provider on a fresh store, and one pending sign-in.
    static func profixSignIn() throws -> (ProfixSandbox, InMemoryTokenStore, ProfixProvider, ProfixAuthorizationRequest, Pending<PendingProfixSignIn>) {
        let sandbox = ProfixSandbox()
        let redirect = try #require(URL(string: "https://app.example.com/oauth/profix"))
        let registration = ProfixRegistration(clientID: "route-client", clientSecret: Secret("route-secret"), redirectURI: redirect)
        sandbox.registerClient(id: registration.clientID, secret: registration.clientSecret, grant: .authorizationCode, redirectURI: redirect)
        let store = InMemoryTokenStore()
        let provider = ProfixProvider(client: registration, transport: sandbox, store: store)
        let request = try ProfixAuthorizationRequest(client: registration)
        return (sandbox, store, provider, request, Pending(PendingProfixSignIn(request: request, provider: provider)))
    }

    @Test func profixCallbackRefusesATamperedStateAndSpendsNothing() async throws {
        let (sandbox, store, provider, request, pending) = try Self.profixSignIn()
        let failures = Mutex<[AuthError.Code]>([])

        let router = Router()
        router.profixCallback("/oauth/profix", pending: { _, _ in pending.take() }, onSignedIn: { _, _, _ in
            Issue.record("a tampered callback signed in")
            return .redirect(to: "/welcome")
        }, onFailure: { error, _, _ in
            failures.withLock { $0.append(error.code) }
            return Response(status: .badRequest)
        })
        let callback = try sandbox.approve(authorizationURL: request.url)
        try await Application(router: router).test(.router) { client in
            // A tampered state is refused before the code is spent.
            let items = (callback.query ?? "").split(separator: "&").filter { !$0.hasPrefix("state=") }
            let tampered = "/oauth/profix?" + (items + ["state=forged"]).joined(separator: "&")
            try await client.execute(uri: tampered, method: .get) { response in
                #expect(response.status == .badRequest)
            }
            #expect(failures.withLock { $0 } == [.stateMismatch])
            #expect(try await store.load(provider.key) == nil)
            #expect(sandbox.counters.tokenRequests == 0)
        }
    }

    @Test func profixCallbackSucceedsWithTheRightState() async throws {
        let (sandbox, store, provider, request, pending) = try Self.profixSignIn()
        let signedIn = Mutex<StoredCredential?>(nil)

        let router = Router()
        router.profixCallback("/oauth/profix", pending: { _, _ in pending.take() }, onSignedIn: { credential, _, _ in
            signedIn.withLock { $0 = credential }
            return .redirect(to: "/welcome")
        })
        let callback = try sandbox.approve(authorizationURL: request.url)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/oauth/profix?" + (callback.query ?? ""), method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/welcome")
            }
            let credential = try #require(signedIn.withLock { $0 })
            #expect(try await store.load(provider.key) == credential)
            #expect(sandbox.counters.tokenRequests == 1)
            // The browser comes back a second time: nothing is pending, a typed 400 without secrets.
            try await client.execute(uri: "/oauth/profix?" + (callback.query ?? ""), method: .get) { response in
                #expect(response.status == .badRequest)
                let text = String(buffer: response.body)
                #expect(text.contains("callback_invalid"))
                #expect(!text.contains(credential.accessToken.revealed) && !text.contains(request.state.revealed))
            }
        }
    }

    @Test func economicCallbackChecksTheRequestStoresTheGrantAndCallsTheApp() async throws {
        let sandbox = EconomicSandbox()
        let redirect = try #require(URL(string: "https://app.example.com/economic/granted"))
        let grantRequest = EconomicGrantRequest(appPublicToken: sandbox.appPublicToken, redirectURL: redirect,
                                                parameters: [.init("UserInMySystem", "7")], state: EconomicGrantRequest.randomState())
        let store = InMemoryTokenStore()
        let key = TokenKey(provider: "economic", account: "customer-7")
        let pending = Pending(PendingEconomicGrant(request: grantRequest, store: store, key: key))
        let granted = Mutex<String?>(nil)

        let router = Router()
        router.economicGrantCallback("/economic/granted", pending: { _, _ in pending.take() }, onGranted: { callback, _, _ in
            granted.withLock { $0 = callback.value(for: "UserInMySystem") }
            return Response(status: .ok)
        })
        let page = try await sandbox.reply(HTTPRequest(url: try grantRequest.url()))
        let location = try #require(page.headerFields[.location].flatMap(URL.init(string:)))
        try await Application(router: router).test(.router) { client in
            // A parameter changed on the way back is tampering: nothing is stored.
            let tampered = (location.path) + "?" + (location.query ?? "").replacingOccurrences(of: "UserInMySystem=7", with: "UserInMySystem=8")
            try await client.execute(uri: tampered, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("callback_invalid"))
            }
            #expect(try await store.load(key) == nil)
        }
        // A fresh pending grant, and the untouched callback.
        let again = Pending(PendingEconomicGrant(request: grantRequest, store: store, key: key))
        let router2 = Router()
        router2.economicGrantCallback("/economic/granted", pending: { _, _ in again.take() }, onGranted: { callback, _, _ in
            granted.withLock { $0 = callback.value(for: "UserInMySystem") }
            return Response(status: .ok)
        })
        try await Application(router: router2).test(.router) { client in
            try await client.execute(uri: location.path + "?" + (location.query ?? ""), method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(granted.withLock { $0 } == "7")
        let stored = try #require(try await store.load(key))
        #expect(stored.attributes["grant"] == "agreement")
        // The stored grant opens the agreement.
        let provider = try EconomicProvider(credentials: EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: stored.accessToken),
                                            transport: sandbox)
        #expect(try await provider.validate().agreementNumber == EconomicSandbox.defaultAgreementNumber)
    }
}
#endif

public import AuthCore
public import Foundation

/// Credentials for AFAS Profit: an app-connector token, obtained through the e-mailed one-time
/// password (OTP) flow or added by hand, sent on every REST and SOAP call.
///
/// A token is bound to one environment, app connector, user and device. It does not expire by
/// itself, but an administrator may give the app connector a validity period or delete the
/// token; Profit then answers 401, which this provider reports as ``AuthError/Code/revoked``
/// (there is nothing to refresh, so the request is never retried).
///
/// ### Use
/// ```swift
/// let provider = ProfitProvider(
///     environment: try ProfitEnvironment(number: "12345"),
///     keys: .init(apiKey: Secret(apiKey), environmentKey: Secret(environmentKey)),
///     account: "DavidB",
///     store: try FileTokenStore(directory: folder)
/// )
/// try await provider.requestOTP(userId: "DavidB")          // Profit e-mails an activation code
/// try await provider.redeemOTP(Secret(code), userId: "DavidB")
/// let client = AuthorizingTransport(base: URLSessionTransport(), provider: provider, providerName: "profit")
/// let response = try await client.send(HTTPRequest(url: try provider.environment.restURL("ProfitVersion")))
/// ```
///
/// ### How the token travels
/// REST and SOAP requests get `Authorization: AfasToken <Base64 of the token XML>`. For SOAP
/// requests (those with a `SOAPAction` header) ``Configuration/soapToken`` may instead select the
/// legacy `<token>` element, inserted as the first child of the operation element.
///
/// ### Test with ProfitSandbox
/// `ProfitSandbox` in `AuthTesting` answers like Profit: it keeps an outbox of e-mailed codes,
/// accepts each code once, and checks the header or `<token>` element exactly.
public actor ProfitProvider: CredentialProvider {
    /// The provider name used in errors, events and ``TokenKey``s: `"profit"`.
    public static let providerName = "profit"

    /// Options with defaults.
    public struct Configuration: Sendable {
        /// The `IntegrationId` header (`<subscription>_<project>`), mandatory for certified partner
        /// integrations. Default `nil` (not sent).
        public var integrationId: String?
        /// The `Accept-Language` header (`nl-nl`, `en-us`, `de-de`, `fr-fr`, `nl-be`) for Profit's
        /// messages. Default `nil` (not sent).
        public var acceptLanguage: String?
        /// How the token goes on SOAP requests. Default ``SOAPTokenPlacement/header``.
        public var soapToken: SOAPTokenPlacement = .header
        /// The device description sent with `GenerateOTP` (shown in the app connector's token
        /// list). Default `"swift-accounting-auth"`.
        public var deviceDescription: String = "swift-accounting-auth"
        /// The largest response body the provider parses. Default 1 MiB.
        public var maxResponseBytes: Int = 1 << 20
        /// Retries for the provider's own calls (OTP, metainfo, DeleteToken) on 503, 429 and
        /// connection failures; a 500 (a functional error) is never retried. Redeeming a code
        /// (`OtpValidation`, `GetTokenFromOTP`) is not retried after a timeout or a 502/504 either,
        /// since Profit may have consumed the code. A 503's
        /// `retry_after` (body) sets the wait; one beyond the policy's `maximumRetryAfter` ends
        /// the call with ``AuthError/Code/serviceUnavailable`` and ``AuthError/retryAfter``.
        /// Default 3 attempts.
        public var retryPolicy: RetryPolicy = .exponential(maxAttempts: 3)

        /// Creates the default configuration.
        public init() {}
    }

    /// Where the token goes on a SOAP request.
    public struct SOAPTokenPlacement: Sendable, Hashable {
        let rawValue: String
        /// The `Authorization: AfasToken …` header, with no token in the body (AFAS's current advice).
        public static let header = SOAPTokenPlacement(rawValue: "header")
        /// The legacy `<token>` element holding the XML-escaped token, as the first child of the
        /// operation element; still accepted by Profit but being phased out.
        public static let element = SOAPTokenPlacement(rawValue: "element")
    }

    /// The app connector's keys, needed only for the OTP flow.
    ///
    /// Leading and trailing whitespace and line ends (a key pasted from a file or a terminal) are
    /// trimmed. Each key must then be 32 hexadecimal digits (either case); the OTP calls refuse
    /// anything else with ``AuthError/Code/invalidCredentialFormat`` before sending, because
    /// Profit answers `OtpRequest` with a 2xx even for wrong keys.
    public struct AppConnectorKeys: Sendable {
        /// The app connector's API key (32 hex digits).
        public var apiKey: Secret
        /// The app connector's environment key (32 hex digits), sent as `apiToken` over REST.
        public var environmentKey: Secret

        /// Creates the keys, trimming whitespace and line ends around each.
        public init(apiKey: Secret, environmentKey: Secret) {
            self.apiKey = Self.trimmed(apiKey)
            self.environmentKey = Self.trimmed(environmentKey)
        }

        static func trimmed(_ key: Secret) -> Secret {
            Secret(key.revealed.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        /// Whether `key` is 32 ASCII hexadecimal digits.
        static func isWellFormed(_ key: Secret) -> Bool {
            let bytes = key.revealed.utf8
            return bytes.count == 32 && bytes.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            }
        }
    }

    /// Which Profit web service the OTP flow uses.
    public struct Channel: Sendable, Hashable, CustomStringConvertible {
        /// The name: `"rest"` or `"soap"`.
        public let name: String
        /// `OtpRequest` and `OtpValidation` on the REST services (AFAS Online and local).
        public static let rest = Channel(name: "rest")
        /// `GenerateOTP` and `GetTokenFromOTP` on `tokenconnector.asmx` (local installations).
        public static let soap = Channel(name: "soap")
        public var description: String { name }
    }

    /// The environment this provider talks to.
    public nonisolated let environment: ProfitEnvironment
    /// Where the token is stored: provider `"profit"` and the account given at creation.
    public nonisolated let key: TokenKey
    nonisolated let configuration: Configuration
    let keys: AppConnectorKeys?
    let store: any TokenStore
    let transport: any HTTPTransport
    let now: @Sendable () -> Date
    let observer: AuthEventObserver?

    /// The token for the lock-free fast path of ``authorize(_:)``.
    private nonisolated let cache = Locked<ProfitToken?>(nil)
    private var token: ProfitToken?
    private var credential: StoredCredential?
    private var hasLoaded = false
    private var loadTask: Task<StoredCredential?, any Error>?
    /// Incremented by every operation that changes the token (add, redeem, delete) when it takes
    /// its ticket; an operation adopts its result only while the generation is still its ticket.
    private var generation = 0
    /// The newest store write; each write waits for the one before, so writes reach the store
    /// in ticket order and the last ticket's write is the last one stored.
    private var lastWrite: Task<WriteOutcome, Never>?
    private var pendingWrites = 0

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - environment: The Profit environment.
    ///   - keys: The app connector's API key and environment key; needed for the OTP flow only.
    ///   - account: The store account for this token (for example the Profit user id).
    ///   - store: Where the token is kept. Default: in memory.
    ///   - transport: How requests are sent. Default: ``URLSessionTransport``.
    ///   - configuration: Options.
    ///   - now: The clock.
    ///   - observer: Receives ``AuthEvent``s (they never hold the token).
    public init(
        environment: ProfitEnvironment,
        keys: AppConnectorKeys? = nil,
        account: String,
        store: any TokenStore = InMemoryTokenStore(),
        transport: any HTTPTransport = URLSessionTransport(),
        configuration: Configuration = .init(),
        now: @escaping @Sendable () -> Date = { Date() },
        observer: AuthEventObserver? = nil
    ) {
        self.environment = environment
        self.keys = keys
        self.key = TokenKey(provider: Self.providerName, account: account)
        self.store = store
        self.transport = transport
        self.configuration = configuration
        self.now = now
        self.observer = observer
    }

    // MARK: - CredentialProvider

    /// Adds the token to `request`: the `AfasToken` header, or the `<token>` element on SOAP
    /// requests when ``Configuration/soapToken`` is ``SOAPTokenPlacement/element``; plus the
    /// configured `IntegrationId` and `Accept-Language` headers.
    ///
    /// A loaded token is read without hopping onto the actor; the first call loads it from the store.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/insecureURL`` for a URL that is neither `https`
    ///   nor loopback `http` (checked first, before the token is read),
    ///   ``AuthError/Code/notAuthenticated`` when there is no token,
    ///   ``AuthError/Code/storeFailure`` or ``AuthError/Code/storeCorrupt`` when the store fails,
    ///   ``AuthError/Code/invalidRequest`` when the `<token>` element cannot be placed.
    public nonisolated func authorize(_ request: HTTPRequest) async throws -> HTTPRequest {
        try SecureURLPolicy.check(request.url, provider: Self.providerName)
        let token: ProfitToken
        if let cached = cache.withLock({ $0 }) {
            token = cached
        } else {
            token = try await currentToken()
        }
        return try Self.authorized(request, token: token, configuration: configuration)
    }

    /// Turns a rejection into a typed error; there is never a second attempt.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/revoked`` for 401 (invalid, deleted or expired
    ///   token) and ``AuthError/Code/forbidden`` for 403 (IP restriction), with Profit's
    ///   `externalMessage`, `errorNumber` and `profitLogReference` when the body has them.
    public func recover(from response: HTTPResponse, to request: HTTPRequest) async throws -> Bool {
        if response.status == 401 { observer?.receive(.credentialRevoked(provider: Self.providerName)) }
        throw ProfitResponse.error(for: response)
    }

    /// The typed error a Profit response stands for, or `nil` for a 2xx.
    ///
    /// 401 → ``AuthError/Code/revoked``, 403 → ``AuthError/Code/forbidden``, 400 →
    /// ``AuthError/Code/invalidRequest``, 429 → ``AuthError/Code/rateLimited``, 500 →
    /// ``AuthError/Code/profitFunctionalError``, 501–599 (503 above all) →
    /// ``AuthError/Code/serviceUnavailable``, anything else (404 included) →
    /// ``AuthError/Code/unexpectedStatus``. ``AuthError/retryAfter`` comes from the body's
    /// `retry_after`, else from the `Retry-After` header. The body's `externalMessage`,
    /// `errorNumber` and `profitLogReference` become ``AuthError/serverMessage``,
    /// ``AuthError/serverCode`` and ``AuthError/logReference``.
    public nonisolated static func error(for response: HTTPResponse) -> AuthError? {
        response.isSuccess ? nil : ProfitResponse.error(for: response)
    }

    /// Whether a token is available (in memory or in the store).
    ///
    /// - Throws: ``AuthError`` when the store fails or holds something that is not a token.
    public func hasToken() async throws -> Bool {
        do {
            _ = try await currentToken()
            return true
        } catch let error as AuthError where error.code == .notAuthenticated {
            return false
        }
    }

    // MARK: - Token management

    /// Uses `token` from now on and saves it to the store, replacing any token before it.
    ///
    /// This is the path for a token an administrator added to the app connector by hand.
    ///
    /// When several ``addToken(_:userId:)``, ``redeemOTP(_:userId:over:)`` and
    /// ``deleteToken(revokingOnServer:)`` calls overlap, the one that started last decides the
    /// token in memory and in the store; an earlier one returns without making its token current.
    ///
    /// - Parameters:
    ///   - token: The token.
    ///   - userId: The Profit user the token belongs to, kept as a non-secret attribute.
    /// - Throws: ``AuthError`` with ``AuthError/Code/storeFailure`` when saving fails (the token is
    ///   still used in memory).
    public func addToken(_ token: ProfitToken, userId: String? = nil) async throws {
        try await install(token, userId: userId, obtainedVia: "manual")
    }

    /// Deletes the token: revokes it in Profit with the SOAP `DeleteToken` operation (unless
    /// `revokingOnServer` is `false`), then removes it from memory and the store.
    ///
    /// Token changes already under way finish first, so the token revoked is the one they leave.
    /// When another token is added or redeemed while the deletion runs, that newer token is kept
    /// in memory and in the store and the deletion returns `false`: the revoked token (if any) is
    /// gone in Profit, but the local token was not removed.
    ///
    /// - Returns: `true` when the local token was removed; `false` when a token change that
    ///   started during the deletion was kept instead.
    /// - Throws: ``AuthError`` with ``AuthError/Code/notAuthenticated`` when there is no token to
    ///   revoke; the errors of the SOAP call (the local token is kept when it fails);
    ///   ``AuthError/Code/storeFailure`` when the store cannot remove it.
    @discardableResult
    public func deleteToken(revokingOnServer: Bool = true) async throws -> Bool {
        if revokingOnServer {
            await settleWrites()
            let seen = generation
            let token = try await currentToken()
            let url = try environment.soapURL(ProfitSOAP.tokenService)
            let request = ProfitSOAP.request(url: url, operation: "DeleteToken", parameters: [("token", token.xml.revealed)])
            let response = try await send(request)
            _ = try ProfitSOAP.result(of: response, operation: "DeleteToken", faultCode: .invalidCredentials,
                                      maxBytes: configuration.maxResponseBytes)
            // Re-check after the awaits: a token changed meanwhile is not the one that was revoked.
            guard generation == seen, self.token == token else { return false }
        }
        let outcome = await commit(nil, credential: nil)
        guard outcome.adopted else { return false }
        if let failure = outcome.failure {
            throw Self.storeError(failure, "the token was removed from memory but the store could not remove it")
        }
        observer?.receive(.credentialRemoved(provider: Self.providerName))
        return true
    }

    /// What Profit says about the token, from `GET …/metainfo`: its expiry when the app connector
    /// has a validity period.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/notAuthenticated`` without a token,
    ///   ``AuthError/Code/revoked`` when Profit rejects it, ``AuthError/Code/malformedResponse`` for
    ///   an answer that is not JSON, and the codes of ``error(for:)``.
    public func tokenInfo() async throws -> ProfitTokenInfo {
        let token = try await currentToken()
        let request = try Self.authorized(
            HTTPRequest(url: try environment.restURL("metainfo"), headers: [.accept: "application/json"]),
            token: token, configuration: configuration)
        let response = try await send(request)
        if let error = Self.error(for: response) {
            if response.status == 401 { observer?.receive(.credentialRevoked(provider: Self.providerName)) }
            throw error
        }
        try ProfitResponse.checkSize(response, limit: configuration.maxResponseBytes)
        let expiry = try ProfitResponse.tokenExpiry(inMetainfo: response.body)
        return ProfitTokenInfo(expiresAt: expiry, issuedAt: credential?.issuedAt, userId: credential?.attributes["userId"])
    }

    // MARK: - Internals

    /// The token in memory, or loaded once from the store (single-flight).
    func currentToken() async throws -> ProfitToken {
        if let token { return token }
        if !hasLoaded { try await loadFromStore() }
        guard let token else {
            throw AuthError(.notAuthenticated, provider: Self.providerName,
                            message: "no AFAS token yet: run the OTP flow or add a token")
        }
        return token
    }

    private func loadFromStore() async throws {
        let task: Task<StoredCredential?, any Error>
        if let loadTask {
            task = loadTask
        } else {
            let store = self.store
            let key = self.key
            task = Task { try await store.load(key) }
            loadTask = task
        }
        let result: Result<StoredCredential?, any Error>
        do { result = .success(try await task.value) } catch { result = .failure(error) }
        if loadTask == task { loadTask = nil }
        // Re-check after the await: a token added or deleted meanwhile wins over the stored one.
        guard !hasLoaded else { return }
        let stored: StoredCredential?
        switch result {
        case .success(let value): stored = value
        case .failure(let error): throw Self.storeError(error, "the token store could not be read")
        }
        if let stored {
            guard let token = try? ProfitToken(stored.accessToken.revealed) else {
                throw AuthError(.storeCorrupt, provider: Self.providerName,
                                message: "the stored credential is not an AFAS token; it was left in place")
            }
            setToken(token, credential: stored)
        }
        hasLoaded = true
    }

    /// Saves `token` and makes it current; a failed save leaves the token in use and is reported.
    /// When a later token change started meanwhile, that one decides and this returns quietly.
    func install(_ token: ProfitToken, userId: String?, obtainedVia: String) async throws {
        var attributes = ["obtainedVia": obtainedVia]
        if let userId { attributes["userId"] = userId }
        let credential = StoredCredential(accessToken: token.xml, issuedAt: now(), attributes: attributes)
        observer?.receive(.credentialAcquired(provider: Self.providerName, grant: obtainedVia, expiresAt: nil))
        let outcome = await commit(token, credential: credential)
        guard outcome.adopted, let failure = outcome.failure else { return }
        let error = Self.storeError(failure, "the token is in use but the store could not save it")
        observer?.receive(.storeFailed(provider: Self.providerName, code: error.code))
        throw error
    }

    /// What became of one store write.
    struct WriteOutcome: Sendable {
        /// Whether the value became current in memory (no later change took a ticket meanwhile).
        var adopted: Bool
        /// The store's error, when the write failed.
        var failure: (any Error)?
    }

    /// Takes a ticket, writes `credential` (or removes the stored one for `nil`) after every
    /// write queued before it, then makes `token` current if the ticket is still the newest.
    ///
    /// The value is adopted after the write even when the write fails (the failure is returned),
    /// so memory and store differ only when the store reported an error.
    private func commit(_ token: ProfitToken?, credential: StoredCredential?) async -> WriteOutcome {
        generation += 1
        let ticket = generation
        let previous = lastWrite
        let store = self.store
        let key = self.key
        pendingWrites += 1
        // The task runs on this actor (it inherits the isolation); only the store calls leave it.
        let write = Task { () -> WriteOutcome in
            _ = await previous?.value
            var failure: (any Error)?
            do {
                if let credential {
                    try await store.save(credential, for: key)
                } else {
                    try await store.remove(key)
                }
            } catch {
                failure = error
            }
            self.pendingWrites -= 1
            guard self.generation == ticket else { return WriteOutcome(adopted: false, failure: failure) }
            self.setToken(token, credential: credential)
            self.hasLoaded = true
            return WriteOutcome(adopted: true, failure: failure)
        }
        lastWrite = write
        return await write.value
    }

    /// Waits until no token change is being written.
    private func settleWrites() async {
        while pendingWrites > 0, let lastWrite {
            _ = await lastWrite.value
        }
    }

    private func setToken(_ token: ProfitToken?, credential: StoredCredential?) {
        self.token = token
        self.credential = credential
        cache.withLock { $0 = token }
    }

    /// Sends one of the provider's own requests with the retry policy; a 500 is final.
    ///
    /// A 503 whose body holds `retry_after` is retried after that many seconds (through the
    /// policy's `sleep`); when that is longer than the policy's `maximumRetryAfter`, the call
    /// stops at once with ``AuthError/Code/serviceUnavailable`` carrying the wait.
    ///
    /// A `oneTime` request (redeeming an activation code) may have been processed even when no
    /// answer came back; a retry would then be refused ("code not accepted") and hide what
    /// happened. It is retried only when it certainly did not reach Profit
    /// (``AuthError/Code/connectionFailed``, ``AuthError/Code/dnsFailure``) or Profit asked for
    /// it (429, 503); a timeout or another failure is thrown as it is, and a 502, 504 or other
    /// 5xx is returned as it is (``RetryPolicy/forOneTimeRequests``).
    func send(_ request: HTTPRequest, oneTime: Bool = false) async throws -> HTTPResponse {
        try SecureURLPolicy.check(request.url, provider: Self.providerName)
        struct Final: Error { let response: HTTPResponse }
        struct Stop: Error { let error: AuthError }
        let transport = self.transport
        var policy = oneTime ? configuration.retryPolicy.forOneTimeRequests : configuration.retryPolicy
        policy.providerName = Self.providerName
        if policy.observer == nil { policy.observer = observer }
        let maximumWait = policy.maximumRetryAfter
        do {
            return try await policy.run {
                var response = try await transport.send(request)
                if response.status == 500 { throw Final(response: response) }
                if response.status == 503, let seconds = ProfitResponse.retryAfterInBody(of: response) {
                    if .seconds(seconds) > maximumWait { throw Stop(error: ProfitResponse.error(for: response)) }
                    // The policy reads the wait from `Retry-After`: let the body's value decide it.
                    response.headers[.retryAfter] = String(seconds)
                }
                return response
            }
        } catch let final as Final {
            return final.response
        } catch let stop as Stop {
            throw stop.error.attributed(to: Self.providerName)
        } catch let error as AuthError {
            throw error.attributed(to: Self.providerName)
        } catch {
            throw AuthError(.transportFailure, provider: Self.providerName, message: "the request failed", underlying: error)
        }
    }

    /// `request` with the token and the configured extra headers.
    static func authorized(_ request: HTTPRequest, token: ProfitToken, configuration: Configuration) throws(AuthError) -> HTTPRequest {
        var request = request
        if request.headers.contains(.soapAction), configuration.soapToken == .element {
            request.body = try ProfitSOAP.insertingTokenElement(token.xml.revealed, into: request.body ?? Data())
        } else {
            request.headers[.authorization] = token.authorizationValue.revealed
        }
        if let integrationId = configuration.integrationId, !request.headers.contains("IntegrationId") {
            request.headers["IntegrationId"] = integrationId
        }
        if let language = configuration.acceptLanguage, !request.headers.contains(.acceptLanguage) {
            request.headers[.acceptLanguage] = language
        }
        guard request.headers.isWellFormed else {
            throw AuthError(.invalidRequest, provider: providerName, message: "a header name or value is malformed")
        }
        return request
    }

    static func storeError(_ error: any Error, _ message: String) -> AuthError {
        if let error = error as? AuthError, error.code == .storeFailure || error.code == .storeCorrupt {
            return error.attributed(to: providerName)
        }
        return AuthError(.storeFailure, provider: providerName, message: message, underlying: error)
    }
}

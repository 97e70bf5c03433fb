public import AuthCore
public import HTTPTypes
internal import AuthRuntime
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
///     store: try FileTokenStore(directory: folder),
///     key: TokenKey(provider: "profit", account: "DavidB")
/// )
/// try await provider.requestOTP(userId: "DavidB")          // Profit e-mails an activation code
/// try await provider.redeemOTP(Secret(code), userId: "DavidB")
/// let client = AuthorizingTransport(base: URLSessionTransport(), provider: provider)
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
    public static var providerName: String { "profit" }

    /// `"profit"`.
    public nonisolated var name: String { Self.providerName }
    /// The environment this provider talks to.
    public nonisolated var environment: ProfitEnvironment { shared.environment }
    /// Where the token is stored.
    public nonisolated var key: TokenKey { cell.key }
    /// The options.
    public nonisolated var configuration: Configuration { shared.configuration }
    /// The hosts the token may go to: the environment's REST and SOAP hosts and
    /// ``Configuration/additionalHosts``.
    public nonisolated var audience: CredentialAudience { shared.audience }
    nonisolated var keys: AppConnectorKeys? { shared.keys }
    nonisolated var transport: any HTTPTransport { shared.transport }
    /// Made for each exchange rather than kept: an idle provider stays small (the OTP flow and
    /// token management are not on the request path).
    nonisolated var endpoint: EndpointClient {
        EndpointClient(provider: Self.providerName, transport: transport, retryPolicy: configuration.retryPolicy,
                       maxResponseBytes: configuration.maxResponseBytes, observer: cell.parts.observer)
    }
    /// What this provider has in common with the other providers of its ``ProfitApp``, read
    /// through its cell (the provider's one field).
    nonisolated var shared: ProfitApp.Shared { cell.parts.context }
    nonisolated let cell: CredentialCell<ProfitToken, ProfitApp.Shared>
    /// What the cells of one app share.
    typealias Parts = CredentialParts<ProfitToken, ProfitApp.Shared>
    /// The cell's executor: the provider and its cell run on one shared executor (a call into the
    /// cell does not hop, and the provider carries no executor state of its own).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { cell.unownedExecutor }

    /// Creates a provider.
    ///
    /// Nothing is loaded or sent until the provider is first used.
    ///
    /// - Parameters:
    ///   - environment: The Profit environment.
    ///   - keys: The app connector's API key and environment key; needed for the OTP flow only.
    ///   - transport: How requests are sent. Default: ``URLSessionTransport``.
    ///   - store: Where the token is kept. Default: in memory.
    ///   - key: The token's name in the store. Default `profit/default`; name the Profit user,
    ///     for example `TokenKey(provider: "profit", account: "DavidB")`.
    ///   - configuration: Options.
    ///   - observer: Receives ``AuthEvent``s (they never hold the token).
    ///   - now: The clock.
    ///   - onCredentialChange: Called with every token saved (OTP, added by hand) before it is
    ///     used, and with `nil` after ``deleteToken(revokingOnServer:)``.
    ///
    /// An app with many Profit users makes their providers from one ``ProfitApp`` instead: they
    /// then share the environment, keys, options, transport, store and clock.
    public init(
        environment: ProfitEnvironment,
        keys: AppConnectorKeys? = nil,
        transport: any HTTPTransport = URLSessionTransport(),
        store: any TokenStore = InMemoryTokenStore(),
        key: TokenKey = TokenKey(provider: ProfitProvider.providerName, account: "default"),
        configuration: Configuration = .init(),
        observer: AuthEventObserver? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        onCredentialChange: (@Sendable (StoredCredential?) async -> Void)? = nil
    ) {
        let parts = ProfitApp.Shared.parts(environment: environment, keys: keys, transport: transport, store: store,
                                           configuration: configuration, observer: observer, now: now,
                                           onChange: keyAwareChangeHook(onCredentialChange))
        self.init(key: key, parts: parts)
    }

    /// A provider of `key` that shares everything else with the other providers of an app.
    init(key: TokenKey, parts: Parts) {
        self.cell = CredentialCell(key: key, parts: parts)
    }

    /// The stored token, parsed once per credential; one value for every cell.
    static let preparer = CredentialPreparer<ProfitToken> { credential throws(AuthError) in
        guard let token = try? ProfitToken(credential.accessToken.revealed) else {
            throw AuthError(.storeCorrupt, provider: providerName,
                            message: "the stored credential is not an AFAS token; it was left in place")
        }
        return token
    }

    // MARK: - CredentialProvider

    /// Adds the token to `request`: the `AfasToken` header, or the `<token>` element on SOAP
    /// requests when ``Configuration/soapToken`` is ``SOAPTokenPlacement/element``; plus the
    /// configured `IntegrationId` and `Accept-Language` headers.
    ///
    /// A loaded token is read without hopping onto an actor; the first call loads it from the store.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/insecureURL`` for a URL that is neither `https`
    ///   nor loopback `http` (checked first, before the token is read),
    ///   ``AuthError/Code/untrustedHost`` for a host outside ``audience``,
    ///   ``AuthError/Code/notAuthenticated`` when there is no token,
    ///   ``AuthError/Code/storeFailure`` or ``AuthError/Code/storeCorrupt`` when the store fails,
    ///   ``AuthError/Code/invalidRequest`` when the `<token>` element cannot be placed.
    public nonisolated func authorize(_ request: inout HTTPRequest, body: inout Data?) async throws {
        if try authorizeIfReady(&request) { return }
        // A SOAP request with the `<token>` element: the XML is read back from the cached header
        // (the Base64 of the token's canonical XML), without the actor and without parsing the
        // stored token again.
        if let field = cell.cachedHeader(), let token = ProfitToken(preparedField: field) {
            return try Self.authorize(&request, body: &body, token: token, configuration: configuration)
        }
        try Self.authorize(&request, body: &body, token: try await currentToken(), configuration: configuration)
    }

    /// The provider itself: ``authorizeIfReady(_:)`` refuses a URL that may not carry
    /// credentials, and a host outside ``audience``, before it adds anything, and never moves a
    /// request; the clients do not check again.
    public static var requestTargetCheck: RequestTargetCheck { .byProvider }

    /// Adds the `AfasToken` header (and the configured fields) when the token is loaded; `false`
    /// when it must be loaded first, or when the token goes into a SOAP body
    /// (``authorize(_:body:)`` does both).
    ///
    /// - Throws: ``AuthError/Code/insecureURL`` or ``AuthError/Code/untrustedHost`` as
    ///   ``authorize(_:body:)`` does.
    public nonisolated func authorizeIfReady(_ request: inout HTTPRequest) throws -> Bool {
        // The app's shared part, borrowed rather than retained (see `unretainedContext`); read in a
        // closure that does not change the request, which a closure that did would copy.
        let shared = cell.unretainedContext
        let (soapTokenInBody, addsFields) = try shared._withUnsafeGuaranteedRef { shared in
            try shared.checkRequest(request)
            return (shared.soapTokenInBody, shared.addsFields)
        }
        if soapTokenInBody, !request.headerFields.isEmpty, request.headerFields[.soapAction] != nil { return false }
        guard let field = cell.cachedHeader() else { return false }
        request.headerFields.setCredential(field)
        if addsFields {
            let configuration = shared._withUnsafeGuaranteedRef { $0.configuration }
            try Self.addConfiguredFields(to: &request.headerFields, configuration: configuration)
        }
        return true
    }

    /// Adds the token to a request whose body is not at hand: the `AfasToken` header.
    ///
    /// - Throws: as ``authorize(_:body:)``, and ``AuthError/Code/invalidRequest`` for a SOAP
    ///   request when ``Configuration/soapToken`` is ``SOAPTokenPlacement/element`` (the element
    ///   goes into the body: use ``authorize(_:body:)``).
    public nonisolated func authorize(_ request: inout HTTPRequest) async throws {
        var body: Data?
        try await authorize(&request, body: &body)
    }

    /// Turns a rejection into a typed error; there is never a second attempt.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/revoked`` for 401 (invalid, deleted or expired
    ///   token) and ``AuthError/Code/forbidden`` for 403 (IP restriction), with Profit's
    ///   `externalMessage`, `errorNumber` and `profitLogReference` when the body has them.
    public nonisolated func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        if response.status == .unauthorized { cell.parts.observer?.receive(.credentialRevoked(provider: Self.providerName)) }
        throw await SecretScrubbing.withSecrets(cell.prepared.map { [$0.xml] } ?? []) { ProfitResponse.error(for: Reply(response, body: body)) }
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
    public nonisolated static func error(for response: HTTPResponse, body: Data) -> AuthError? {
        response.isSuccess ? nil : ProfitResponse.error(for: Reply(response, body: body))
    }

    /// The typed error a Profit response stands for (see ``error(for:body:)``).
    public nonisolated func error(for response: HTTPResponse, body: Data) -> AuthError? {
        Self.error(for: response, body: body)
    }

    /// Whether a token is available (in memory or in the store).
    ///
    /// - Throws: ``AuthError`` when the store fails or holds something that is not a token.
    public nonisolated func hasToken() async throws -> Bool {
        do {
            _ = try await currentToken()
            return true
        } catch let error as AuthError where error.code == .notAuthenticated {
            return false
        }
    }

    // MARK: - Internals

    /// The token in memory, or loaded once from the store (single-flight).
    nonisolated func currentToken() async throws -> ProfitToken {
        try await cell.current()
    }

    /// Throws ``AuthError/Code/storeFailure`` when the store could not save the token now.
    nonisolated func checkStoreWritable() async throws {
        do {
            try await cell.parts.store.checkWritable(key)
        } catch {
            throw Self.storeError(error, "the token store cannot save a token; the activation code was not used")
        }
    }

    /// Saves `token` and makes it current; a failed save leaves the token in use and is thrown.
    /// When a later token change started meanwhile, that one decides and this returns quietly.
    nonisolated func install(_ token: ProfitToken, userId: String?, obtainedVia: String) async throws {
        var attributes = ["obtainedVia": obtainedVia]
        if let userId { attributes["userId"] = userId }
        let credential = StoredCredential(accessToken: token.xml, issuedAt: cell.parts.now(), attributes: attributes)
        cell.parts.observer?.receive(.credentialAcquired(provider: Self.providerName, grant: obtainedVia, expiresAt: nil))
        let outcome = await cell.install(credential, event: nil)
        guard outcome.adopted, let failure = outcome.failure else { return }
        throw Self.storeError(failure, "the token is in use but the store could not save it")
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
    nonisolated func send(_ request: OutgoingRequest, oneTime: Bool = false) async throws -> Reply {
        let maximumWait = endpoint.retryPolicy.maximumRetryAfter
        return try await endpoint.send(request, retrying: oneTime ? .oneTime : .transient) { response throws(AuthError) in
            if response.status == 500 { return .final(response) }
            guard response.status == 503, let seconds = ProfitResponse.retryAfterInBody(of: response) else { return .policy(response) }
            if .seconds(seconds) > maximumWait { throw ProfitResponse.error(for: response) }
            // The policy reads the wait from `Retry-After`: let the body's value decide it.
            var response = response
            response.headerFields[.retryAfter] = String(seconds)
            return .policy(response)
        }
    }

    /// Adds the token (header or SOAP `<token>` element) and the configured extra headers.
    static func authorize(_ request: inout HTTPRequest, body: inout Data?, token: ProfitToken, configuration: Configuration) throws(AuthError) {
        if request.headerFields[.soapAction] != nil, configuration.soapToken == .element {
            guard let envelope = body else {
                throw AuthError(.invalidRequest, provider: providerName,
                                message: "the <token> element goes into the SOAP body: authorize the request together with its body")
            }
            body = try ProfitSOAP.insertingTokenElement(token.xml.revealed, into: envelope)
        } else {
            request.headerFields.setCredential(token.authorizationField)
        }
        try addConfiguredFields(to: &request.headerFields, configuration: configuration)
    }

    /// The configured `IntegrationId` and `Accept-Language`, unless the request has its own.
    static func addConfiguredFields(to fields: inout HTTPFields, configuration: Configuration) throws(AuthError) {
        // Most apps configure neither: nothing to build or look up on the request path.
        guard configuration.addsFields else { return }
        for (name, value) in [(HTTPField.Name.profitIntegrationId, configuration.integrationId), (.acceptLanguage, configuration.acceptLanguage)] {
            guard let value, fields[name] == nil else { continue }
            // A field value is legalised (a line break becomes a space); a configuration that
            // needs that is wrong, and is refused rather than sent altered.
            guard HTTPField.isValidValue(value) else {
                throw AuthError(.invalidConfiguration, provider: providerName, message: "the configured \(name) holds characters a header cannot carry")
            }
            fields[name] = value
        }
    }

    static func storeError(_ error: any Error, _ message: String) -> AuthError {
        if let error = error as? AuthError, error.code == .storeFailure || error.code == .storeCorrupt {
            return error.attributed(to: providerName)
        }
        return AuthError(.storeFailure, provider: providerName, message: message, underlying: error)
    }
}

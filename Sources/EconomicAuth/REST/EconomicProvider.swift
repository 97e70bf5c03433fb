public import AuthCore
public import HTTPTypes
internal import AuthRuntime
public import Foundation
import Synchronization

/// Adds e-conomic's token headers to REST requests for one agreement.
///
/// Every request gets `X-AppSecretToken`, `X-AgreementGrantToken` and, unless the caller set one,
/// `Content-Type: application/json`. The tokens never expire, so there is nothing to refresh:
/// the header values are kept in a lock-protected snapshot that ``authorize(_:)`` reads without
/// hopping onto the actor; the actor only serialises state changes (a new grant, a rejection).
///
/// A 401 means a token was not accepted, and e-conomic sends no code saying which: the provider
/// reads the answer leniently. When it names only the grant, the error is
/// ``AuthError/Code/revoked`` (the customer must grant access again); when it names only the app
/// secret, or cannot tell, it is ``AuthError/Code/invalidCredentials`` and its message names the
/// possible causes, so an app does not ask a customer to grant access again for its own
/// configuration mistake. Either way the provider remembers the rejection (``isRejected``). A 403
/// means the grant's role does not cover the resource: ``AuthError/Code/forbidden``. None is retried.
///
/// ### Use
/// ```swift
/// let provider = try EconomicProvider(credentials: credentials, transport: URLSessionTransport())
/// let agreement = try await provider.validate()            // GET /self
/// let response = try await provider.send(.get, path: "customers?pagesize=10")
/// ```
///
/// Or put it under ``AuthorizingTransport`` with any concrete transport.
///
/// ### Test with the sandbox
/// `EconomicSandbox` in `AuthTesting` answers `/self`, `/customers`, the grant page and SOAP
/// like the real service; pass it as the transport.
public actor EconomicProvider: CredentialProvider {
    /// Options for the provider.
    public struct Configuration: Sendable {
        /// The REST base URL. Default ``EconomicEndpoints/restBaseURL``.
        public var restBaseURL: URL = EconomicEndpoints.restBaseURL
        /// The largest response body ``validate()`` parses. Default 1 MiB.
        public var maxResponseBytes: Int = 1 << 20
        /// Hosts besides ``restBaseURL``'s and ``EconomicEndpoints/openAPIBaseURL``'s that may
        /// receive the tokens. Requests to any other host are refused with
        /// ``AuthError/Code/untrustedHost`` before anything is sent. Default: none.
        public var additionalHosts: [String] = []

        /// Creates a configuration; every parameter has the documented default.
        public init(restBaseURL: URL = EconomicEndpoints.restBaseURL, maxResponseBytes: Int = 1 << 20, additionalHosts: [String] = []) {
            self.restBaseURL = restBaseURL
            self.maxResponseBytes = maxResponseBytes
            self.additionalHosts = additionalHosts
        }
    }

    struct Snapshot: Sendable {
        /// What every request carries, prepared once (validated when made, not per request): the
        /// app secret, the grant and the JSON content type, in that order. A request without
        /// fields of its own takes these as they are: one shared array, nothing copied.
        var fields: HTTPFields
        var appSecretField: HTTPField { fields[0] }
        var grantField: HTTPField { fields[1] }
        var appSecretToken: String { appSecretField.value }
        var agreementGrantToken: String {
            get { grantField.value }
            set { fields[1] = HTTPField.credential(.economicAgreementGrantToken, newValue) }
        }
        /// The two tokens, to scrub from errors.
        var secrets: [Secret] { [Secret(appSecretToken), Secret(agreementGrantToken)] }
        var generation = 0
        var isRejected = false
        var agreementNumber: Int?

        init(appSecretToken: String, agreementGrantToken: String) {
            fields = HTTPFields()
            fields.reserveCapacity(3)   // exactly: made from a sequence, the array would hold 4
            fields.append(HTTPField.credential(.economicAppSecretToken, appSecretToken))
            fields.append(HTTPField.credential(.economicAgreementGrantToken, agreementGrantToken))
            fields.append(EconomicProvider.jsonContentType)
        }
    }

    static let jsonContentType = HTTPField(name: .contentType, value: "application/json")

    /// `"economic"`.
    public nonisolated var name: String { EconomicEndpoints.providerName }
    /// What every provider of one ``EconomicApp`` shares: kept once, however many agreements the
    /// app serves (a provider made with its own initializer has one of its own).
    final class Shared: Sendable {
        let configuration: Configuration
        let audience: CredentialAudience
        let transport: any HTTPTransport
        let observer: AuthEventObserver?

        init(configuration: Configuration, transport: any HTTPTransport, observer: AuthEventObserver?) {
            self.configuration = configuration
            var audience = configuration.restBaseURL == EconomicEndpoints.restBaseURL
                ? EconomicEndpoints.defaultAudience
                : CredentialAudience(urls: [configuration.restBaseURL, EconomicEndpoints.openAPIBaseURL])
            configuration.additionalHosts.forEach { audience.insert($0) }
            self.audience = audience
            self.transport = transport
            self.observer = observer
        }

        /// The request path's URL check, made here so that the audience is read in place: copied
        /// out of this object, its storage's reference count was taken and dropped on every
        /// request, a line that the threads serving other tenants of the same app wrote too.
        func checkRequest(_ request: HTTPRequest) throws(AuthError) {
            try audience.checkRequest(request, provider: EconomicEndpoints.providerName)
        }
    }

    /// The configuration.
    public nonisolated var configuration: Configuration { shared.configuration }
    /// The hosts the tokens may go to: ``Configuration/restBaseURL``'s,
    /// ``EconomicEndpoints/openAPIBaseURL``'s and ``Configuration/additionalHosts``.
    public nonisolated var audience: CredentialAudience { shared.audience }
    private nonisolated var transport: any HTTPTransport { shared.transport }
    /// Made for each call rather than kept: an idle provider stays small (``validate()`` and
    /// ``send(_:path:body:)`` are not on the request path).
    private nonisolated var endpoint: EndpointClient {
        EconomicEndpoints.client(transport: transport, maxResponseBytes: configuration.maxResponseBytes, observer: observer)
    }
    private nonisolated var observer: AuthEventObserver? { shared.observer }
    nonisolated let shared: Shared
    private nonisolated let onCredentialChange: (@Sendable (StoredCredential?) async -> Void)?
    private nonisolated let snapshot: InlineLocked<Snapshot>
    /// One of a shared pool of executors: the provider carries no executor state of its own.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { ExecutorPool.executor(of: self) }

    /// Creates a provider for one agreement.
    ///
    /// - Parameters:
    ///   - credentials: The app secret and the agreement's grant.
    ///   - transport: Sends the requests of ``validate()`` and ``send(_:)``. Default:
    ///     ``URLSessionTransport``.
    ///   - configuration: The base URL and limits.
    ///   - observer: Receives ``AuthEvent/credentialRevoked(provider:)``.
    ///   - onCredentialChange: Called with the new grant (as the credential's access token) after
    ///     ``replaceGrant(_:)``, before any request uses it, so the app can keep it.
    /// - Throws: ``AuthError/Code/invalidCredentialFormat`` for an empty token or one holding
    ///   whitespace; ``AuthError/Code/insecureURL`` for a base URL that may not carry credentials.
    public init(
        credentials: EconomicCredentials,
        transport: any HTTPTransport = URLSessionTransport(),
        configuration: Configuration = .init(),
        observer: AuthEventObserver? = nil,
        onCredentialChange: (@Sendable (StoredCredential?) async -> Void)? = nil
    ) throws(AuthError) {
        try self.init(credentials: credentials, shared: Shared(configuration: configuration, transport: transport, observer: observer),
                      onCredentialChange: onCredentialChange)
    }

    /// A provider made by an ``EconomicApp``, with the app's shared part.
    init(credentials: EconomicCredentials, shared: Shared,
         onCredentialChange: (@Sendable (StoredCredential?) async -> Void)? = nil) throws(AuthError) {
        try EconomicEndpoints.validate(credentials, url: shared.configuration.restBaseURL)
        self.shared = shared
        self.onCredentialChange = onCredentialChange
        self.snapshot = InlineLocked(Snapshot(appSecretToken: credentials.appSecretToken.revealed,
                                        agreementGrantToken: credentials.agreementGrantToken.revealed))
    }

    /// Whether the service rejected the current grant with 401 (revoked or wrong tokens).
    ///
    /// Requests are still sent (the service decides); replace the grant with
    /// ``replaceGrant(_:)`` after the customer grants access again.
    public nonisolated var isRejected: Bool { snapshot.withLock { $0.isRejected } }

    /// The agreement number learnt from the last successful ``validate()``, if any.
    public nonisolated var agreementNumber: Int? { snapshot.withLock { $0.agreementNumber } }

    /// The current credentials.
    public nonisolated var credentials: EconomicCredentials {
        snapshot.withLock { EconomicCredentials(appSecretToken: Secret($0.appSecretToken), agreementGrantToken: Secret($0.agreementGrantToken)) }
    }

    /// Returns `request` with the two token headers and a JSON content type.
    ///
    /// - Throws: ``AuthError/Code/insecureURL`` when the URL may not carry credentials;
    ///   ``AuthError/Code/untrustedHost`` for a host outside ``audience``.
    public nonisolated func authorize(_ request: inout HTTPRequest) async throws {
        var body: Data?
        try await authorize(&request, body: &body)
    }

    /// Adds the two token headers (and a JSON content type); the body is not touched. The form
    /// the authorizing clients call, so the request path makes one call into the provider.
    public nonisolated func authorize(_ request: inout HTTPRequest, body: inout Data?) async throws {
        _ = try authorizeIfReady(&request)
    }

    /// The provider itself: ``authorizeIfReady(_:)`` refuses a URL that may not carry
    /// credentials, and a host outside ``audience``, before it adds anything, and never moves a
    /// request; the clients do not check again.
    public static var requestTargetCheck: RequestTargetCheck { .byProvider }

    /// Adds the two token headers (and a JSON content type) at once: they are always at hand, so
    /// this returns `true` unless it throws.
    ///
    /// - Throws: as ``authorize(_:)``.
    public nonisolated func authorizeIfReady(_ request: inout HTTPRequest) throws -> Bool {
        try shared.checkRequest(request)
        let prepared = snapshot.withLock { $0.fields }
        // The common case, a request without fields: the prepared ones, shared (no allocation,
        // no field copied); the request's first change copies them.
        guard !request.headerFields.isEmpty else {
            request.headerFields = prepared
            return true
        }
        request.headerFields.reserveCapacity(request.headerFields.count + 3)
        let hadContentType = request.headerFields[.contentType] != nil
        request.headerFields.setCredential(prepared[0])
        request.headerFields.setCredential(prepared[1])
        if !hadContentType { request.headerFields.append(prepared[2]) }
        return true
    }

    /// Turns a 401 into ``AuthError/Code/revoked`` and a 403 into ``AuthError/Code/forbidden``
    /// (with the server's message and `logId`); e-conomic has no refresh, so it never recovers.
    public func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        if response.status == .unauthorized {
            markRejected(generation: nil)
        }
        // The tokens the rejected request carried, besides the current ones (a new grant may have
        // replaced them since it was sent).
        let sent = [HTTPField.Name.economicAppSecretToken, .economicAgreementGrantToken].compactMap { request.headerFields[$0].map(Secret.init) }
        throw await SecretScrubbing.withSecrets(secrets + sent) { EconomicErrorBody.error(for: Reply(response, body: body)) }
    }

    /// Replaces the agreement grant (after the customer granted access again) and clears
    /// ``isRejected``.
    ///
    /// - Throws: ``AuthError/Code/invalidCredentialFormat`` for a malformed token; the old grant
    ///   is kept.
    public func replaceGrant(_ grant: Secret) async throws(AuthError) {
        try EconomicCredentials.validate(grant, name: "AgreementGrantToken")
        if let onCredentialChange {
            await onCredentialChange(StoredCredential(accessToken: grant, attributes: ["grant": "agreement"]))
        }
        snapshot.withLock { state in
            state.agreementGrantToken = grant.revealed
            state.generation += 1
            state.isRejected = false
            state.agreementNumber = nil
        }
    }

    /// Calls `GET /self` and returns the agreement the tokens open.
    ///
    /// - Returns: The agreement; its number is also kept in ``agreementNumber``.
    /// - Throws: ``AuthError/Code/revoked`` (401), ``AuthError/Code/forbidden`` (403),
    ///   ``AuthError/Code/rateLimited`` (429, with ``AuthError/retryAfter``),
    ///   ``AuthError/Code/serviceUnavailable`` (5xx), ``AuthError/Code/malformedResponse`` (not
    ///   JSON, an HTML page, no `agreementNumber`), ``AuthError/Code/responseTooLarge``, or a
    ///   transport error.
    public func validate() async throws -> EconomicAgreement {
        let url = try EconomicEndpoints.url(configuration.restBaseURL, appending: "self")
        var request = OutgoingRequest(url: url, headerFields: [.accept: "application/json"])
        let (generation, secrets) = try authorizeOwn(&request.head)
        return try await SecretScrubbing.withSecrets(secrets) { try await validate(sending: request, generation: generation) }
    }

    /// Authorizes a request of the provider's own and returns the grant's generation and the
    /// secrets the request carries, all read in this one turn on the actor (no suspension between
    /// them, so `replaceGrant` cannot slip in): a 401 is charged to the grant the request carried,
    /// and an error echoing a token is scrubbed of the tokens actually sent.
    private func authorizeOwn(_ head: inout HTTPRequest) throws -> (generation: Int, secrets: [Secret]) {
        _ = try authorizeIfReady(&head)
        return snapshot.withLock { ($0.generation, $0.secrets) }
    }

    private func validate(sending request: OutgoingRequest, generation: Int) async throws -> EconomicAgreement {
        let response = try await endpoint.send(request, retrying: .never)
        // Re-check after the await: a new grant may have arrived meanwhile.
        guard response.isSuccess else {
            if response.status == 401 { markRejected(generation: generation) }
            throw EconomicErrorBody.error(for: response)
        }
        let agreement = try Self.decodeAgreement(response, maxBytes: configuration.maxResponseBytes)
        snapshot.withLock { state in
            guard state.generation == generation else { return }
            state.isRejected = false
            state.agreementNumber = agreement.agreementNumber
        }
        return agreement
    }

    /// The typed error an e-conomic REST response stands for, or `nil` for a 2xx.
    ///
    /// 401 → ``AuthError/Code/revoked`` when the answer blames the grant, else
    /// ``AuthError/Code/invalidCredentials`` naming both tokens; 403 → ``AuthError/Code/forbidden``, 415 →
    /// ``AuthError/Code/invalidRequest``, 429 → ``AuthError/Code/rateLimited`` (with
    /// ``AuthError/retryAfter`` from `Retry-After`), 5xx → ``AuthError/Code/serviceUnavailable``,
    /// anything else → ``AuthError/Code/unexpectedStatus``. The body's `message`, `developerHint`
    /// and `logId` become ``AuthError/serverMessage`` and ``AuthError/logReference``.
    public nonisolated static func error(for response: HTTPResponse, body: Data) -> AuthError? {
        response.isSuccess ? nil : EconomicErrorBody.error(for: Reply(response, body: body))
    }

    /// The typed error an e-conomic REST response stands for (see ``error(for:body:)``).
    public nonisolated func error(for response: HTTPResponse, body: Data) -> AuthError? {
        Self.error(for: response, body: body)
    }

    /// Sends a REST request with the tokens; a 401 or 403 becomes a typed error.
    ///
    /// - Returns: The response, whatever its other status.
    /// - Throws: ``AuthError/Code/revoked`` (401), ``AuthError/Code/forbidden`` (403),
    ///   ``AuthError/Code/insecureURL``, or a transport error.
    public func send(_ request: HTTPRequest, body: Data? = nil) async throws -> (HTTPResponse, Data) {
        var authorized = OutgoingRequest(request, body: body)
        let (generation, secrets) = try authorizeOwn(&authorized.head)
        return try await SecretScrubbing.withSecrets(secrets) { try await send(authorized: authorized, generation: generation).pair }
    }

    private func send(authorized: OutgoingRequest, generation: Int) async throws -> Reply {
        let response = try await endpoint.send(authorized, retrying: .never, reports: false)
        if response.status == 401 || response.status == 403 {
            if response.status == 401 { markRejected(generation: generation) }
            throw EconomicErrorBody.error(for: response)
        }
        return response
    }

    /// Sends `method` to `path` (relative to the REST base; it may carry a query) with an
    /// optional JSON body.
    ///
    /// - Throws: as ``send(_:)``, and ``AuthError/Code/invalidRequest`` for a path that does not
    ///   form a URL.
    public func send(_ method: HTTPRequest.Method, path: String, json body: Data? = nil) async throws -> (HTTPResponse, Data) {
        let url = try EconomicEndpoints.url(configuration.restBaseURL, appending: path)
        return try await send(HTTPRequest(method: method, url: url, headerFields: [.accept: "application/json"]), body: body)
    }

    /// The two tokens, scrubbed from every error created while they are in flight.
    private nonisolated var secrets: [Secret] {
        snapshot.withLock { $0.secrets }
    }

    private func markRejected(generation: Int?) {
        let changed = snapshot.withLock { state -> Bool in
            if let generation, generation != state.generation { return false }
            defer { state.isRejected = true }
            return !state.isRejected
        }
        if changed { observer?.receive(.credentialRevoked(provider: EconomicEndpoints.providerName)) }
    }

    static func decodeAgreement(_ response: Reply, maxBytes: Int) throws(AuthError) -> EconomicAgreement {
        guard response.body.count <= maxBytes else {
            throw AuthError(.responseTooLarge, provider: EconomicEndpoints.providerName, status: response.status, message: "the /self response is larger than \(maxBytes) bytes")
        }
        guard !response.looksLikeHTML else {
            throw AuthError.malformedResponse("/self answered with an HTML page", provider: EconomicEndpoints.providerName, status: response.status)
        }
        guard response.hasJSONContentType else {
            throw AuthError.malformedResponse("/self answered with content type \(response.contentType ?? "none"), not JSON", provider: EconomicEndpoints.providerName, status: response.status)
        }
        let agreement: EconomicAgreement
        do {
            agreement = try JSONDecoder().decode(EconomicAgreement.self, from: response.body)
        } catch {
            throw AuthError.malformedResponse("/self did not answer with a JSON object", provider: EconomicEndpoints.providerName, status: response.status)
        }
        // Every field is optional when decoding, but an answer without the agreement's number
        // (an error body inside a 200, a proxy's JSON) does not describe an agreement.
        guard agreement.agreementNumber != nil else {
            throw AuthError.malformedResponse("/self answered without an agreementNumber", provider: EconomicEndpoints.providerName, status: response.status)
        }
        return agreement
    }
}

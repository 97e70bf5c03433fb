public import AuthCore
internal import AuthRuntime
public import Foundation
public import HTTPTypes

/// Gets, keeps, refreshes and injects Profix-it OAuth2 tokens for one credential.
///
/// A provider serves one ``TokenKey`` in one ``TokenStore``. Obtain tokens with one of the three
/// grants (``exchange(code:)``, ``requestClientCredentialsToken()``, ``logIn(username:password:)``),
/// then let ``AuthorizingTransport`` add `Authorization: Bearer …` to every request:
///
/// ```swift
/// let provider = ProfixProvider(client: client, transport: URLSessionTransport(),
///                               store: try FileTokenStore(directory: folder),
///                               key: TokenKey(provider: "profix", account: "acme"))
/// let api = AuthorizingTransport(base: URLSessionTransport(), provider: provider)
/// let response = try await api.send(HTTPRequest(url: URL(string: "https://api.profix-it.nl/api/v1/items")!))
/// ```
///
/// ### Refresh
/// An access token counts as expired ``Configuration/refreshLeeway`` before `expires_in` runs out
/// (on the injected clock). The first request after that refreshes it; concurrent requests wait
/// for that one refresh (single-flight), so N callers cause one `/token` call. The refresh runs
/// inside the store's ``TokenStore/update(_:_:)``: the stored pair is read again under the
/// store's lock, adopted when another process already rotated it, and otherwise refreshed and
/// saved before the lock is released. Profix-it rotates refresh tokens: the new pair is saved
/// and handed to `onCredentialChange` *before* any request uses it. A client-credentials token
/// has no refresh token and is re-acquired.
///
/// ### Failures
/// - A transient failure (connection, 5xx, 429) never throws tokens away: the error reaches the
///   callers and the next request tries again.
/// - `invalid_grant`, or any 400/401 from `/token` during a refresh, puts the provider into
///   "re-authorization required" unless the store holds a newer pair (another process won the
///   rotation): every waiter gets ``AuthError/Code/reauthorizationRequired``, and later calls
///   fail without network traffic until a grant succeeds or the store holds a new pair.
/// - A failed store save keeps the new pair in memory and reports
///   ``AuthEvent/storeFailed(provider:code:)``.
///
/// Events carry no secret; apps that keep tokens elsewhere receive each new pair through the
/// `onCredentialChange` callback.
public actor ProfixProvider: CredentialProvider {
    /// The provider name used in keys, errors and events: `"profix"`.
    public static var providerName: String { "profix" }

    /// What a password grant produced.
    public enum PasswordGrantOutcome: Sendable, Equatable {
        /// Tokens were issued and stored; the access token expires at the given time.
        case authorized(expiresAt: Date?)
        /// The user must change the password first: call
        /// ``ProfixProvider/changePassword(userID:currentPassword:newPassword:)`` with this
        /// user id, then log in with the new password.
        case passwordChangeRequired(userID: String)
    }

    /// `"profix"`.
    public nonisolated var name: String { Self.providerName }
    /// The registered application.
    public nonisolated var client: ProfixRegistration { tokenClient.client }
    /// The key the credential is stored under.
    public nonisolated var key: TokenKey { cell.key }
    /// The options.
    public nonisolated var configuration: Configuration { tokenClient.configuration }

    /// The hosts the access token may go to: the region's API host and
    /// ``Configuration/additionalHosts``.
    public nonisolated var audience: CredentialAudience { shared.audience }
    /// What this provider has in common with the other providers of its ``ProfixApp``, read
    /// through its cell (the provider's one field).
    nonisolated var shared: ProfixApp.Shared { cell.parts.context }
    nonisolated var tokenClient: ProfixTokenClient { shared.tokenClient }
    nonisolated let cell: CredentialCell<HTTPField, ProfixApp.Shared>
    /// What the cells of one app share.
    typealias Parts = CredentialParts<HTTPField, ProfixApp.Shared>
    /// The cell's executor: the provider and its cell run on one shared executor (a call into the
    /// cell does not hop, and the provider carries no executor state of its own).
    public nonisolated var unownedExecutor: UnownedSerialExecutor { cell.unownedExecutor }

    /// Creates a provider.
    ///
    /// Nothing is loaded or sent until the provider is first used.
    ///
    /// - Parameters:
    ///   - client: The registered application and its region.
    ///   - transport: Carries token-endpoint requests. Default: ``URLSessionTransport``.
    ///   - store: Keeps the credential between runs, and coordinates refreshes between the
    ///     providers and processes that share it. Default: in memory.
    ///   - key: The credential's name in the store. Default `profix/default`.
    ///   - configuration: Refresh and parsing options.
    ///   - observer: Receives ``AuthEvent``s (never a secret).
    ///   - now: The clock; tests pass one they control. `nil` (the default): the system clock,
    ///     read on the request path from the kernel's coarse clock moved a few milliseconds
    ///     ahead (a token may count as due that much early, never late; see the performance guide).
    ///   - onCredentialChange: Called with every new credential (grant or refresh) after it was
    ///     saved to `store` and before any request uses it, and with `nil` after ``signOut()``,
    ///     for apps that keep tokens elsewhere too.
    ///
    /// An app with many tenants makes their providers from one ``ProfixApp`` instead: they then
    /// share the registration, options, transport, store and clock.
    public init(
        client: ProfixRegistration,
        transport: any HTTPTransport = URLSessionTransport(),
        store: any TokenStore = InMemoryTokenStore(),
        key: TokenKey = TokenKey(provider: ProfixProvider.providerName, account: "default"),
        configuration: Configuration = .init(),
        observer: AuthEventObserver? = nil,
        now: (@Sendable () -> Date)? = nil,
        onCredentialChange: (@Sendable (StoredCredential?) async -> Void)? = nil
    ) {
        let parts = ProfixApp.Shared.parts(client: client, transport: transport, store: store, configuration: configuration,
                                           observer: observer, now: now, onChange: keyAwareChangeHook(onCredentialChange))
        self.init(key: key, parts: parts)
    }

    /// A provider of `key` that shares everything else with the other providers of an app.
    init(key: TokenKey, parts: Parts) {
        self.cell = CredentialCell(key: key, parts: parts)
    }

    /// `Authorization: Bearer <access token>`, made once per credential; one value for every cell.
    static let preparer = CredentialPreparer<HTTPField> { credential in
        HTTPField.credential(.authorization, header(credential))
    }

    // MARK: - CredentialProvider

    /// Adds `Authorization: Bearer <access token>`, refreshing first when the token is due.
    ///
    /// A valid cached token is read without touching an actor or the network.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/notAuthenticated`` before any grant,
    ///   ``AuthError/Code/reauthorizationRequired`` after a rejected refresh,
    ///   ``AuthError/Code/insecureURL`` for a URL that may not carry the token,
    ///   ``AuthError/Code/untrustedHost`` for a host outside ``audience``, or the transient
    ///   error of a refresh that could not complete.
    public nonisolated func authorize(_ request: inout HTTPRequest) async throws {
        var body: Data?
        try await authorize(&request, body: &body)
    }

    /// Adds the `Authorization` header; the body is not touched. The form the authorizing
    /// clients call, so the request path makes one call into the provider.
    public nonisolated func authorize(_ request: inout HTTPRequest, body: inout Data?) async throws {
        if try authorizeIfReady(&request) { return }
        request.headerFields.setCredential(try await cell.resolveHeader())
    }

    /// The provider itself: ``authorizeIfReady(_:)`` refuses a URL that may not carry
    /// credentials, and a host outside ``audience``, before it adds anything, and never moves a
    /// request; the clients do not check again.
    public static var requestTargetCheck: RequestTargetCheck { .byProvider }

    /// Adds `Authorization: Bearer <access token>` when a valid token is cached; `false` when one
    /// must be loaded or refreshed first (``authorize(_:body:)`` does that).
    ///
    /// - Throws: ``AuthError/Code/insecureURL`` or ``AuthError/Code/untrustedHost`` as
    ///   ``authorize(_:)`` does.
    public nonisolated func authorizeIfReady(_ request: inout HTTPRequest) throws -> Bool {
        // The app's shared part, borrowed rather than retained (see `unretainedContext`).
        try cell.unretainedContext._withUnsafeGuaranteedRef { try $0.checkRequest(request) }
        guard let field = cell.cachedHeader() else { return false }
        request.headerFields.setCredential(field)
        return true
    }

    /// On a 401, refreshes once (or adopts a refresh that already happened) and asks for a retry.
    ///
    /// `request` is the rejected request: when its `Authorization` header is not the current one,
    /// another caller already replaced the token and the request is simply retried; only a
    /// rejection of the current token starts a refresh (single-flight, so a burst of 401s for one
    /// token rotates the refresh token once). A 403 (licence restriction) is not recovered.
    ///
    /// - Throws: ``AuthError/Code/reauthorizationRequired`` when the refresh is rejected; the
    ///   transient error when it could not complete.
    public nonisolated func recover(from response: HTTPResponse, body: Data, to request: HTTPRequest) async throws -> Bool {
        guard response.status == .unauthorized else { return false }
        let sent = request.headerFields[.authorization].map(Secret.init)
        return try await cell.recover(
            carried: { current in sent.map { $0.matches(Self.header(current)) } },
            minimumInterval: configuration.forcedRefreshInterval)
    }

    /// The typed error a Profix-it API response stands for, or `nil` for a 2xx.
    ///
    /// 400 → ``AuthError/Code/invalidRequest``, 401 → ``AuthError/Code/invalidCredentials``,
    /// 403 → ``AuthError/Code/forbidden``, 429 → ``AuthError/Code/rateLimited``, 5xx →
    /// ``AuthError/Code/serviceUnavailable``, anything else → ``AuthError/Code/unexpectedStatus``;
    /// an OAuth-style body's `error` and `error_description` become ``AuthError/serverCode`` and
    /// ``AuthError/serverMessage``.
    public nonisolated static func error(for response: HTTPResponse, body: Data) -> AuthError? {
        response.isSuccess ? nil : ProfixTokenEndpoint.apiFailure(Reply(response, body: body))
    }

    /// The typed error a Profix-it API response stands for (see ``error(for:body:)``).
    public nonisolated func error(for response: HTTPResponse, body: Data) -> AuthError? {
        Self.error(for: response, body: body)
    }

    // MARK: - State

    /// The current credential, loading it from the store on first use; `nil` when there is none.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` or ``AuthError/Code/storeCorrupt`` when the store
    ///   cannot be read.
    public nonisolated func credential() async throws -> StoredCredential? {
        try await cell.credential()
    }

    /// Whether a refresh was rejected and an authorization flow must run again.
    public nonisolated var requiresReauthorization: Bool {
        get async { await cell.requiresReauthorization }
    }

    /// Refreshes now (or re-acquires a client-credentials token), even if the token is still valid.
    ///
    /// Joins a refresh that is already running instead of starting a second one. Like every
    /// refresh, it runs inside the store's ``TokenStore/update(_:_:)``, so providers and processes
    /// sharing the store rotate the refresh token once between them.
    ///
    /// - Returns: The credential in use afterwards.
    /// - Throws: see ``authorize(_:)``.
    @discardableResult
    public nonisolated func refresh() async throws -> StoredCredential {
        try await cell.refresh()
    }

    /// Forgets the credential here and in the store.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when the store cannot remove it (the provider
    ///   forgets it anyway).
    public nonisolated func signOut() async throws {
        await cell.settleRefresh()
        let outcome = await cell.install(nil, event: .credentialRemoved(provider: Self.providerName))
        if let failure = outcome.failure { throw failure }
    }
}

public import AuthCore
public import Foundation

/// Gets, keeps, refreshes and injects Profix-it OAuth2 tokens for one credential.
///
/// A provider serves one ``TokenKey`` in one ``TokenStore``. Obtain tokens with one of the three
/// grants (``exchange(code:)``, ``requestClientCredentialsToken()``, ``logIn(username:password:)``),
/// then let ``AuthorizingTransport`` add `Authorization: Bearer …` to every request:
///
/// ```swift
/// let provider = ProfixTokenProvider(client: client, transport: URLSessionTransport(),
///                                    store: try FileTokenStore(directory: folder),
///                                    key: TokenKey(provider: "profix", account: "acme"))
/// let api = AuthorizingTransport(base: URLSessionTransport(), provider: provider, providerName: "profix")
/// let response = try await api.send(HTTPRequest(url: URL(string: "https://api.profix-it.nl/api/v1/items")!))
/// ```
///
/// ### Refresh
/// An access token counts as expired ``Configuration/refreshLeeway`` before `expires_in` runs out
/// (on the injected clock). The first request after that refreshes it; concurrent requests wait
/// for that one refresh (single-flight), so N callers cause one `/token` call. Profix-it rotates
/// refresh tokens: the new pair is saved to the store and handed to `onNewCredential` *before*
/// any request uses it. A client-credentials token has no refresh token and is re-acquired.
///
/// ### Failures
/// - A transient failure (connection, 5xx, 429) never throws tokens away: the error reaches the
///   callers and the next request tries again.
/// - `invalid_grant`, or any 400/401 from `/token` during a refresh, puts the provider into
///   "re-authorization required": every waiter gets ``AuthError/Code/reauthorizationRequired``,
///   later calls fail at once without network traffic, and the stored pair stays in the store
///   for inspection until a grant succeeds again.
/// - A failed store save keeps the new pair in memory and reports
///   ``AuthEvent/storeFailed(provider:code:)``.
///
/// Events carry no secret; apps that keep tokens elsewhere receive each new pair through the
/// `onNewCredential` callback.
public actor ProfixTokenProvider: CredentialProvider {
    /// The provider name used in keys, errors and events: `"profix"`.
    public static let providerName = "profix"

    /// What a password grant produced.
    public enum PasswordGrantOutcome: Sendable, Equatable {
        /// Tokens were issued and stored; the access token expires at the given time.
        case authorized(expiresAt: Date?)
        /// The user must change the password first: call
        /// ``ProfixTokenProvider/changePassword(userID:currentPassword:newPassword:)`` with this
        /// user id, then log in with the new password.
        case passwordChangeRequired(userID: String)
    }

    /// The registered application.
    public nonisolated let client: ProfixClient
    /// The key the credential is stored under.
    public nonisolated let key: TokenKey
    /// The options.
    public nonisolated let configuration: Configuration

    private nonisolated let tokenClient: ProfixTokenClient
    private nonisolated let now: @Sendable () -> Date
    private nonisolated let snapshot: Snapshots
    private let store: any TokenStore
    private let observer: AuthEventObserver?
    private let onNewCredential: (@Sendable (StoredCredential) async -> Void)?

    private enum Phase {
        case unloaded
        case empty
        case ready(StoredCredential)
        case reauthorizationRequired(AuthError)
    }

    private var phase: Phase = .unloaded
    private var generation = 0
    private var installedAt: Date?
    private var loadTask: Task<StoredCredential?, any Error>?
    private var refreshTask: (id: Int, task: Task<StoredCredential, any Error>)?
    private var nextTaskID = 0
    private var latestWrite = 0
    private var refusedUntil: (error: AuthError, until: Date)?
    private var writeChain: Task<Void, Never>?

    /// Creates a provider.
    ///
    /// Nothing is loaded or sent until the provider is first used.
    ///
    /// - Parameters:
    ///   - client: The registered application and its region.
    ///   - transport: Carries token-endpoint requests.
    ///   - store: Keeps the credential between runs. Default: in memory.
    ///   - key: The credential's name in the store. Default `profix/default`.
    ///   - configuration: Refresh and parsing options.
    ///   - observer: Receives ``AuthEvent``s (never a secret).
    ///   - now: The clock; tests pass one they control.
    ///   - onNewCredential: Called with every new credential (grant or refresh) after it was saved
    ///     to `store` and before any request uses it, for apps that keep tokens elsewhere too.
    public init(
        client: ProfixClient,
        transport: any HTTPTransport,
        store: any TokenStore = InMemoryTokenStore(),
        key: TokenKey = TokenKey(provider: ProfixTokenProvider.providerName, account: "default"),
        configuration: Configuration = .init(),
        observer: AuthEventObserver? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        onNewCredential: (@Sendable (StoredCredential) async -> Void)? = nil
    ) {
        var policy = configuration.retryPolicy
        if policy.observer == nil { policy.observer = observer }
        if policy.providerName == nil { policy.providerName = Self.providerName }
        self.client = client
        self.key = key
        self.configuration = configuration
        self.tokenClient = ProfixTokenClient(client: client, transport: transport, retryPolicy: policy,
                                             maxResponseBytes: configuration.maxResponseBytes)
        self.now = now
        self.snapshot = Snapshots()
        self.store = store
        self.observer = observer
        self.onNewCredential = onNewCredential
    }

    // MARK: - CredentialProvider

    /// Adds `Authorization: Bearer <access token>`, refreshing first when the token is due.
    ///
    /// A valid cached token is read without touching the actor or the network.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/notAuthenticated`` before any grant,
    ///   ``AuthError/Code/reauthorizationRequired`` after a rejected refresh,
    ///   ``AuthError/Code/insecureURL`` for a URL that may not carry the token, or the transient
    ///   error of a refresh that could not complete.
    public nonisolated func authorize(_ request: HTTPRequest) async throws -> HTTPRequest {
        try SecureURLPolicy.check(request.url, provider: Self.providerName)
        let header: String
        if let cached = cachedHeader() {
            header = cached
        } else {
            header = try await currentHeader()
        }
        var request = request
        request.headers[.authorization] = header
        return request
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
    public func recover(from response: HTTPResponse, to request: HTTPRequest) async throws -> Bool {
        guard response.status == 401 else { return false }
        try await loadIfNeeded()
        if let running = refreshTask {
            _ = try await running.task.value
            return true
        }
        guard case .ready(let current) = phase else { return try failForMissingCredential() }
        if let sent = request.headers[.authorization], !Secret(sent).matches(Self.header(current)) {
            return true   // the token was replaced after this request was authorized
        }
        if request.headers[.authorization] == nil, let installedAt,
           now().timeIntervalSince(installedAt) < configuration.forcedRefreshInterval.timeInterval {
            return true   // no header to compare (a custom transport stripped it): rate-limit refreshes
        }
        _ = try await refreshSingleFlight(coordination: defaultCoordinationStore)
        return true
    }

    // MARK: - Grants

    /// Exchanges an authorization code for tokens and stores them.
    ///
    /// Send the code as soon as it arrives: Profix-it accepts it for about three minutes and once.
    ///
    /// - Returns: The new credential.
    /// - Throws: ``AuthError``: ``AuthError/Code/invalidGrant`` (code used, expired or redirect
    ///   URI mismatch), ``AuthError/Code/invalidCredentials`` (client id or secret),
    ///   ``AuthError/Code/malformedResponse``, transport codes.
    @discardableResult
    public func exchange(code: Secret) async throws -> StoredCredential {
        guard !code.isEmpty else {
            throw AuthError(.callbackInvalid, provider: Self.providerName, message: "the authorization code is empty")
        }
        await waitForRunningRefresh()
        let tokens = try await tokenClient.tokens(ProfixTokenEndpoint.codeRequest(client, code: code), oneTime: true)
        return await installAcquired(tokens, grant: "authorization_code")
    }

    /// Reads the code from `callbackURL` (see ``ProfixAuthorizationRequest/code(from:)``) and
    /// exchanges it.
    ///
    /// - Throws: the errors of ``ProfixAuthorizationRequest/code(from:)`` and ``exchange(code:)``.
    @discardableResult
    public func exchange(callbackURL: URL, for request: ProfixAuthorizationRequest) async throws -> StoredCredential {
        try await exchange(code: request.code(from: callbackURL))
    }

    /// Obtains an access token with the client-credentials grant and stores it.
    ///
    /// The token has no refresh token; when it expires the provider requests a new one itself.
    ///
    /// - Throws: ``AuthError``: ``AuthError/Code/invalidCredentials`` (401, 406),
    ///   ``AuthError/Code/forbidden`` (403), ``AuthError/Code/malformedResponse``, transport codes.
    @discardableResult
    public func requestClientCredentialsToken() async throws -> StoredCredential {
        await waitForRunningRefresh()
        let tokens = try await tokenClient.tokens(ProfixTokenEndpoint.clientCredentialsRequest(client))
        return await installAcquired(tokens, grant: "client_credentials")
    }

    /// Logs in with the password grant.
    ///
    /// - Returns: ``PasswordGrantOutcome/authorized(expiresAt:)`` with tokens stored, or
    ///   ``PasswordGrantOutcome/passwordChangeRequired(userID:)`` when the service demands a new
    ///   password first (nothing is stored then).
    /// - Throws: ``AuthError``: ``AuthError/Code/invalidGrant`` (wrong user name or password),
    ///   ``AuthError/Code/invalidCredentials``, ``AuthError/Code/malformedResponse``, transport codes.
    public func logIn(username: String, password: Secret) async throws -> PasswordGrantOutcome {
        await waitForRunningRefresh()
        let request = ProfixTokenEndpoint.passwordRequest(client, username: username, password: password)
        switch try await tokenClient.grant(request, allowsPasswordChange: true) {
        case .passwordChangeRequired(let userID):
            return .passwordChangeRequired(userID: userID)
        case .tokens(let tokens):
            var attributes = ["grant": "password"]
            attributes["username"] = username
            let credential = await installAcquired(tokens, grant: "password", attributes: attributes)
            return .authorized(expiresAt: credential.expiresAt)
        }
    }

    /// Changes a user's password after the password grant asked for it.
    ///
    /// On success, call ``logIn(username:password:)`` with the new password.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/passwordChangeRejected`` and the service's
    ///   user-friendly ``AuthError/serverMessage`` when the service refuses; other codes for
    ///   transport and response problems.
    public nonisolated func changePassword(userID: String, currentPassword: Secret, newPassword: Secret) async throws {
        let request = ProfixTokenEndpoint.changePasswordRequest(client, userID: userID, password: currentPassword, newPassword: newPassword)
        let response = try await tokenClient.send(request, retrying: false)
        try ProfixTokenEndpoint.parseChangePassword(response, maxBytes: configuration.maxResponseBytes)
    }

    // MARK: - State

    /// The current credential, loading it from the store on first use; `nil` when there is none.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` or ``AuthError/Code/storeCorrupt`` when the store
    ///   cannot be read.
    public func credential() async throws -> StoredCredential? {
        try await loadIfNeeded()
        if case .ready(let credential) = phase { return credential }
        return nil
    }

    /// Whether a refresh was rejected and an authorization flow must run again.
    public var requiresReauthorization: Bool {
        if case .reauthorizationRequired = phase { return true }
        return false
    }

    /// Refreshes now (or re-acquires a client-credentials token), even if the token is still valid.
    ///
    /// Joins a refresh that is already running instead of starting a second one.
    ///
    /// - Returns: The credential in use afterwards.
    /// - Throws: see ``authorize(_:)``.
    @discardableResult
    public func refresh() async throws -> StoredCredential {
        try await loadIfNeeded()
        guard case .ready = phase else { return try failForMissingCredential() }
        return try await refreshSingleFlight(coordination: defaultCoordinationStore)
    }

    /// Refreshes through `FileTokenStore.update(_:_:)`, so processes sharing the store folder
    /// rotate the refresh token only once between them.
    ///
    /// Under the store's exclusive lock the stored pair is read again. If another process already
    /// rotated it (the stored access token differs from this provider's and is still valid), that
    /// pair is adopted and no request is sent; otherwise the stored refresh token is used and the
    /// new pair is written before the lock is released.
    ///
    /// - Parameter fileStore: The shared store; normally the provider's own store.
    /// - Returns: The credential in use afterwards.
    /// - Throws: see ``authorize(_:)``.
    @discardableResult
    public func refreshCoordinated(through fileStore: FileTokenStore) async throws -> StoredCredential {
        try await loadIfNeeded()
        guard case .ready = phase else { return try failForMissingCredential() }
        return try await refreshSingleFlight(coordination: fileStore)
    }

    /// Forgets the credential here and in the store.
    ///
    /// - Throws: ``AuthError/Code/storeFailure`` when the store cannot remove it (the provider
    ///   forgets it anyway).
    public func signOut() async throws {
        await waitForRunningRefresh()
        latestWrite += 1
        generation += 1
        phase = .empty
        installedAt = nil
        snapshot.clear()
        observer?.receive(.credentialRemoved(provider: Self.providerName))
        let store = self.store
        let key = self.key
        let failure = Locked<(any Error)?>(nil)
        await enqueueWrite {
            do { try await store.remove(key) } catch { failure.withLock { $0 = error } }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Runs `write` after every store write enqueued before it.
    private func enqueueWrite(_ write: @escaping @Sendable () async -> Void) async {
        let previous = writeChain
        let task = Task {
            await previous?.value
            await write()
        }
        writeChain = task
        await task.value
    }

    // MARK: - Internals

    private var defaultCoordinationStore: FileTokenStore? {
        configuration.coordinatesRefreshesThroughFileStore ? store as? FileTokenStore : nil
    }

    /// The cached header, when the snapshot holds one that is not due; may start a background
    /// refresh in the soft window.
    nonisolated func cachedHeader() -> String? {
        let (header, startBackground) = snapshot.read(at: now())
        if startBackground {
            Task { await self.refreshInBackground() }
        }
        return header
    }

    private func currentHeader() async throws -> String {
        try await loadIfNeeded()
        switch phase {
        case .ready(let credential):
            if !needsRefresh(credential, at: now()) { return Self.header(credential) }
            return Self.header(try await refreshSingleFlight(coordination: defaultCoordinationStore))
        default:
            return try failForMissingCredential()
        }
    }

    private func failForMissingCredential<T>() throws -> T {
        if case .reauthorizationRequired(let error) = phase { throw error }
        throw AuthError(.notAuthenticated, provider: Self.providerName,
                        message: "no Profix-it credential yet: run a grant first")
    }

    private func refreshInBackground() async {
        guard refreshTask == nil, case .ready = phase else { return }
        _ = try? await refreshSingleFlight(coordination: defaultCoordinationStore)
    }

    private func waitForRunningRefresh() async {
        if let running = refreshTask { _ = await running.task.result }
    }

    private func loadIfNeeded() async throws {
        guard case .unloaded = phase else { return }
        let task: Task<StoredCredential?, any Error>
        if let loadTask {
            task = loadTask
        } else {
            let store = self.store
            let key = self.key
            task = Task { try await store.load(key) }
            loadTask = task
        }
        let loaded: StoredCredential?
        do {
            loaded = try await task.value
        } catch {
            loadTask = nil
            if let error = error as? AuthError { throw error.attributed(to: Self.providerName) }
            throw AuthError(.storeFailure, provider: Self.providerName, message: "the token store could not be read")
        }
        loadTask = nil
        guard case .unloaded = phase else { return }   // something else happened meanwhile
        if let loaded {
            phase = .ready(loaded)
            generation += 1
            snapshot.set(makeSnapshot(loaded))
        } else {
            phase = .empty
        }
    }

    /// Runs one refresh at a time; every concurrent caller awaits the same task.
    private func refreshSingleFlight(coordination: FileTokenStore?) async throws -> StoredCredential {
        if let running = refreshTask { return try await running.task.value }
        if let refused = refusedUntil {
            if now() < refused.until { throw refused.error }
            refusedUntil = nil
        }
        nextTaskID += 1
        let id = nextTaskID
        let task = Task { try await self.performRefresh(coordination: coordination) }
        refreshTask = (id, task)
        let result = await task.result
        if refreshTask?.id == id { refreshTask = nil }
        return try result.get()
    }

    private func performRefresh(coordination: FileTokenStore?) async throws -> StoredCredential {
        guard case .ready(let current) = phase else { return try failForMissingCredential() }
        let startGeneration = generation
        let isClientCredentials = current.attributes["grant"] == "client_credentials"
        if !isClientCredentials, current.refreshToken == nil {
            throw enterReauthorization(AuthError(.reauthorizationRequired, provider: Self.providerName,
                                                 message: "the credential has no refresh token"), generation: startGeneration)
        }
        if let coordination {
            return try await performCoordinatedRefresh(current: current, store: coordination, generation: startGeneration)
        }
        let tokens: ProfixTokenResponse
        do {
            tokens = try await fetchRenewal(for: current)
        } catch {
            // Another instance sharing the store may have rotated the pair first: our refresh
            // token is then dead, but the store holds a working pair. Adopt it instead of failing.
            if Self.isRejection(error), let stored = try? await store.load(key),
               stored.refreshToken != nil, stored.refreshToken != current.refreshToken, stored.accessToken != current.accessToken {
                guard generation == startGeneration else { return try currentCredentialOrFail() }
                return await install(stored, save: false, event: nil)
            }
            throw refreshFailed(error, generation: startGeneration)
        }
        let next = Self.makeCredential(tokens, previous: current, grant: current.attributes["grant"], now: now())
        guard generation == startGeneration else { return try currentCredentialOrFail() }
        return await install(next, save: true, event: .credentialRefreshed(provider: Self.providerName, expiresAt: next.expiresAt))
    }

    private func performCoordinatedRefresh(current: StoredCredential, store: FileTokenStore, generation startGeneration: Int) async throws -> StoredCredential {
        let record = CoordinationRecord()
        let tokenClient = self.tokenClient
        let now = self.now
        let leeway = configuration.refreshLeeway
        let key = self.key
        let currentAccess = current.accessToken
        do {
            _ = try await store.update(key) { stored in
                guard let stored else {
                    throw AuthError(.notAuthenticated, provider: Self.providerName, message: "the shared store holds no credential")
                }
                if stored.accessToken != currentAccess, !Self.needsRefresh(stored, at: now(), leeway: leeway, soft: nil) {
                    record.set(stored, adopted: true)
                    return stored
                }
                let tokens = try await Self.fetchRenewal(for: stored, using: tokenClient)
                let next = Self.makeCredential(tokens, previous: stored, grant: stored.attributes["grant"], now: now())
                record.set(next, adopted: false)
                return next
            }
        } catch {
            // A pair obtained before the write failed must not be lost: the old one is dead.
            guard let (obtained, _) = record.value else { throw refreshFailed(error, generation: startGeneration) }
            let code = (error as? AuthError)?.code ?? .storeFailure
            observer?.receive(.storeFailed(provider: Self.providerName, code: code))
            guard generation == startGeneration else { return try currentCredentialOrFail() }
            return await install(obtained, save: false, event: .credentialRefreshed(provider: Self.providerName, expiresAt: obtained.expiresAt))
        }
        guard let (next, adopted) = record.value else { return try currentCredentialOrFail() }
        guard generation == startGeneration else { return try currentCredentialOrFail() }
        let event: AuthEvent? = adopted ? nil : .credentialRefreshed(provider: Self.providerName, expiresAt: next.expiresAt)
        return await install(next, save: false, event: event)
    }

    private func fetchRenewal(for credential: StoredCredential) async throws(AuthError) -> ProfixTokenResponse {
        try await Self.fetchRenewal(for: credential, using: tokenClient)
    }

    private static func fetchRenewal(for credential: StoredCredential, using tokenClient: ProfixTokenClient) async throws(AuthError) -> ProfixTokenResponse {
        if credential.attributes["grant"] == "client_credentials" {
            return try await tokenClient.tokens(ProfixTokenEndpoint.clientCredentialsRequest(tokenClient.client))
        }
        guard let refreshToken = credential.refreshToken else {
            throw AuthError(.reauthorizationRequired, provider: providerName, message: "the credential has no refresh token")
        }
        return try await tokenClient.tokens(ProfixTokenEndpoint.refreshRequest(tokenClient.client, refreshToken: refreshToken), oneTime: true)
    }

    /// Whether a refresh failure means the service refused the refresh token or client.
    static func isRejection(_ error: any Error) -> Bool {
        guard let error = error as? AuthError else { return false }
        return error.code == .invalidGrant || error.code == .invalidCredentials
            || error.code == .reauthorizationRequired || error.status == 400 || error.status == 401
    }

    /// Classifies a refresh failure: a rejection ends in "re-authorization required", anything
    /// else keeps the tokens.
    private func refreshFailed(_ error: any Error, generation startGeneration: Int) -> AuthError {
        let authError = (error as? AuthError) ?? AuthError(.transportFailure, provider: Self.providerName,
                                                          message: "the refresh failed (\(type(of: error)))")
        guard Self.isRejection(authError) else {
            if authError.code == .forbidden {
                // A licence restriction will not go away by asking again at once.
                refusedUntil = (authError, now().addingTimeInterval(configuration.forbiddenRefreshCooldown.timeInterval))
            }
            observer?.receive(.refreshFailed(provider: Self.providerName, code: authError.code, willRetry: true))
            return authError
        }
        observer?.receive(.refreshFailed(provider: Self.providerName, code: authError.code, willRetry: false))
        let final = AuthError(.reauthorizationRequired, provider: Self.providerName, status: authError.status,
                              serverCode: authError.serverCode,
                              message: "the refresh was rejected; the user must authorize again",
                              underlying: authError)
        return enterReauthorization(final, generation: startGeneration)
    }

    private func enterReauthorization(_ error: AuthError, generation startGeneration: Int) -> AuthError {
        guard generation == startGeneration else { return error }
        phase = .reauthorizationRequired(error)
        generation += 1
        snapshot.clear()
        observer?.receive(.reauthorizationRequired(provider: Self.providerName))
        return error
    }

    private func currentCredentialOrFail() throws -> StoredCredential {
        if case .ready(let credential) = phase { return credential }
        return try failForMissingCredential()
    }

    private func installAcquired(_ tokens: ProfixTokenResponse, grant: String, attributes: [String: String] = [:]) async -> StoredCredential {
        var credential = Self.makeCredential(tokens, previous: nil, grant: grant, now: now())
        credential.attributes.merge(attributes) { _, new in new }
        return await install(credential, save: true,
                             event: .credentialAcquired(provider: Self.providerName, grant: grant, expiresAt: credential.expiresAt))
    }

    /// Saves (unless already saved), tells the app, and only then makes the credential current.
    ///
    /// Store writes run one after another in the order installs began, and only the newest
    /// install becomes current, so memory and the store never end up on different credentials
    /// when two grants (or a grant and a sign-out) overlap.
    private func install(_ credential: StoredCredential, save: Bool, event: AuthEvent?) async -> StoredCredential {
        latestWrite += 1
        let ticket = latestWrite
        if save {
            let store = self.store
            let key = self.key
            let observer = self.observer
            await enqueueWrite {
                do {
                    try await store.save(credential, for: key)
                } catch {
                    let code = (error as? AuthError)?.code ?? .storeFailure
                    observer?.receive(.storeFailed(provider: Self.providerName, code: code))
                }
            }
        }
        if let onNewCredential { await onNewCredential(credential) }
        guard ticket == latestWrite else { return credential }   // a newer install or sign-out won
        refusedUntil = nil
        generation += 1
        phase = .ready(credential)
        installedAt = now()
        snapshot.set(makeSnapshot(credential))
        if let event { observer?.receive(event) }
        return credential
    }

    static func makeCredential(_ tokens: ProfixTokenResponse, previous: StoredCredential?, grant: String?, now: Date) -> StoredCredential {
        var attributes = previous?.attributes ?? [:]
        if let grant { attributes["grant"] = grant }
        // Keep the old refresh token when a refresh answer omits a new one; a client-credentials
        // token never has one.
        let refresh = grant == "client_credentials" ? nil : (tokens.refreshToken ?? previous?.refreshToken)
        return StoredCredential(
            accessToken: tokens.accessToken,
            refreshToken: refresh,
            expiresAt: tokens.expiresIn.map { now.addingTimeInterval($0) },
            issuedAt: now,
            attributes: attributes
        )
    }

    static func header(_ credential: StoredCredential) -> String {
        "Bearer " + credential.accessToken.revealed
    }

    private func needsRefresh(_ credential: StoredCredential, at date: Date) -> Bool {
        Self.needsRefresh(credential, at: date, leeway: configuration.refreshLeeway, soft: nil)
    }

    /// The leeway for a credential: the configured one, or min(60 s, 10 % of its lifetime).
    ///
    /// A configured leeway is capped at half the token's lifetime, so a leeway longer than the
    /// lifetime cannot make every token due on arrival (which would rotate on every request).
    static func leeway(for credential: StoredCredential, configured: Duration?) -> TimeInterval {
        let lifetime = credential.expiresAt.flatMap { expiresAt in credential.issuedAt.map { max(0, expiresAt.timeIntervalSince($0)) } }
        if let configured {
            let wanted = max(0, configured.timeInterval)
            return lifetime.map { min(wanted, $0 / 2) } ?? wanted
        }
        guard let lifetime else { return 60 }
        return min(60, lifetime * 0.1)
    }

    /// Whether the credential is due at `date`; a credential without expiry never is.
    static func needsRefresh(_ credential: StoredCredential, at date: Date, leeway: Duration?, soft: Duration?) -> Bool {
        guard let expiresAt = credential.expiresAt else { return false }
        let early = Self.leeway(for: credential, configured: leeway) + (soft.map { max(0, $0.timeInterval) } ?? 0)
        return date >= expiresAt.addingTimeInterval(-early)
    }

    private func makeSnapshot(_ credential: StoredCredential) -> Snapshot {
        var dueAt: Date?
        var softAt: Date?
        if let expiresAt = credential.expiresAt {
            let due = expiresAt.addingTimeInterval(-Self.leeway(for: credential, configured: configuration.refreshLeeway))
            dueAt = due
            if let window = configuration.softRefreshWindow, window > .zero {
                softAt = due.addingTimeInterval(-window.timeInterval)
            }
        }
        return Snapshot(header: Self.header(credential), dueAt: dueAt, softAt: softAt, backgroundStarted: false)
    }
}

/// The pre-encoded header and the times that matter, readable without the actor.
struct Snapshot: Sendable {
    var header: String
    var dueAt: Date?
    var softAt: Date?
    var backgroundStarted: Bool
}

/// The lock-protected snapshot.
final class Snapshots: Sendable {
    private let value = Locked<Snapshot?>(nil)

    func set(_ snapshot: Snapshot) { value.withLock { $0 = snapshot } }
    func clear() { value.withLock { $0 = nil } }

    /// The header when not due at `date`, and whether the caller should start the one
    /// background refresh of the soft window.
    func read(at date: Date) -> (String?, Bool) {
        value.withLock { current -> (String?, Bool) in
            guard var snapshot = current else { return (nil, false) }
            if let dueAt = snapshot.dueAt, date >= dueAt { return (nil, false) }
            if let softAt = snapshot.softAt, date >= softAt, !snapshot.backgroundStarted {
                snapshot.backgroundStarted = true
                current = snapshot
                return (snapshot.header, true)
            }
            return (snapshot.header, false)
        }
    }
}

/// What happened inside a `FileTokenStore.update` transform.
final class CoordinationRecord: Sendable {
    private let state = Locked<(StoredCredential, Bool)?>(nil)
    func set(_ credential: StoredCredential, adopted: Bool) { state.withLock { $0 = (credential, adopted) } }
    var value: (StoredCredential, Bool)? { state.withLock { $0 } }
}

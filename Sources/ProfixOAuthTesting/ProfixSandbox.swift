public import AuthCore
public import AuthTesting
public import HTTPTypes
public import Foundation

/// A behavioural fake of the Profix-it OAuth2 service, to put under a `ProfixProvider` (or
/// your own code) in tests.
///
/// It is an ``HTTPTransport`` that answers the way the real service is documented to, strictly:
///
/// - `GET {any base}/Authorization?client_id=…&redirect_uri=…` answers `302` to
///   `redirect_uri?code=…` (the user approves at once); ``approve(authorizationURL:username:code:)``
///   does the same without HTTP and lets a test choose the code.
/// - `POST /token` accepts only `application/x-www-form-urlencoded` bodies, checks the client
///   secret, allows each client only the grant it was registered for (plus `refresh_token` for
///   the code and password grants), uses each code once within ``Configuration/codeLifetime``,
///   rotates refresh tokens (the old one is rejected from then on), and lets tokens expire on
///   the sandbox's clock. Errors are OAuth2 JSON: `{"error": "invalid_grant"}` and friends.
/// - A user flagged with `mustChangePassword` gets `{"userid", "RequireChangePassword": true}`
///   from the password grant; `POST /token/ChangePassword` answers `{"success", "message"}`.
/// - Every other path is "the API": it answers `200` with a small JSON body for a valid,
///   unexpired `Authorization: Bearer` token and `401` otherwise.
///
/// ```swift
/// let clock = TestClock()   // any @Sendable () -> Date you control
/// let sandbox = ProfixSandbox(now: clock.now)
/// sandbox.registerClient(id: "app", secret: Secret("s3cret"), grant: .clientCredentials)
/// let provider = ProfixProvider(client: client, transport: sandbox, now: clock.now)
/// try await provider.requestClientCredentialsToken()
/// #expect(sandbox.counters.clientCredentialsGrants == 1)
/// ```
///
/// It is safe to use from many tasks at once; all state sits behind one lock.
public final class ProfixSandbox: HTTPTransport {
    /// The grant a client is registered for.
    public enum Grant: String, Sendable {
        /// `authorization_code` (with refresh).
        case authorizationCode = "authorization_code"
        /// `client_credentials` (no refresh token).
        case clientCredentials = "client_credentials"
        /// `password` (with refresh).
        case password
    }

    /// Options of the sandbox.
    public struct Configuration: Sendable {
        /// The `expires_in` of access tokens. Default 600 s, like the service.
        public var accessTokenLifetime: Duration = .seconds(600)
        /// How long an authorization code may be exchanged. Default 180 s.
        public var codeLifetime: Duration = .seconds(180)
        /// Whether the callback carries the `state` the authorization URL had. Profix-it does not
        /// document echoing it; default `false`.
        public var echoesState: Bool = false
        /// A real-time pause before every `/token` answer, to widen race windows in concurrency
        /// tests. Default none.
        public var tokenLatency: Duration?
        /// Whether every error answer of `/token` and `/token/ChangePassword` repeats the request
        /// it answers (the form, secrets and all) in `error_description`, as careless servers and
        /// proxies do: for tests that prove no echoed secret reaches an error. Default `false`.
        public var echoesRequests: Bool = false
        /// Creates the default configuration.
        public init() {}
    }

    /// How often each endpoint was called.
    public struct Counters: Sendable, Equatable {
        /// Calls to `/token`, whatever the outcome.
        public var tokenRequests = 0
        /// Successful `authorization_code` exchanges.
        public var codeExchanges = 0
        /// Successful `client_credentials` grants.
        public var clientCredentialsGrants = 0
        /// Successful `password` grants (tokens issued).
        public var passwordGrants = 0
        /// Successful refreshes.
        public var refreshes = 0
        /// Rejected `/token` calls.
        public var tokenErrors = 0
        /// Calls to `/token/ChangePassword`.
        public var passwordChanges = 0
        /// API calls that were accepted.
        public var apiCalls = 0
        /// API calls rejected with 401.
        public var rejectedAPICalls = 0
    }

    struct Client {
        var secret: Secret
        var grant: Grant
        var redirectURI: String?
    }

    struct User {
        var password: Secret
        var userID: String
        var mustChangePassword: Bool
    }

    struct Code {
        var clientID: String
        var redirectURI: String
        var expiresAt: Date
        var username: String?
    }

    struct RefreshGrant {
        var clientID: String
        var username: String?
    }

    struct State {
        var clients: [String: Client] = [:]
        var users: [String: User] = [:]
        var codes: [String: Code] = [:]
        var accessTokens: [String: Date] = [:]
        var refreshTokens: [String: RefreshGrant] = [:]
        var injectedTokenReplies: [Reply] = []
        var counters = Counters()
    }

    let state = Locked(State())
    let configuration: Configuration
    let now: @Sendable () -> Date

    /// Creates an empty sandbox: register clients and users before use.
    ///
    /// - Parameters:
    ///   - configuration: Lifetimes and behaviour switches.
    ///   - now: The sandbox's clock; pass the same one as the provider's to move time in tests.
    public init(configuration: Configuration = .init(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.now = now
    }

    // MARK: Set-up

    /// Registers an application pinned to one grant.
    ///
    /// - Parameters:
    ///   - id: The client id.
    ///   - secret: The client secret the token endpoint checks.
    ///   - grant: The only grant the client may use (refresh is allowed for code and password).
    ///   - redirectURI: The exact redirect URI (authorization-code clients).
    public func registerClient(id: String, secret: Secret, grant: Grant, redirectURI: URL? = nil) {
        state.withLock { $0.clients[id] = Client(secret: secret, grant: grant, redirectURI: redirectURI?.absoluteString) }
    }

    /// Adds a user for the password grant.
    ///
    /// - Parameters:
    ///   - username: The login name.
    ///   - password: The password.
    ///   - userID: The id reported when a password change is required. Default: a running number.
    ///   - mustChangePassword: Whether the password grant demands a change first.
    public func addUser(username: String, password: Secret, userID: String? = nil, mustChangePassword: Bool = false) {
        state.withLock { state in
            let id = userID ?? String(100 + state.users.count + 1)
            state.users[username] = User(password: password, userID: id, mustChangePassword: mustChangePassword)
        }
    }

    /// Makes the next `/token` call answer `response` (after counting it), for fault injection:
    /// a 503, an HTML page, a malformed body.
    public func enqueueTokenReply(_ response: MockTransport.Response) {
        state.withLock { $0.injectedTokenReplies.append(Reply(response.head, body: response.body)) }
    }

    /// Invalidates every refresh token, as if an administrator revoked the grants.
    public func revokeRefreshTokens() {
        state.withLock { $0.refreshTokens.removeAll() }
    }

    /// Invalidates every access token (the API answers 401 until new ones are issued).
    public func revokeAccessTokens() {
        state.withLock { $0.accessTokens.removeAll() }
    }

    // MARK: Inspection

    /// How often each endpoint was called so far.
    public var counters: Counters { state.withLock { $0.counters } }

    /// Whether `token` is an access token the API accepts now.
    public func accepts(accessToken token: Secret) -> Bool {
        let date = now()
        return state.withLock { state in state.accessTokens[token.revealed].map { date < $0 } ?? false }
    }

    /// Whether `token` is a refresh token the token endpoint accepts now.
    public func accepts(refreshToken token: Secret) -> Bool {
        state.withLock { $0.refreshTokens[token.revealed] != nil }
    }

    /// Whether `username` must still change the password.
    public func mustChangePassword(_ username: String) -> Bool {
        state.withLock { $0.users[username]?.mustChangePassword ?? false }
    }

    // MARK: The browser step

    /// Plays the user's browser: checks the authorization URL and returns the URL Profix-it
    /// redirects back to, carrying a fresh code.
    ///
    /// - Parameters:
    ///   - authorizationURL: The URL an app sends the browser to.
    ///   - username: The user who approves (stored with the code; informational).
    ///   - code: The code to issue; default a random one that contains `!`, like the service's.
    /// - Returns: `redirect_uri?code=…` (plus `&state=…` when ``Configuration/echoesState``).
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` for an unknown client,
    ///   a client not registered for the code grant, or a redirect URI that does not match exactly.
    public func approve(authorizationURL: URL, username: String? = nil, code: String? = nil) throws(AuthError) -> URL {
        let items = FormEncoding.queryItems(of: authorizationURL)
        func item(_ name: String) -> String? { items.first { $0.0 == name }?.1 }
        guard authorizationURL.path.lowercased().hasSuffix("/authorization") else {
            throw AuthError(.invalidConfiguration, provider: "profix", message: "not an authorization URL")
        }
        guard let clientID = item("client_id"), let redirect = item("redirect_uri") else {
            throw AuthError(.invalidConfiguration, provider: "profix", status: 400, message: "client_id and redirect_uri are required")
        }
        let issued = code ?? Self.randomToken(prefixLength: 4, bodyLength: 40)
        let date = now()
        let lifetime = configuration.codeLifetime.timeInterval
        try state.withLock { (state: inout State) throws(AuthError) in
            guard let client = state.clients[clientID], client.grant == .authorizationCode else {
                throw AuthError(.invalidConfiguration, provider: "profix", status: 401, message: "unknown client or not an authorization-code client")
            }
            guard client.redirectURI == redirect else {
                throw AuthError(.invalidConfiguration, provider: "profix", status: 400, message: "the redirect URI does not match")
            }
            state.codes[issued] = Code(clientID: clientID, redirectURI: redirect, expiresAt: date.addingTimeInterval(lifetime), username: username)
        }
        var pairs = [("code", issued)]
        if configuration.echoesState, let returned = item("state") { pairs.append(("state", returned)) }
        let query = pairs.map { FormEncoding.encodeComponent($0.0) + "=" + FormEncoding.encodeComponent($0.1) }.joined(separator: "&")
        let separator = redirect.contains("?") ? "&" : "?"
        guard let url = URL(string: redirect + separator + query) else {
            throw AuthError(.invalidConfiguration, provider: "profix", message: "the redirect URI is not a URL")
        }
        return url
    }

    // MARK: HTTPTransport

    /// Answers a request as the service would.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await handle(OutgoingRequest(request, body: body)).pair
    }

    func handle(_ request: OutgoingRequest) async throws -> Reply {
        let path = request.url.path.lowercased()
        if path.hasSuffix("/token/changepassword") {
            return echoed(request, changePassword(request))
        }
        if path.hasSuffix("/token") {
            if let latency = configuration.tokenLatency {
                do { try await Task.sleep(for: latency) } catch { throw AuthError(.cancelled, message: "cancelled during sandbox latency") }
            }
            return echoed(request, token(request))
        }
        if path.hasSuffix("/authorization"), request.method == .get {
            do {
                let location = try approve(authorizationURL: request.url)
                return Reply(status: 302, headerFields: [.location: location.absoluteString])
            } catch {
                return Self.oauthError(error.status ?? 400, "invalid_request")
            }
        }
        return api(request)
    }

    // MARK: Endpoints

    func token(_ request: OutgoingRequest) -> Reply {
        let date = now()
        let lifetime = configuration.accessTokenLifetime.timeInterval
        return state.withLock { state -> Reply in
            state.counters.tokenRequests += 1
            if !state.injectedTokenReplies.isEmpty {
                return state.injectedTokenReplies.removeFirst()
            }
            let response = Self.handleToken(request, state: &state, date: date, lifetime: lifetime)
            if !response.isSuccess { state.counters.tokenErrors += 1 }
            return response
        }
    }

    static func handleToken(_ request: OutgoingRequest, state: inout State, date: Date, lifetime: TimeInterval) -> Reply {
        guard let form = formBody(request) else { return oauthError(400, "invalid_request") }
        guard let clientID = form["client_id"], let client = state.clients[clientID],
              let secret = form["client_secret"], client.secret.matches(secret) else {
            return oauthError(401, "invalid_client")
        }
        func issue(refresh: RefreshGrant?) -> Reply {
            let access = "AAEA" + randomToken(prefixLength: 0, bodyLength: 40)
            state.accessTokens[access] = date.addingTimeInterval(lifetime)
            var body = #"{"access_token":"\#(access)","token_type":"Bearer","expires_in":\#(Int(lifetime))"#
            if let refresh {
                let token = randomToken(prefixLength: 4, bodyLength: 40)
                state.refreshTokens[token] = refresh
                body += #","refresh_token":"\#(token)""#
            }
            return .json(200, body + "}")
        }
        switch form["grant_type"] {
        case "authorization_code":
            guard client.grant == .authorizationCode else { return oauthError(400, "unauthorized_client") }
            guard let code = form["code"], let issued = state.codes.removeValue(forKey: code),
                  issued.clientID == clientID, date < issued.expiresAt else {
                return oauthError(400, "invalid_grant")
            }
            if let redirect = form["redirect_uri"], redirect != issued.redirectURI { return oauthError(400, "invalid_grant") }
            state.counters.codeExchanges += 1
            return issue(refresh: RefreshGrant(clientID: clientID, username: issued.username))
        case "client_credentials":
            guard client.grant == .clientCredentials else { return oauthError(400, "unauthorized_client") }
            state.counters.clientCredentialsGrants += 1
            return issue(refresh: nil)
        case "password":
            guard client.grant == .password else { return oauthError(400, "unauthorized_client") }
            guard let username = form["username"], let password = form["password"],
                  let user = state.users[username], user.password.matches(password) else {
                return oauthError(400, "invalid_grant")
            }
            if user.mustChangePassword {
                return .json(200, #"{"userid":"\#(user.userID)","RequireChangePassword":true}"#)
            }
            state.counters.passwordGrants += 1
            return issue(refresh: RefreshGrant(clientID: clientID, username: username))
        case "refresh_token":
            guard client.grant != .clientCredentials else { return oauthError(400, "unauthorized_client") }
            guard let token = form["refresh_token"], let grant = state.refreshTokens[token], grant.clientID == clientID else {
                return oauthError(400, "invalid_grant")
            }
            state.refreshTokens.removeValue(forKey: token)   // rotation: the old token dies now
            state.counters.refreshes += 1
            return issue(refresh: grant)
        case nil:
            return oauthError(400, "invalid_request")
        default:
            return oauthError(400, "unsupported_grant_type")
        }
    }

    func changePassword(_ request: OutgoingRequest) -> Reply {
        state.withLock { state -> Reply in
            state.counters.passwordChanges += 1
            guard let form = Self.formBody(request) else { return Self.oauthError(400, "invalid_request") }
            guard let clientID = form["client_id"], let client = state.clients[clientID],
                  let secret = form["client_secret"], client.secret.matches(secret) else {
                return Self.oauthError(401, "invalid_client")
            }
            guard let userID = form["userid"], let entry = state.users.first(where: { $0.value.userID == userID }) else {
                return .json(200, #"{"success":false,"message":"Unknown user."}"#)
            }
            guard let password = form["password"], entry.value.password.matches(password) else {
                return .json(200, #"{"success":false,"message":"The current password is not correct."}"#)
            }
            guard let newPassword = form["newpassword"], newPassword.count >= 8, newPassword != password else {
                return .json(200, #"{"success":false,"message":"Choose a new password of at least 8 characters."}"#)
            }
            state.users[entry.key] = User(password: Secret(newPassword), userID: userID, mustChangePassword: false)
            return .json(200, #"{"success":true,"message":"You can now login"}"#)
        }
    }

    func api(_ request: OutgoingRequest) -> Reply {
        let date = now()
        return state.withLock { state -> Reply in
            let header = request.headerFields[.authorization] ?? ""
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer",
                  let expiresAt = state.accessTokens[String(parts[1])], date < expiresAt else {
                state.counters.rejectedAPICalls += 1
                return Reply(status: 401, headerFields: [.wwwAuthenticate: "Bearer"],
                                    body: Data(#"{"message":"Authorization has been denied for this request."}"#.utf8))
            }
            state.counters.apiCalls += 1
            let path = request.url.path.replacingOccurrences(of: "\"", with: "")
            return .json(200, #"{"ok":true,"method":"\#(request.method.rawValue)","path":"\#(path)"}"#)
        }
    }

}

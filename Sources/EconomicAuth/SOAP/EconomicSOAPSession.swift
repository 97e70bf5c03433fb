public import AuthCore
import HTTPTypes
internal import AuthRuntime
public import Foundation

/// A cookie session with e-conomic's SOAP web service, opened with `ConnectWithToken`.
///
/// The first call connects: `ConnectWithToken(token: AgreementGrantToken, appToken:
/// AppSecretToken)` (values XML-escaped). The cookies the answer sets are replayed on every
/// later call of the session. When the service answers that the session is gone (a fault whose
/// text holds `AuthenticationException(E02250)`), the session connects again once and the
/// call is sent once more. Reconnecting is single-flight: however many calls find the session
/// gone at the same moment, one `ConnectWithToken` is sent and they all wait for it.
///
/// ```swift
/// let session = try EconomicSOAPSession(credentials: credentials, transport: URLSessionTransport())
/// let reply = try await session.call("Agreement_GetNumber")
/// let number = reply.text(of: "Agreement_GetNumberResult")
/// try await session.disconnect()
/// ```
///
/// Faults of the operation itself throw ``AuthError`` with code `soap_fault` (its
/// ``AuthError/serverCode`` is the `faultcode`, its message the `faultstring`).
public actor EconomicSOAPSession {
    /// Options for the session.
    public struct Configuration: Sendable {
        /// The SOAP endpoint. Default ``EconomicEndpoints/soapURL``.
        public var endpoint: URL = EconomicEndpoints.soapURL
        /// The largest response body parsed. Default 4 MiB.
        public var maxResponseBytes: Int = 4 << 20
        /// Fault text that means "not logged in": the session is gone. Default `E02250`.
        public var sessionLostMarker: String = "E02250"
        /// Fault texts that mean `ConnectWithToken` refused the tokens (a revoked grant, a wrong
        /// app secret). A `ConnectWithToken` fault that mentions none of them (a server exception,
        /// a timeout behind the service) is transient. Default `AuthenticationException` and
        /// `AuthorizationException`, the exception names e-conomic puts in such faults.
        public var credentialRejectedMarkers: [String] = ["AuthenticationException", "AuthorizationException"]

        /// Creates a configuration; every parameter has the documented default.
        public init(
            endpoint: URL = EconomicEndpoints.soapURL,
            maxResponseBytes: Int = 4 << 20,
            sessionLostMarker: String = "E02250",
            credentialRejectedMarkers: [String] = ["AuthenticationException", "AuthorizationException"]
        ) {
            self.endpoint = endpoint
            self.maxResponseBytes = maxResponseBytes
            self.sessionLostMarker = sessionLostMarker
            self.credentialRejectedMarkers = credentialRejectedMarkers
        }
    }

    struct Session: Sendable {
        var generation: Int
        var cookies: EconomicCookies
    }

    /// The configuration.
    public nonisolated let configuration: Configuration
    private nonisolated let credentials: EconomicCredentials
    private nonisolated let endpoint: EndpointClient
    private nonisolated let observer: AuthEventObserver?
    private nonisolated let current = Locked<Session?>(nil)
    private nonisolated let connects = Locked(0)
    private nonisolated let connecting = SingleFlight<Session>()
    private var generation = 0

    /// Creates a session; nothing is sent until the first call (or ``connect()``).
    ///
    /// - Parameters:
    ///   - credentials: The app secret and the agreement's grant.
    ///   - transport: Sends the SOAP requests.
    ///   - configuration: The endpoint and limits.
    ///   - observer: Receives ``AuthEvent/sessionEstablished(provider:)``.
    /// - Throws: ``AuthError/Code/invalidCredentialFormat`` for an empty or malformed token;
    ///   ``AuthError/Code/insecureURL`` for an endpoint that may not carry credentials.
    public init(
        credentials: EconomicCredentials,
        transport: any HTTPTransport,
        configuration: Configuration = .init(),
        observer: AuthEventObserver? = nil
    ) throws(AuthError) {
        self.credentials = credentials
        // SOAP calls are not retried here: the caller's operation may not be idempotent.
        try EconomicEndpoints.validate(credentials, url: configuration.endpoint)
        self.endpoint = EconomicEndpoints.client(transport: transport, maxResponseBytes: configuration.maxResponseBytes, observer: observer)
        self.configuration = configuration
        self.observer = observer
    }

    /// Whether the session holds cookies from a `ConnectWithToken` (the service may still have
    /// ended it).
    public nonisolated var isConnected: Bool { current.withLock { $0 != nil } }

    /// How many `ConnectWithToken` requests this session has sent.
    public nonisolated var connectCount: Int { connects.withLock { $0 } }

    /// Connects now unless a session is open.
    ///
    /// - Throws: ``AuthError/Code/revoked`` when `ConnectWithToken` is refused (a fault naming an
    ///   authentication or authorization failure: grant revoked or tokens wrong);
    ///   ``AuthError/Code/serviceUnavailable`` (transient) for any other fault;
    ///   ``AuthError/Code/malformedResponse`` when the answer is not SOAP or sets no cookie; a
    ///   transport error.
    public func connect() async throws {
        _ = try await SecretScrubbing.withSecrets(secrets) { try await session(replacing: nil) }
    }

    /// Calls `operation` with simple string parameters through the session.
    ///
    /// - Parameters:
    ///   - operation: The operation name, such as `Debtor_GetAll` (letters, digits, `_`).
    ///   - parameters: Element names and text values, in order; values are XML-escaped.
    /// - Returns: The parsed reply; read results with ``SOAPMessage/text(of:)``.
    /// - Throws: ``AuthError/Code/invalidRequest`` for an operation or parameter name that is not an
    ///   XML name; then as ``send(action:envelope:)``.
    public nonisolated func call(_ operation: String, parameters: [(String, String)] = []) async throws -> SOAPMessage {
        guard Self.isXMLName(operation), parameters.allSatisfy({ Self.isXMLName($0.0) }) else {
            throw AuthError(.invalidRequest, provider: EconomicEndpoints.providerName, message: "SOAP operation and parameter names must be letters, digits and _")
        }
        let envelope = SOAPMessage.envelope(operation: operation, namespace: EconomicEndpoints.soapNamespace, parameters: parameters)
        return try await send(action: EconomicEndpoints.soapNamespace + "/" + operation, envelope: envelope)
    }

    /// Sends any SOAP envelope through the session, connecting or reconnecting as needed.
    ///
    /// - Parameters:
    ///   - action: The `SOAPAction`, such as `http://e-conomic.com/Debtor_GetAll`.
    ///   - envelope: The whole SOAP 1.1 envelope.
    /// - Throws: `soap_fault` for a fault of the operation; ``AuthError/Code/notAuthenticated``
    ///   when the session is lost again right after reconnecting; ``AuthError/Code/revoked``
    ///   when reconnecting is refused; ``AuthError/Code/serviceUnavailable`` when reconnecting
    ///   meets a server fault; ``AuthError/Code/malformedResponse`` for an answer that is
    ///   not SOAP (an HTML page, JSON); ``AuthError/Code/serviceUnavailable`` for a 5xx that is
    ///   not a fault; ``AuthError/Code/responseTooLarge``; a transport error.
    public nonisolated func send(action: String, envelope: Data) async throws -> SOAPMessage {
        try await SecretScrubbing.withSecrets(secrets) { try await sendUnscrubbed(action: action, envelope: envelope) }
    }

    private nonisolated func sendUnscrubbed(action: String, envelope: Data) async throws -> SOAPMessage {
        var session = try await currentSession()
        var reconnected = false
        while true {
            var request = SOAPMessage.request(url: configuration.endpoint, action: action, envelope: envelope)
            request.headerFields.setCredential(session.cookies.headerValue, for: .cookie)
            let response = try await endpoint.send(request, retrying: .never, reports: false)
            let setCookies = response.headerFields[values: .setCookie]
            if !setCookies.isEmpty { await absorb(setCookies, generation: session.generation) }
            let message = try interpret(response)
            if let fault = message.fault {
                if fault.mentions(configuration.sessionLostMarker) {
                    guard !reconnected else {
                        throw AuthError(.notAuthenticated, provider: EconomicEndpoints.providerName, status: response.status, serverCode: fault.code,
                                        message: "the SOAP session was lost again right after reconnecting")
                    }
                    session = try await self.session(replacing: session.generation)
                    reconnected = true
                    continue
                }
                throw AuthError(.soapFault, provider: EconomicEndpoints.providerName, status: response.status, serverCode: fault.code,
                                message: (fault.message ?? "the service answered with a SOAP fault"))
            }
            guard response.isSuccess else {
                throw AuthError.unexpectedStatus(response.status, provider: EconomicEndpoints.providerName, message: "the SOAP call answered without a fault but not 2xx")
            }
            return message
        }
    }

    /// Ends the session with `Disconnect` and forgets its cookies. Does nothing when not connected.
    ///
    /// - Throws: `soap_fault` or a transport error; the cookies are forgotten either way.
    public func disconnect() async throws {
        try await SecretScrubbing.withSecrets(secrets) { try await disconnectUnscrubbed() }
    }

    private func disconnectUnscrubbed() async throws {
        let session = current.withLock { state -> Session? in
            defer { state = nil }
            return state
        }
        guard let session else { return }
        let envelope = SOAPMessage.envelope(operation: "Disconnect", namespace: EconomicEndpoints.soapNamespace, parameters: [])
        var request = SOAPMessage.request(url: configuration.endpoint, action: EconomicEndpoints.soapNamespace + "/Disconnect", envelope: envelope)
        request.headerFields.setCredential(session.cookies.headerValue, for: .cookie)
        let response = try await endpoint.send(request, retrying: .never, reports: false)
        let message = try interpret(response)
        if let fault = message.fault, !fault.mentions(configuration.sessionLostMarker) {
            throw AuthError(.soapFault, provider: EconomicEndpoints.providerName, status: response.status, serverCode: fault.code, message: (fault.message ?? "Disconnect failed"))
        }
    }

    // MARK: - Session handling

    private nonisolated func currentSession() async throws -> Session {
        if let session = current.withLock({ $0 }) { return session }
        return try await session(replacing: nil)
    }

    /// The open session, or a new one when there is none or the open one is `stale`. Concurrent
    /// callers share one connect.
    func session(replacing stale: Int?) async throws -> Session {
        if let session = current.withLock({ $0 }), session.generation != stale { return session }
        return try await connecting.run { try await self.performConnect() }
    }

    private func performConnect() async throws -> Session {
        let envelope = SOAPMessage.envelope(
            operation: "ConnectWithToken", namespace: EconomicEndpoints.soapNamespace,
            parameters: [("token", credentials.agreementGrantToken.revealed), ("appToken", credentials.appSecretToken.revealed)]
        )
        let request = SOAPMessage.request(url: configuration.endpoint, action: EconomicEndpoints.soapNamespace + "/ConnectWithToken", envelope: envelope)
        connects.withLock { $0 += 1 }
        let response = try await endpoint.send(request, retrying: .never)
        let message = try interpret(response)
        if let fault = message.fault {
            // SOAP 1.1 faults always come with HTTP 500: only the fault's text tells a refused
            // grant from a passing server exception.
            guard configuration.credentialRejectedMarkers.contains(where: { fault.mentions($0) }) else {
                throw AuthError(.serviceUnavailable, provider: EconomicEndpoints.providerName, status: response.status, serverCode: fault.code,
                                message: "ConnectWithToken failed with a server fault (the grant was not refused): " + (fault.message ?? "no message"))
            }
            let blame = RejectedToken.reading(fault.message ?? "")
            throw AuthError(blame.code, provider: EconomicEndpoints.providerName, status: response.status, serverCode: fault.code,
                            message: "ConnectWithToken was refused; \(blame.explanation): " + (fault.message ?? "no message"))
        }
        guard response.isSuccess else {
            throw AuthError.unexpectedStatus(response.status, provider: EconomicEndpoints.providerName, message: "ConnectWithToken answered without a fault but not 2xx")
        }
        var cookies = EconomicCookies()
        cookies.absorb(response.headerFields[values: .setCookie])
        guard !cookies.isEmpty else {
            throw AuthError.malformedResponse("ConnectWithToken set no session cookie", provider: EconomicEndpoints.providerName, status: response.status)
        }
        generation += 1
        let session = Session(generation: generation, cookies: cookies)
        current.withLock { $0 = session }
        observer?.receive(.sessionEstablished(provider: EconomicEndpoints.providerName))
        return session
    }

    /// Keeps cookies a later answer sets (load balancers rotate theirs) for the same session.
    private func absorb(_ values: [String], generation: Int) {
        current.withLock { state in
            guard var session = state, session.generation == generation else { return }
            session.cookies.absorb(values)
            state = session
        }
    }

    // MARK: - Parsing

    private nonisolated func interpret(_ response: Reply) throws(AuthError) -> SOAPMessage {
        let provider = EconomicEndpoints.providerName
        try endpoint.checkSize(response, of: "the SOAP response")
        let failureCode: AuthError.Code = response.status >= 500 ? .serviceUnavailable : (response.status == 429 ? .rateLimited : .malformedResponse)
        if response.looksLikeHTML {
            throw AuthError(failureCode, provider: provider, status: response.status, message: "the SOAP endpoint answered with an HTML page")
        }
        if let type = response.contentType, !type.contains("xml") {
            throw AuthError(failureCode, provider: provider, status: response.status, message: "the SOAP endpoint answered with content type \(type), not XML")
        }
        do {
            return try SOAPMessage(parsing: response.body, maxBytes: configuration.maxResponseBytes)
        } catch {
            throw AuthError(failureCode, provider: provider, status: response.status, message: "the SOAP endpoint's answer is not a SOAP envelope")
        }
    }

    /// The tokens, scrubbed from every error created while they are in flight (the service
    /// could echo them in a fault).
    private nonisolated var secrets: [Secret] { [credentials.agreementGrantToken, credentials.appSecretToken] }

    static func isXMLName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

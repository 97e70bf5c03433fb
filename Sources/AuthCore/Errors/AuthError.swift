/// The one error type the SDK throws.
///
/// Every failure carries a ``code`` that tells what went wrong in terms an app can act on, plus
/// whatever context is known: the ``provider``, the HTTP ``status``, the server's error code and a
/// ``serverMessage`` that is safe to log, a ``retryAfter`` hint and the ``underlying`` error.
/// No field ever holds a credential: ``description`` prints only these fields.
///
/// Match on the code:
///
/// ```swift
/// do {
///     let response = try await client.send(request)
/// } catch let error as AuthError where error.code == .reauthorizationRequired {
///     // send the user through the login flow again
/// }
/// ```
///
/// Two errors compare equal when their codes are equal; the context is not compared.
public struct AuthError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added in any release.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable identifier such as `"reauthorization_required"`.
        public let rawValue: String
        /// Creates a code; providers may define their own.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The stable identifier.
        public var description: String { rawValue }

        // MARK: Transport
        /// The connection could not be made (refused, reset, unreachable).
        public static let connectionFailed = Code("connection_failed")
        /// The request or the connection timed out.
        public static let timeout = Code("timeout")
        /// The host name could not be resolved.
        public static let dnsFailure = Code("dns_failure")
        /// The TLS handshake or certificate validation failed.
        public static let tlsFailure = Code("tls_failure")
        /// The response body exceeded the configured cap.
        public static let responseTooLarge = Code("response_too_large")
        /// The task was cancelled.
        public static let cancelled = Code("cancelled")
        /// Any other transport failure.
        public static let transportFailure = Code("transport_failure")
        /// The request itself is malformed (for example a header value holding a line break).
        public static let invalidRequest = Code("invalid_request")
        /// Credentials were about to go to a URL that is neither `https` nor loopback `http`.
        public static let insecureURL = Code("insecure_url")
        /// The URL's host is not one the provider sends its credentials to (see ``CredentialAudience``).
        public static let untrustedHost = Code("untrusted_host")

        // MARK: Responses
        /// The server answered with a status code the flow does not expect.
        public static let unexpectedStatus = Code("unexpected_status")
        /// The server's answer could not be understood (not JSON, missing fields, HTML page, ...).
        public static let malformedResponse = Code("malformed_response")
        /// The service is temporarily unavailable (5xx).
        public static let serviceUnavailable = Code("service_unavailable")
        /// The service asks the client to slow down (429, or 503 with a retry hint).
        public static let rateLimited = Code("rate_limited")

        // MARK: Credentials
        /// The credentials presented were not accepted (wrong key, wrong secret, wrong code).
        public static let invalidCredentials = Code("invalid_credentials")
        /// A refresh token or grant was rejected (`invalid_grant`): a human must sign in again.
        public static let invalidGrant = Code("invalid_grant")
        /// The provider can no longer obtain tokens by itself; the app must run an authorization
        /// flow again. The stored credential is left in place for inspection.
        public static let reauthorizationRequired = Code("reauthorization_required")
        /// The token or grant was revoked or deleted by the service or an administrator.
        public static let revoked = Code("revoked")
        /// The credentials are valid but not allowed to do this (IP restriction, role, licence).
        public static let forbidden = Code("forbidden")
        /// No credential is stored or configured yet.
        public static let notAuthenticated = Code("not_authenticated")
        /// The user must change the password before a token is issued.
        public static let passwordChangeRequired = Code("password_change_required")
        /// A credential value does not have the expected form.
        public static let invalidCredentialFormat = Code("invalid_credential_format")

        // MARK: Flows
        /// A callback URL did not carry what the flow needs (no code, no token, an `error=`).
        public static let callbackInvalid = Code("callback_invalid")
        /// The `state` that came back does not match the one that was sent.
        public static let stateMismatch = Code("state_mismatch")
        /// A configuration value (base URL, environment number, ...) is invalid.
        public static let invalidConfiguration = Code("invalid_configuration")

        // MARK: Storage
        /// The token store could not read or write.
        public static let storeFailure = Code("store_failure")
        /// The token store holds data it cannot decode; it was left untouched.
        public static let storeCorrupt = Code("store_corrupt")

        // MARK: SOAP
        /// A SOAP operation answered with a fault that is not a session or credential problem; the
        /// error's ``AuthError/serverCode`` is the `faultcode`, its message the `faultstring`.
        public static let soapFault = Code("soap_fault")
    }

    /// What kind of failure this is.
    public let code: Code
    /// The provider involved (`"profit"`, `"profix"`, `"economic"`), when known.
    public var provider: String?
    /// The HTTP status code of the response that caused the error, when there was one.
    public var status: Int?
    /// The server's machine-readable error code (for example OAuth's `invalid_grant` or a Profit
    /// error number), when present.
    public var serverCode: String?
    /// A human-readable message that is safe to log: either ours or the server's, trimmed and
    /// stripped of control characters.
    public var serverMessage: String?
    /// A reference the service gave for its own logs (Profit's `profitLogReference`,
    /// e-conomic's `logId`).
    public var logReference: String?
    /// How long the service asked the client to wait, when it said.
    public var retryAfter: Duration?
    /// The lower-level error, when there was one. It never holds a credential.
    public var underlying: (any Error & Sendable)?

    /// Creates an error. Prefer the static factories.
    public init(
        _ code: Code,
        provider: String? = nil,
        status: Int? = nil,
        serverCode: String? = nil,
        message: String? = nil,
        logReference: String? = nil,
        retryAfter: Duration? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.provider = provider
        self.status = status
        // Secrets a server echoed go before the text is cut to length (a cut could leave half).
        self.serverCode = serverCode.map { Self.sanitize(SecretScrubbing.scrub($0), limit: 100) }
        self.serverMessage = message.map { Self.sanitize(SecretScrubbing.scrub($0), limit: 300) }
        self.logReference = logReference.map { Self.sanitize(SecretScrubbing.scrub($0), limit: 100) }
        self.retryAfter = retryAfter
        self.underlying = underlying
    }

    /// A readable summary that holds no secret.
    public var description: String {
        var parts = ["AuthError(\(code.rawValue)"]
        if let provider { parts.append("provider: \(provider)") }
        if let status { parts.append("status: \(status)") }
        if let serverCode { parts.append("server code: \(serverCode)") }
        if let serverMessage { parts.append("message: \(serverMessage)") }
        if let logReference { parts.append("log reference: \(logReference)") }
        if let retryAfter { parts.append("retry after: \(retryAfter)") }
        return parts.joined(separator: ", ") + ")"
    }

    /// Whether trying the same thing again later may succeed (connection trouble, timeouts,
    /// 5xx, rate limits).
    public var isTransient: Bool {
        switch code {
        case .connectionFailed, .timeout, .dnsFailure, .serviceUnavailable, .rateLimited, .transportFailure:
            return true
        default:
            return false
        }
    }

    /// Returns a copy that names the provider.
    public func with(provider: String) -> AuthError {
        var copy = self
        copy.provider = provider
        return copy
    }

    /// Returns a copy that names `provider` unless the error already names one.
    package func attributed(to provider: String) -> AuthError {
        self.provider == nil ? with(provider: provider) : self
    }

    /// Keeps messages printable and short: no control characters, at most `limit` characters.
    static func sanitize(_ text: String, limit: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .format:
                // Line breaks and invisible format characters (bidi overrides) could forge log lines.
                scalars.append(" ")
            default:
                scalars.append(scalar)
            }
        }
        let cleaned = String(scalars).trimmingWhitespace()
        if cleaned.count <= limit { return cleaned }
        return String(cleaned.prefix(limit)) + "…"
    }
}

extension AuthError: Equatable {
    /// Two errors are equal when their codes are equal.
    public static func == (lhs: AuthError, rhs: AuthError) -> Bool { lhs.code == rhs.code }
}

extension AuthError {
    /// A status the flow did not expect.
    public static func unexpectedStatus(_ status: Int, provider: String? = nil, message: String? = nil) -> AuthError {
        AuthError(.unexpectedStatus, provider: provider, status: status, message: message)
    }

    /// A response that could not be understood.
    public static func malformedResponse(_ message: String, provider: String? = nil, status: Int? = nil) -> AuthError {
        AuthError(.malformedResponse, provider: provider, status: status, message: message)
    }

    /// A URL that may not carry credentials.
    public static func insecureURL(_ url: URLDescription, provider: String? = nil) -> AuthError {
        AuthError(.insecureURL, provider: provider, message: "credentials are sent only over https (or http to loopback); refused \(url.text)")
    }
}

/// A URL reduced to scheme, host and path, so that no query (which may hold a code or token)
/// reaches an error message.
public struct URLDescription: Sendable {
    /// The reduced text.
    public let text: String
}

extension String {
    package func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}

public import AuthCore
import AuthTesting
public import HTTPTypes
public import Foundation
public import ProfitAuth

/// A behavioural fake of AFAS Profit's token services, for tests and demos.
///
/// Put it where the provider's transport goes; it answers for any host (nothing leaves the
/// process) and routes on the path. It answers like Profit does, strictly:
/// - `POST …/OtpRequest` answers 201 with an empty body whatever the keys (as Profit does), but
///   only "e-mails" a code (recorded in ``outbox``) when the keys match and the user exists with
///   an e-mail address.
/// - `POST …/OtpValidation` accepts each code once, for the user it was sent to, within
///   ``otpLifetime``; it answers `{"token": "<token>…</token>\r\n"}`.
/// - `GET …/ProfitVersion`, `GET …/metainfo` and `GET …/connectors/<id>` demand the header
///   `Authorization: AfasToken <Base64 of the token XML>`, byte for byte.
/// - `tokenconnector.asmx` (SOAP 1.1, namespace `urn:Afas.Profit.Services`) offers `GenerateOTP`,
///   `GetTokenFromOTP` and `DeleteToken`; `appconnectorget.asmx` (`GetData`, `GetDataWithOptions`)
///   and `appconnectorversioninfo.asmx` (`GetVersionInfo`) accept the header or the legacy
///   `<token>` element.
/// - A missing, wrongly encoded, unknown, revoked or expired token gets 401 with
///   `{"externalMessage": "Ongeldige token", "errorNumber": …, "profitLogReference": …}`.
///
/// The clock is injectable and can be moved with ``advanceClock(by:)``; state sits behind a lock,
/// so one sandbox serves many tasks.
///
/// ```swift
/// let sandbox = ProfitSandbox(apiKey: apiKey, environmentKey: environmentKey, users: ["DavidB": "david@example.com"])
/// let provider = ProfitProvider(environment: try ProfitEnvironment(number: "12345"), keys: keys, transport: sandbox, key: TokenKey(provider: "profit", account: "DavidB"))
/// try await provider.requestOTP(userId: "DavidB")
/// let code = try #require(sandbox.latestCode(for: "DavidB"))
/// try await provider.redeemOTP(code, userId: "DavidB")
/// ```
public final class ProfitSandbox: HTTPTransport {
    /// One e-mail with an activation code.
    public struct Mail: Sendable, Equatable {
        /// The Profit user the code is for.
        public let userId: String
        /// The address it went to.
        public let address: String
        /// The activation code.
        public let code: Secret
        /// The device description (SOAP `GenerateOTP` only).
        public let deviceDescription: String?
        /// When it was sent, on the sandbox clock.
        public let sentAt: Date
    }

    /// One request the sandbox answered.
    public struct Call: Sendable, Equatable {
        /// The method.
        public let method: String
        /// The URL path.
        public let path: String
        /// The SOAP operation, for SOAP calls.
        public let operation: String?
        /// The status the sandbox answered with.
        public let status: Int
    }

    struct PendingCode {
        let userId: String
        let code: String
        let expiresAt: Date
        var isUsed = false
    }

    struct IssuedToken {
        let xml: String
        let userId: String
        let deviceDescription: String?
        let expiresAt: Date?
        var isRevoked = false
    }

    struct State {
        var users: [String: String?]
        var clockOffset: TimeInterval = 0
        var outbox: [Mail] = []
        var codes: [PendingCode] = []
        var tokens: [IssuedToken] = []
        var calls: [Call] = []
        var isForbidden = false
        var echoesRequests = false
        var unavailableRetryAfter: Int?
        var logCounter = 0
    }

    /// How long an activation code is valid. (Profit does not document it; 10 minutes by default.)
    public let otpLifetime: Duration
    /// The app connector's validity period for new tokens; `nil` (default) means they do not expire.
    public let tokenValidity: Duration?
    let apiKey: Secret
    let environmentKey: Secret
    let clock: @Sendable () -> Date
    let state: Locked<State>

    /// Creates a sandbox for one app connector.
    ///
    /// - Parameters:
    ///   - apiKey: The app connector's API key.
    ///   - environmentKey: The app connector's environment key.
    ///   - users: Profit user ids in the app connector's user group, with their e-mail address
    ///     (`nil`: no address, so no code is ever sent).
    ///   - otpLifetime: How long a code stays valid.
    ///   - tokenValidity: The app connector's validity period, reported by `metainfo`.
    ///   - now: The base clock; ``advanceClock(by:)`` moves the sandbox's time past it.
    public init(
        apiKey: Secret,
        environmentKey: Secret,
        users: [String: String?],
        otpLifetime: Duration = .seconds(600),
        tokenValidity: Duration? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.apiKey = apiKey
        self.environmentKey = environmentKey
        self.otpLifetime = otpLifetime
        self.tokenValidity = tokenValidity
        self.clock = now
        self.state = Locked(State(users: users))
    }

    // MARK: - Inspection and control

    /// The sandbox's current time: the base clock plus every ``advanceClock(by:)``.
    public var now: Date { clock().addingTimeInterval(state.withLock { $0.clockOffset }) }

    /// Moves the sandbox's time forward (codes and tokens lapse; nothing sleeps).
    public func advanceClock(by duration: Duration) {
        state.withLock { $0.clockOffset += duration.timeInterval }
    }

    /// Every e-mail sent, oldest first.
    public var outbox: [Mail] { state.withLock { $0.outbox } }

    /// The newest code e-mailed to `userId`, or `nil`.
    public func latestCode(for userId: String) -> Secret? {
        state.withLock { $0.outbox.last { $0.userId == userId }?.code }
    }

    /// Every request answered, oldest first.
    public var calls: [Call] { state.withLock { $0.calls } }

    /// How many issued tokens are neither revoked nor expired.
    public var activeTokenCount: Int {
        let now = self.now
        return state.withLock { $0.tokens.filter { !$0.isRevoked && !($0.expiresAt.map { now >= $0 } ?? false) }.count }
    }

    /// Issues a token by hand, as an administrator adds one to the app connector.
    ///
    /// - Throws: Never in practice: the token is built from 64 hex digits.
    public func issueToken(for userId: String, deviceDescription: String? = nil) throws(AuthError) -> ProfitToken {
        let now = self.now
        let xml = state.withLock { state in Self.issue(in: &state, userId: userId, description: deviceDescription, now: now, validity: tokenValidity) }
        return try ProfitToken(xml)
    }

    /// Revokes `token` (an administrator deletes it); `false` when the sandbox never issued it.
    @discardableResult
    public func revoke(_ token: ProfitToken) -> Bool {
        state.withLock { state in
            guard let index = state.tokens.firstIndex(where: { token.xml.matches($0.xml) }) else { return false }
            state.tokens[index].isRevoked = true
            return true
        }
    }

    /// Revokes every token issued so far.
    public func revokeAllTokens() {
        state.withLock { state in
            for index in state.tokens.indices { state.tokens[index].isRevoked = true }
        }
    }

    /// Makes every error answer repeat the request it answers (body and token header) in its
    /// `externalMessage` (or SOAP `faultstring`), as careless servers do: for tests that prove no
    /// echoed secret reaches an error.
    public func setEchoesRequests(_ echoes: Bool) {
        state.withLock { $0.echoesRequests = echoes }
    }

    /// Makes every authorized call answer 403, as an IP restriction on the app connector does.
    public func setIPRestricted(_ restricted: Bool) {
        state.withLock { $0.isForbidden = restricted }
    }

    /// Makes every call answer 503 with `"retry_after": seconds`; `nil` ends the outage.
    public func setUnavailable(retryAfter seconds: Int?) {
        state.withLock { $0.unavailableRetryAfter = seconds }
    }

    // MARK: - HTTPTransport

    /// Answers `request` as Profit would.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await handle(OutgoingRequest(request, body: body)).pair
    }

    func handle(_ request: OutgoingRequest) async throws -> Reply {
        let now = self.now
        let components = request.url.path.lowercased().split(separator: "/").map(String.init)
        let last = components.last ?? ""
        var operation: String?
        let response: Reply = state.withLock { state in
            if let seconds = state.unavailableRetryAfter {
                return Self.profitError(503, "De omgeving is tijdelijk niet beschikbaar", number: nil, state: &state, extra: ["retry_after": seconds])
            }
            if last.hasSuffix(".asmx") {
                let result = soap(request, service: last, now: now, state: &state)
                operation = result.operation
                return result.response
            }
            switch last {
            case "otprequest": return otpRequest(request, now: now, state: &state)
            case "otpvalidation": return otpValidation(request, now: now, state: &state)
            default: return authorizedREST(request, components: components, now: now, state: &state)
            }
        }
        let echoes = state.withLock { state -> Bool in
            state.calls.append(Call(method: request.method.rawValue, path: request.url.path, operation: operation, status: response.status))
            return state.echoesRequests
        }
        guard echoes, response.status >= 400 else { return response }
        let echo = "could not process: \(String(decoding: request.body ?? Data(), as: UTF8.self)) (Authorization: \(request.headerFields[.authorization] ?? "none"))"
        if response.text.hasPrefix("<") {
            let text = response.text.replacingOccurrences(of: "</faultstring>", with: " " + SOAPMessage.escape(echo) + "</faultstring>")
            return Reply(status: response.status, headerFields: response.headerFields, body: Data(text.utf8))
        }
        var object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        object["externalMessage"] = echo
        guard let body = try? JSONSerialization.data(withJSONObject: object) else { return response }
        return Reply(status: response.status, headerFields: response.headerFields, body: body)
    }

    // MARK: - REST

    func otpRequest(_ request: OutgoingRequest, now: Date, state: inout State) -> Reply {
        guard request.method == .post else { return Self.profitError(405, "Methode niet toegestaan", number: nil, state: &state) }
        guard let fields = Self.jsonFields(request) else {
            return Self.profitError(400, "Ongeldige aanvraag: verwacht een JSON-object", number: nil, state: &state)
        }
        guard let key = fields["apikey"], let token = fields["apitoken"], let user = fields["userid"] else {
            return Self.profitError(400, "Ongeldige aanvraag: apiKey, apiToken en userId zijn verplicht", number: nil, state: &state)
        }
        // Profit answers the same whether or not the keys and user are right.
        if apiKey.matches(key), environmentKey.matches(token) {
            Self.sendCode(in: &state, userId: user, description: nil, now: now, lifetime: otpLifetime)
        }
        return Reply(status: 201)
    }

    func otpValidation(_ request: OutgoingRequest, now: Date, state: inout State) -> Reply {
        guard request.method == .post else { return Self.profitError(405, "Methode niet toegestaan", number: nil, state: &state) }
        guard let fields = Self.jsonFields(request) else {
            return Self.profitError(400, "Ongeldige aanvraag: verwacht een JSON-object", number: nil, state: &state)
        }
        guard let key = fields["apikey"], let token = fields["apitoken"], let user = fields["userid"], let otp = fields["otp"] else {
            return Self.profitError(400, "Ongeldige aanvraag: apiKey, apiToken, userId en otp zijn verplicht", number: nil, state: &state)
        }
        guard apiKey.matches(key), environmentKey.matches(token) else {
            return Self.profitError(500, "Ongeldige API-sleutel of omgevingssleutel", number: "-2146233088", state: &state)
        }
        guard let xml = Self.redeem(in: &state, userId: user, otp: otp, description: nil, now: now, validity: tokenValidity) else {
            return Self.profitError(500, "De activatiecode is ongeldig of verlopen", number: "-2146233079", state: &state)
        }
        return .json(200, "{\"token\":\"\(xml)\\r\\n\"}")
    }

    func authorizedREST(_ request: OutgoingRequest, components: [String], now: Date, state: inout State) -> Reply {
        let check = Self.checkHeader(request, now: now, state: &state)
        guard case .valid(let index) = check else { return Self.tokenError(check, state: &state) }
        if state.isForbidden {
            return Self.profitError(403, "Toegang geweigerd: IP-adres niet toegestaan", number: nil, state: &state)
        }
        guard request.method == .get else { return Self.profitError(405, "Methode niet toegestaan", number: nil, state: &state) }
        let last = components.last ?? ""
        if last == "profitversion" { return .json(200, #"{"version":"Profit 6 (sandbox)"}"#) }
        if last == "metainfo" {
            var info = #""environmentType":"sandbox""#
            if let expiry = state.tokens[index].expiresAt {
                info += #","tokenExpiry":""# + Self.isoString(expiry) + "\""
            }
            return .json(200, #"{"info":{"# + info + #"},"getConnectors":[{"id":"Profit_Debtors"}],"updateConnectors":[]}"#)
        }
        if components.count >= 2, components[components.count - 2] == "connectors" {
            return .json(200, #"{"skip":0,"take":100,"rows":[{"DebtorId":"10001","Name":"Sandbox Trading BV"}]}"#)
        }
        return Self.profitError(404, "Onbekende connector of URL", number: nil, state: &state)
    }

    // MARK: - Shared rules

    enum TokenCheck {
        case valid(Int)
        case missing
        case malformed
        case rejected
    }

    static func checkHeader(_ request: OutgoingRequest, now: Date, state: inout State) -> TokenCheck {
        let values = request.headerFields[values: .authorization]
        guard values.count == 1, let value = values.first else { return values.isEmpty ? .missing : .malformed }
        let prefix = "AfasToken "
        guard value.hasPrefix(prefix), let data = Data(base64Encoded: String(value.dropFirst(prefix.count))),
              let xml = String(data: data, encoding: .utf8) else { return .malformed }
        return checkXML(xml, now: now, state: &state)
    }

    static func checkXML(_ xml: String, now: Date, state: inout State) -> TokenCheck {
        guard let index = state.tokens.firstIndex(where: { Secret($0.xml).matches(xml) }) else { return .rejected }
        let token = state.tokens[index]
        if token.isRevoked { return .rejected }
        if let expiresAt = token.expiresAt, now >= expiresAt { return .rejected }
        return .valid(index)
    }

    static func tokenError(_ check: TokenCheck, state: inout State) -> Reply {
        switch check {
        case .missing: return profitError(401, "Geen token opgegeven", number: nil, state: &state)
        case .malformed: return profitError(401, "Ongeldige token: verwacht AfasToken met Base64", number: nil, state: &state)
        case .rejected, .valid: return profitError(401, "Ongeldige token", number: nil, state: &state)
        }
    }

    @discardableResult
    static func sendCode(in state: inout State, userId: String, description: String?, now: Date, lifetime: Duration) -> Bool {
        guard let entry = state.users[userId], let address = entry else { return false }
        let code = String(format: "%08u", UInt32.random(in: 0..<100_000_000))
        state.codes.append(PendingCode(userId: userId, code: code, expiresAt: now.addingTimeInterval(lifetime.timeInterval)))
        state.outbox.append(Mail(userId: userId, address: address, code: Secret(code), deviceDescription: description, sentAt: now))
        return true
    }

    static func redeem(in state: inout State, userId: String, otp: String, description: String?, now: Date, validity: Duration?) -> String? {
        guard let index = state.codes.firstIndex(where: { $0.userId == userId && Secret($0.code).matches(otp) }),
              !state.codes[index].isUsed, now < state.codes[index].expiresAt else { return nil }
        state.codes[index].isUsed = true
        return issue(in: &state, userId: userId, description: description, now: now, validity: validity)
    }

    static func issue(in state: inout State, userId: String, description: String?, now: Date, validity: Duration?) -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02X", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let xml = "<token><version>1</version><data>\(hex)</data></token>"
        state.tokens.append(IssuedToken(xml: xml, userId: userId, deviceDescription: description,
                                        expiresAt: validity.map { now.addingTimeInterval($0.timeInterval) }))
        return xml
    }

    static func profitError(_ status: Int, _ message: String, number: String?, state: inout State, extra: [String: Int] = [:]) -> Reply {
        state.logCounter += 1
        var object: [String: Any] = [
            "externalMessage": message,
            "profitLogReference": "SANDBOX-\(state.logCounter)",
        ]
        if let number { object["errorNumber"] = Int(number) ?? number }
        for (key, value) in extra { object[key] = value }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Reply(status: status, headerFields: [.contentType: "application/json; charset=utf-8"], body: data)
    }

    static func soapResult(_ operation: String, _ text: String) -> Reply {
        let xml = #"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#
            + #"<\#(operation)Response xmlns="urn:Afas.Profit.Services"><\#(operation)Result>"# + SOAPMessage.escape(text)
            + "</\(operation)Result></\(operation)Response></soap:Body></soap:Envelope>"
        return Reply(status: 200, headerFields: [.contentType: "text/xml; charset=utf-8"], body: Data(xml.utf8))
    }

    static func fault(_ status: Int, _ code: String, _ message: String) -> Reply {
        let xml = #"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>"#
            + "<faultcode>soap:\(code)</faultcode><faultstring>\(SOAPMessage.escape(message))</faultstring></soap:Fault></soap:Body></soap:Envelope>"
        return Reply(status: status, headerFields: [.contentType: "text/xml; charset=utf-8"], body: Data(xml.utf8))
    }

    /// The JSON object of a request, with lower-cased keys (Profit's binding ignores case).
    static func jsonFields(_ request: OutgoingRequest) -> [String: String]? {
        guard request.headerFields[.contentType]?.lowercased().hasPrefix("application/json") == true,
              let body = request.body,
              let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return nil }
        var fields: [String: String] = [:]
        for (key, value) in object {
            if let text = value as? String { fields[key.lowercased()] = text }
        }
        return fields
    }

    static func isoString(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

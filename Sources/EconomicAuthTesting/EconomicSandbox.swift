public import AuthCore
public import AuthTesting
public import HTTPTypes
import EconomicAuth
public import Foundation

/// A behavioural fake of e-conomic for tests: the grant page, the REST API and the SOAP
/// web service, in memory.
///
/// Use it as the ``HTTPTransport`` of an `EconomicProvider` or `EconomicSOAPSession`. It
/// routes on the path, so the real default URLs work as they are, as does any base URL.
/// It is as strict as the real service:
/// - **Grant page** (`…/secure/api1/requestaccess.aspx`): needs the app's public token
///   (`appPublicToken` or `appId`) and a documented `locale` when one is given. With
///   ``grantingAgreement`` set it issues a new AgreementGrantToken and redirects (302) to the
///   decoded `redirectUrl` with `token=` appended (`&` when it has a query, else `?`); without
///   `redirectUrl` it shows the token on an HTML page.
/// - **REST**: `GET /self`, `GET /customers`, `POST /customers`, `GET /customers/{n}`. Both
///   token headers are required (401 with e-conomic's error body otherwise, and for a revoked
///   grant); a body that is not `application/json` gets 415.
/// - **SOAP** (`…/EconomicWebService.asmx`): `ConnectWithToken` checks both tokens and sets two
///   cookies (a session cookie and a load-balancer cookie with an `Expires` date); every other
///   operation (`Agreement_GetNumber`, `Company_GetName`, `Disconnect`) needs both cookies of a
///   live session, else it answers the fault `AuthenticationException(E02250)`. Sessions end
///   after ``sessionTimeout`` without use (on the injected clock), on ``expireSessions()``,
///   on `Disconnect`, and when their grant is revoked.
///
/// State is behind a lock, so the sandbox serves many tasks at once, and it can be inspected
/// (``connectCount``, ``activeSessionCount``, ``requests``).
///
/// ```swift
/// let sandbox = EconomicSandbox()
/// let grant = sandbox.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
/// let provider = try EconomicProvider(
///     credentials: EconomicCredentials(appSecretToken: sandbox.appSecretToken, agreementGrantToken: grant),
///     transport: sandbox
/// )
/// let agreement = try await provider.validate()
/// ```
public final class EconomicSandbox: HTTPTransport {
    /// The agreement the sandbox starts with.
    public static let defaultAgreementNumber = 1_000_001

    struct Agreement {
        var number: Int
        var companyName: String
        var customers: [(number: Int, name: String)]
    }

    struct Session {
        var agreementNumber: Int
        var grant: String
        var balancerCookie: String
        var lastUsed: Date
    }

    struct State {
        var agreements: [Int: Agreement] = [:]
        var grants: [String: Int] = [:]
        var sessions: [String: Session] = [:]
        var grantingAgreement: Int?
        var joinsSetCookieHeaders = false
        var connectCount = 0
        var soapCallCount = 0
        var restRequestCount = 0
        var requests: [MockTransport.Request] = []
        var serial = 0
    }

    /// The app's public token (in its requestURL; not a secret).
    public let appPublicToken: String
    /// The app's secret token the sandbox accepts.
    public let appSecretToken: Secret
    /// How long a SOAP session lives without use.
    public let sessionTimeout: Duration
    let now: @Sendable () -> Date
    let state = Locked(State())

    /// Creates a sandbox with one agreement (``defaultAgreementNumber``), which also grants
    /// requests on the grant page.
    ///
    /// - Parameters:
    ///   - appPublicToken: The app's public token.
    ///   - appSecretToken: The app's secret token.
    ///   - sessionTimeout: Idle time after which a SOAP session ends. Default 20 minutes.
    ///   - now: The clock; tests move it instead of sleeping.
    public init(
        appPublicToken: String = "sandbox-app-public-token",
        appSecretToken: Secret = Secret("sandbox-app-secret-token"),
        sessionTimeout: Duration = .seconds(20 * 60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.appPublicToken = appPublicToken
        self.appSecretToken = appSecretToken
        self.sessionTimeout = sessionTimeout
        self.now = now
        state.withLock { state in
            state.agreements[Self.defaultAgreementNumber] = Agreement(
                number: Self.defaultAgreementNumber, companyName: "Sandbox Company A/S",
                customers: [(1, "Blue Harbour ApS"), (2, "Nordlys AS")]
            )
            state.grantingAgreement = Self.defaultAgreementNumber
        }
    }

    // MARK: - Setting up

    /// The app's requestURL on the real host (the sandbox routes on the path).
    public var requestURL: URL {
        EconomicGrantRequest(appPublicToken: appPublicToken).requestURL
    }

    /// Adds an agreement (a customer of the app).
    public func addAgreement(number: Int, companyName: String) {
        state.withLock { $0.agreements[number] = Agreement(number: number, companyName: companyName, customers: [(1, "First Customer")]) }
    }

    /// Which agreement's administrator approves the next visit of the grant page; `nil` makes
    /// the page show "not logged in" without granting.
    public var grantingAgreement: Int? {
        get { state.withLock { $0.grantingAgreement } }
        set { state.withLock { $0.grantingAgreement = newValue } }
    }

    /// Whether `Set-Cookie` is sent as one comma-joined field (as URLSession on Linux delivers
    /// it) instead of one field per cookie.
    public var joinsSetCookieHeaders: Bool {
        get { state.withLock { $0.joinsSetCookieHeaders } }
        set { state.withLock { $0.joinsSetCookieHeaders = newValue } }
    }

    /// Issues a new AgreementGrantToken for an agreement, as if its administrator granted the
    /// app access. An unknown agreement is created.
    public func issueGrant(agreementNumber: Int) -> Secret {
        state.withLock { state in
            if state.agreements[agreementNumber] == nil {
                state.agreements[agreementNumber] = Agreement(number: agreementNumber, companyName: "Agreement \(agreementNumber)", customers: [])
            }
            return Secret(Self.newGrant(&state, agreementNumber: agreementNumber))
        }
    }

    /// Revokes a grant, as a customer removing the app does: REST answers 401, SOAP sessions
    /// opened with it end, and `ConnectWithToken` refuses it.
    public func revokeGrant(_ grant: Secret) {
        state.withLock { state in
            state.grants[grant.revealed] = nil
            state.sessions = state.sessions.filter { !grant.matches($0.value.grant) }
        }
    }

    /// Ends every SOAP session now (as an idle timeout or a server restart would).
    public func expireSessions() {
        state.withLock { $0.sessions.removeAll() }
    }

    // MARK: - Inspecting

    /// How many `ConnectWithToken` calls arrived.
    public var connectCount: Int { state.withLock { $0.connectCount } }
    /// How many SOAP calls other than `ConnectWithToken` arrived.
    public var soapCallCount: Int { state.withLock { $0.soapCallCount } }
    /// How many REST requests arrived.
    public var restRequestCount: Int { state.withLock { $0.restRequestCount } }
    /// The number of live SOAP sessions (idle ones past the timeout are not counted).
    public var activeSessionCount: Int {
        let now = now()
        return state.withLock { state in state.sessions.values.filter { !Self.isExpired($0, now: now, timeout: sessionTimeout) }.count }
    }
    /// The number of grants that are not revoked.
    public var activeGrantCount: Int { state.withLock { $0.grants.count } }
    /// Every request received, in order.
    public var requests: [MockTransport.Request] { state.withLock { $0.requests } }

    // MARK: - Serving

    /// Answers `request` like e-conomic would.
    public func send(_ request: HTTPRequest, body: Data?) async throws -> (HTTPResponse, Data) {
        try await handle(OutgoingRequest(request, body: body)).pair
    }

    func handle(_ request: OutgoingRequest) async throws -> Reply {
        state.withLock { $0.requests.append(MockTransport.Request(head: request.head, body: request.body)) }
        let path = request.url.path.lowercased()
        if path.hasSuffix("/secure/api1/requestaccess.aspx") {
            return grantPage(request)
        }
        if path.hasSuffix("/economicwebservice.asmx") {
            return soap(request)
        }
        return rest(request)
    }

    // MARK: Grant page

    func grantPage(_ request: OutgoingRequest) -> Reply {
        guard request.method == .get else { return Self.html(405, "Method not allowed") }
        let items = FormEncoding.queryItems(of: request.url)
        func value(_ name: String) -> String? { items.first { $0.0.lowercased() == name.lowercased() }?.1 }
        guard let app = value("appPublicToken") ?? value("appId"), app == appPublicToken else {
            return Self.html(400, "Unknown app: the requestURL does not carry a known appPublicToken")
        }
        if let locale = value("locale"), !EconomicGrantRequest.Locale.documented.map(\.rawValue).contains(locale) {
            return Self.html(400, "Unsupported locale")
        }
        let redirect = value("redirectUrl")
        if let redirect {
            guard let target = URL(string: redirect), let scheme = target.scheme?.lowercased(), scheme == "https" || scheme == "http", target.host != nil else {
                return Self.html(400, "The redirectUrl is not a valid absolute URL (was it URL-encoded as a whole?)")
            }
        }
        let grant: String? = state.withLock { state in
            guard let number = state.grantingAgreement else { return nil }
            return Self.newGrant(&state, agreementNumber: number)
        }
        guard let grant else {
            return Self.html(200, "Log in to an accounting agreement to grant access")
        }
        guard let redirect else {
            return Self.html(200, "Access granted. Your token: <code>\(grant)</code>")
        }
        let separator = redirect.contains("?") ? "&" : "?"
        let location = redirect + separator + "token=" + FormEncoding.encodeComponent(grant)
        return Reply(status: 302, headerFields: [.location: location, .contentType: "text/html; charset=utf-8"], body: Data("<html><body>Object moved</body></html>".utf8))
    }

    // MARK: REST

    func rest(_ request: OutgoingRequest) -> Reply {
        let agreementNumber: Int? = state.withLock { state in
            state.restRequestCount += 1
            guard let app = request.headerFields[.economicAppSecretToken], appSecretToken.matches(app),
                  let grant = request.headerFields[.economicAgreementGrantToken] else { return nil }
            return state.grants[grant]
        }
        guard let agreementNumber else {
            return Self.restError(401, "Unauthorized access (401): the AppSecretToken or AgreementGrantToken is missing, wrong or revoked.",
                                  hint: "Send X-AppSecretToken and X-AgreementGrantToken headers")
        }
        if let body = request.body, !body.isEmpty {
            let type = request.headerFields[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/json") else {
                return Self.restError(415, "Unsupported media type (415): only application/json is accepted.", hint: "Set Content-Type: application/json")
            }
        }
        let parts = request.url.pathComponents.filter { $0 != "/" }.map { $0.lowercased() }
        guard let last = parts.last else { return Self.restError(404, "Not found (404).", hint: nil) }
        switch (request.method, last, parts.dropLast().last) {
        case (.get, "self", _):
            return selfResponse(agreementNumber)
        case (.get, "customers", _):
            let customers = state.withLock { $0.agreements[agreementNumber]?.customers ?? [] }
            let items = customers.map { #"{"customerNumber":\#($0.number),"name":"\#(Self.jsonEscape($0.name))","currency":"DKK"}"# }
            return .json(200, #"{"collection":[\#(items.joined(separator: ","))],"pagination":{"pageSize":20,"skipPages":0,"results":\#(customers.count)}}"#)
        case (.post, "customers", _):
            guard let body = request.body,
                  let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                  let name = object["name"] as? String, !name.isEmpty else {
                return Self.restError(400, "Validation error (400): name is required.", hint: "Send a JSON object with a name")
            }
            let number = state.withLock { state -> Int in
                let next = (state.agreements[agreementNumber]?.customers.map(\.number).max() ?? 0) + 1
                state.agreements[agreementNumber]?.customers.append((next, name))
                return next
            }
            return .json(201, #"{"customerNumber":\#(number),"name":"\#(Self.jsonEscape(name))","currency":"DKK"}"#)
        case (.get, let number, "customers"?):
            let found = state.withLock { $0.agreements[agreementNumber]?.customers.first { String($0.number) == number } }
            guard let found else { return Self.restError(404, "Customer not found (404).", hint: nil) }
            return .json(200, #"{"customerNumber":\#(found.number),"name":"\#(Self.jsonEscape(found.name))","currency":"DKK"}"#)
        default:
            return Self.restError(404, "Not found (404).", hint: nil)
        }
    }

    func selfResponse(_ agreementNumber: Int) -> Reply {
        let company = state.withLock { $0.agreements[agreementNumber]?.companyName ?? "" }
        let body = """
        {"agreementNumber":\(agreementNumber),"agreementType":{"agreementTypeNumber":1,"name":"Professional"},\
        "company":{"name":"\(Self.jsonEscape(company))","vatNumber":"DK12345678","country":"Denmark"},\
        "application":{"appNumber":42,"appPublicToken":"\(Self.jsonEscape(appPublicToken))","name":"Sandbox App",\
        "requiredRoles":[{"roleNumber":1,"name":"SuperUser"}]},\
        "user":{"loginId":"admin","name":"Sandbox Administrator","email":"admin@example.com"},\
        "settings":{"baseCurrency":"DKK"},"canSendElectronicInvoice":true}
        """
        return .json(200, body)
    }

    // MARK: - Helpers

    static let balancerCookieName = "BIGipServerapi-pool"

    static func newGrant(_ state: inout State, agreementNumber: Int) -> String {
        state.serial += 1
        let grant = randomHex(20) + String(state.serial)
        state.grants[grant] = agreementNumber
        return grant
    }

    static func isExpired(_ session: Session, now: Date, timeout: Duration) -> Bool {
        now.timeIntervalSince(session.lastUsed) >= timeout.timeInterval
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let text = String(UInt8.random(in: 0...255, using: &generator), radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    static func cookies(in header: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            result[pair[0].trimmingCharacters(in: .whitespaces)] = pair[1].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    static func html(_ status: Int, _ text: String) -> Reply {
        Reply(status: status, headerFields: [.contentType: "text/html; charset=utf-8"],
                     body: Data("<!DOCTYPE html><html><body><p>\(text)</p></body></html>".utf8))
    }

    static func restError(_ status: Int, _ message: String, hint: String?) -> Reply {
        var fields = [#""message":"\#(jsonEscape(message))""#]
        if let hint { fields.append(#""developerHint":"\#(jsonEscape(hint))""#) }
        fields.append(#""logId":"sandbox-\#(randomHex(4))""#)
        fields.append(#""httpStatusCode":\#(status)"#)
        fields.append(#""logTime":"2026-01-01T00:00:00""#)
        return .json(status, "{" + fields.joined(separator: ",") + "}")
    }

    static func soapEnvelope(_ body: String) -> String {
        #"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>"#
            + body + "</soap:Body></soap:Envelope>"
    }

    static func soapResult(_ operation: String, _ result: String?) -> Reply {
        let inner = result.map { "<\(operation)Result>\(SOAPMessage.escape($0))</\(operation)Result>" } ?? ""
        let xml = soapEnvelope(#"<\#(operation)Response xmlns="http://e-conomic.com">\#(inner)</\#(operation)Response>"#)
        return Reply(status: 200, headerFields: [.contentType: "text/xml; charset=utf-8"], body: Data(xml.utf8))
    }

    static func soapFault(_ code: String, _ message: String, detail: String?) -> Reply {
        let detailXML = detail.map { "<detail><ErrorNumber>\(SOAPMessage.escape($0))</ErrorNumber></detail>" } ?? ""
        let xml = soapEnvelope("<soap:Fault><faultcode>\(code)</faultcode><faultstring>\(SOAPMessage.escape(message))</faultstring>\(detailXML)</soap:Fault>")
        return Reply(status: 500, headerFields: [.contentType: "text/xml; charset=utf-8"], body: Data(xml.utf8))
    }

    static func jsonEscape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

import AuthCore
import AuthTesting
import HTTPTypes
import EconomicAuth
import Foundation

/// The SOAP endpoint of the sandbox: ConnectWithToken sessions and the operations they allow.
extension EconomicSandbox {
    // MARK: SOAP

    func soap(_ request: OutgoingRequest) -> Reply {
        guard request.method == .post else { return Self.html(405, "Method not allowed") }
        guard request.headerFields[.contentType]?.lowercased().hasPrefix("text/xml") == true else {
            return Self.html(415, "Unsupported media type: SOAP 1.1 needs text/xml")
        }
        let action = (request.headerFields[.soapAction] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        let prefix = EconomicEndpoints.soapNamespace + "/"
        guard action.hasPrefix(prefix) else {
            return Self.soapFault("soap:Client", "Server did not recognize the value of HTTP Header SOAPAction: \(action).", detail: nil)
        }
        let operation = String(action.dropFirst(prefix.count))
        guard let body = request.body, let message = try? SOAPMessage(parsing: body), message.text(of: operation) != nil else {
            return Self.soapFault("soap:Client", "The request body is not a SOAP envelope for \(operation).", detail: nil)
        }
        if operation == "ConnectWithToken" {
            return connect(message)
        }
        let now = now()
        let cookies = Self.cookies(in: request.headerFields[.cookie] ?? "")
        let session: Session? = state.withLock { state in
            state.soapCallCount += 1
            guard let id = cookies["ASP.NET_SessionId"], var session = state.sessions[id] else { return nil }
            guard cookies[Self.balancerCookieName] == session.balancerCookie,
                  !Self.isExpired(session, now: now, timeout: sessionTimeout) else {
                state.sessions[id] = nil
                return nil
            }
            session.lastUsed = now
            state.sessions[id] = operation == "Disconnect" ? nil : session
            return session
        }
        guard let session else {
            return Self.soapFault("soap:Server", "Economic.Api.Exceptions.AuthenticationException(E02250): Not logged in. (Id=sandbox)", detail: "E02250")
        }
        switch operation {
        case "Disconnect":
            return Self.soapResult(operation, nil)
        case "Agreement_GetNumber":
            return Self.soapResult(operation, String(session.agreementNumber))
        case "Company_GetName":
            let name = state.withLock { $0.agreements[session.agreementNumber]?.companyName ?? "" }
            return Self.soapResult(operation, name)
        default:
            return Self.soapFault("soap:Client", "Economic.Api.Exceptions.ServerException(E00000): The sandbox does not implement \(operation).", detail: nil)
        }
    }

    func connect(_ message: SOAPMessage) -> Reply {
        let now = now()
        let outcome: (String, String)? = state.withLock { state in
            state.connectCount += 1
            guard let app = message.text(of: "appToken"), appSecretToken.matches(app),
                  let grant = message.text(of: "token"), let number = state.grants[grant] else { return nil }
            state.serial += 1
            let id = Self.randomHex(12) + String(state.serial)
            let balancer = "\(state.serial % 7 + 1).20480.0000"
            state.sessions[id] = Session(agreementNumber: number, grant: grant, balancerCookie: balancer, lastUsed: now)
            return (id, balancer)
        }
        guard let (id, balancer) = outcome else {
            return Self.soapFault("soap:Server", "Economic.Api.Exceptions.AuthorizationException(E02210): The token or appToken is not valid, or access was revoked.", detail: "E02210")
        }
        let cookies = [
            "ASP.NET_SessionId=\(id); path=/; secure; HttpOnly; SameSite=Lax",
            "\(Self.balancerCookieName)=\(balancer); Expires=Thu, 01 Jan 2099 00:00:00 GMT; path=/; Httponly; Secure",
        ]
        var response = Self.soapResult("ConnectWithToken", "sandbox-connected")
        if joinsSetCookieHeaders {
            response.headerFields.append(HTTPField(name: .setCookie, value: cookies.joined(separator: ", ")))
        } else {
            for cookie in cookies { response.headerFields.append(HTTPField(name: .setCookie, value: cookie)) }
        }
        return response
    }
}

import AuthCore
import AuthTesting
import HTTPTypes
import Foundation
import ProfitAuth

/// The SOAP endpoints of the sandbox: the token connector (OTP, token info, deletion) and its faults.
extension ProfitSandbox {
    // MARK: - SOAP

    func soap(_ request: OutgoingRequest, service: String, now: Date, state: inout State) -> (response: Reply, operation: String?) {
        guard request.method == .post, request.headerFields[.contentType]?.lowercased().contains("text/xml") == true else {
            return (Self.fault(415, "Client", "Expected a SOAP 1.1 POST with Content-Type text/xml"), nil)
        }
        let actionPrefix = "urn:Afas.Profit.Services/"
        var action = request.headerFields[.soapAction] ?? ""
        if action.hasPrefix("\""), action.hasSuffix("\""), action.count >= 2 { action = String(action.dropFirst().dropLast()) }
        guard action.hasPrefix(actionPrefix) else {
            return (Self.fault(500, "Client", "Unknown SOAPAction"), nil)
        }
        let operation = String(action.dropFirst(actionPrefix.count))
        guard let body = request.body, let message = try? SOAPMessage(parsing: body), message.text(of: operation) != nil else {
            return (Self.fault(500, "Client", "The body is not a SOAP envelope calling \(operation)"), operation)
        }
        func parameter(_ name: String) -> String? { message.text(of: name) }
        switch (service, operation) {
        case ("tokenconnector.asmx", "GenerateOTP"):
            guard let user = parameter("userId"), let key = parameter("apiKey"), let envKey = parameter("environmentKey") else {
                return (Self.fault(500, "Client", "userId, apiKey and environmentKey are required"), operation)
            }
            guard apiKey.matches(key), environmentKey.matches(envKey) else {
                return (Self.fault(500, "Server", "Ongeldige API-sleutel of omgevingssleutel"), operation)
            }
            guard Self.sendCode(in: &state, userId: user, description: parameter("description"), now: now, lifetime: otpLifetime) else {
                return (Self.fault(500, "Server", "De gebruiker heeft geen e-mailadres of is onbekend"), operation)
            }
            return (Self.soapResult(operation, ""), operation)
        case ("tokenconnector.asmx", "GetTokenFromOTP"):
            guard let user = parameter("userId"), let key = parameter("apiKey"), let envKey = parameter("environmentKey"), let otp = parameter("otp") else {
                return (Self.fault(500, "Client", "userId, apiKey, environmentKey and otp are required"), operation)
            }
            guard apiKey.matches(key), environmentKey.matches(envKey) else {
                return (Self.fault(500, "Server", "Ongeldige API-sleutel of omgevingssleutel"), operation)
            }
            guard let xml = Self.redeem(in: &state, userId: user, otp: otp, description: nil, now: now, validity: tokenValidity) else {
                return (Self.fault(500, "Server", "De activatiecode is ongeldig of verlopen"), operation)
            }
            return (Self.soapResult(operation, xml), operation)
        case ("tokenconnector.asmx", "DeleteToken"):
            guard let token = parameter("token"), let index = state.tokens.firstIndex(where: { $0.xml == token && !$0.isRevoked }) else {
                return (Self.fault(500, "Server", "Onbekende token"), operation)
            }
            state.tokens[index].isRevoked = true
            return (Self.soapResult(operation, ""), operation)
        case ("appconnectorget.asmx", "GetData"), ("appconnectorget.asmx", "GetDataWithOptions"),
             ("appconnectorversioninfo.asmx", "GetVersionInfo"):
            let check: TokenCheck
            if request.headerFields.contains(.authorization) {
                check = Self.checkHeader(request, now: now, state: &state)
            } else if let element = parameter("token") {
                check = Self.checkXML(element, now: now, state: &state)
            } else {
                check = .missing
            }
            guard case .valid = check else {
                return (Self.fault(401, "Server", "Ongeldige token"), operation)
            }
            if state.isForbidden { return (Self.fault(403, "Server", "Toegang geweigerd: IP-adres niet toegestaan"), operation) }
            if operation == "GetVersionInfo" { return (Self.soapResult(operation, "Profit 6 (sandbox)"), operation) }
            let connector = SOAPMessage.escape(parameter("connectorId") ?? "")
            let data = #"<AfasGetConnector><"# + connector + #"><Name>Sandbox Trading BV</Name></"# + connector + #"></AfasGetConnector>"#
            return (Self.soapResult(operation, data), operation)
        default:
            return (Self.fault(500, "Client", "Unknown operation \(operation) on \(service)"), operation)
        }
    }
}

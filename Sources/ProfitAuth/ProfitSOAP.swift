import AuthCore
import HTTPTypes
import Foundation

/// Profit's SOAP conventions: namespace, actions, and the legacy `<token>` element.
enum ProfitSOAP {
    static let namespace = "urn:Afas.Profit.Services"
    static let tokenService = "tokenconnector.asmx"

    /// `urn:Afas.Profit.Services/<operation>`.
    static func action(_ operation: String) -> String { "\(namespace)/\(operation)" }

    /// A request calling `operation` on `url` with escaped `parameters`.
    static func request(url: URL, operation: String, parameters: [(String, String)]) -> OutgoingRequest {
        let envelope = SOAPMessage.envelope(operation: operation, namespace: namespace, parameters: parameters)
        return SOAPMessage.request(url: url, action: action(operation), envelope: envelope)
    }

    /// The text of `<operation>Result`, after checking for a fault.
    ///
    /// A fault becomes `faultCode` (``AuthError/Code/invalidCredentials`` for the OTP operations).
    static func result(of response: Reply, operation: String, faultCode: AuthError.Code, maxBytes: Int) throws(AuthError) -> String? {
        try ProfitResponse.checkSize(response, limit: maxBytes)
        let message: SOAPMessage
        do {
            message = try SOAPMessage(parsing: response.body, maxBytes: maxBytes)
        } catch {
            if !response.isSuccess { throw ProfitResponse.error(for: response) }
            throw AuthError(error.code, provider: ProfitProvider.providerName, status: response.status,
                            message: "\(operation): \(error.serverMessage ?? "the response is not a SOAP envelope")")
        }
        if let fault = message.fault {
            let code: AuthError.Code = response.status == 401 ? .revoked : (response.status == 403 ? .forbidden : faultCode)
            throw AuthError(code, provider: ProfitProvider.providerName, status: response.status,
                            serverCode: fault.code, message: fault.message ?? "\(operation) answered with a SOAP fault")
        }
        guard response.isSuccess else { throw ProfitResponse.error(for: response) }
        return message.text(of: "\(operation)Result")
    }

    /// Inserts `<token>escaped XML</token>` as the first child of the operation element (the first
    /// element inside `Body`), the legacy way of passing the token.
    ///
    /// - Throws: ``AuthError/Code/invalidRequest`` when the body is not a SOAP envelope this can edit.
    static func insertingTokenElement(_ tokenXML: String, into body: Data) throws(AuthError) -> Data {
        let text = String(decoding: body, as: UTF8.self)
        guard let bodyTagEnd = endOfStartTag(named: "Body", in: text),
              let operationStart = text[bodyTagEnd...].firstIndex(of: "<"),
              text[operationStart...].dropFirst().first.map({ $0 != "/" && $0 != "!" && $0 != "?" }) == true,
              let operationEnd = text[operationStart...].firstIndex(of: ">") else {
            throw AuthError(.invalidRequest, provider: ProfitProvider.providerName,
                            message: "cannot add the <token> element: the request body is not a SOAP envelope with an operation")
        }
        let element = "<token>\(SOAPMessage.escape(tokenXML))</token>"
        var result = text
        let afterOperation = text.index(after: operationEnd)
        if text[..<operationEnd].hasSuffix("/") {
            // `<Operation/>` or `<Operation xmlns="…"/>`: open it, add the token, close it.
            let openTag = text[operationStart..<text.index(before: operationEnd)]
            let name = openTag.dropFirst().prefix(while: { !$0.isWhitespace && $0 != "/" })
            result.replaceSubrange(operationStart..<afterOperation, with: "\(openTag)>\(element)</\(name)>")
        } else {
            result.insert(contentsOf: element, at: afterOperation)
        }
        return Data(result.utf8)
    }

    /// The index just after the `>` of the start tag `<name …>` or `<prefix:name …>`.
    private static func endOfStartTag(named name: String, in text: String) -> String.Index? {
        var searchStart = text.startIndex
        while let open = text[searchStart...].firstIndex(of: "<") {
            guard let close = text[open...].firstIndex(of: ">") else { return nil }
            let tag = text[text.index(after: open)..<close]
            let qualified = tag.prefix(while: { !$0.isWhitespace && $0 != "/" })
            let local = qualified.split(separator: ":").last.map(String.init) ?? String(qualified)
            if local == name, !tag.hasPrefix("/") { return text.index(after: close) }
            searchStart = text.index(after: close)
        }
        return nil
    }
}

public import Foundation
package import HTTPTypes

/// SOAP 1.1 envelopes: building requests with escaped values and reading responses and faults.
///
/// ```swift
/// let body = SOAPMessage.envelope(
///     operation: "GenerateOTP", namespace: "urn:Afas.Profit.Services",
///     parameters: [("userId", user), ("apiKey", key.revealed)]
/// )
/// let request = SOAPMessage.request(url: endpoint, action: "urn:Afas.Profit.Services/GenerateOTP", envelope: body)
/// let reply = try SOAPMessage(parsing: response.body)
/// if let fault = reply.fault { ... }
/// let result = reply.text(of: "GenerateOTPResult")
/// ```
public struct SOAPMessage: Sendable {
    /// A SOAP fault.
    public struct Fault: Sendable, Equatable {
        /// `faultcode`, when present.
        public var code: String?
        /// `faultstring`, when present.
        public var message: String?
        /// The text of `detail`, when present.
        public var detail: String?

        /// Whether any of the fault's texts contains `text`.
        public func mentions(_ text: String) -> Bool {
            [code, message, detail].contains { $0?.contains(text) == true }
        }
    }

    /// The fault, when the response is one.
    public let fault: Fault?
    private let texts: [String: String]

    /// The text of the first element (in document order) with local name `name`, namespace
    /// prefix ignored; the text includes that of its descendants.
    public func text(of name: String) -> String? { texts[name] }

    /// Parses a SOAP response.
    ///
    /// Documents with a DTD are refused (no entity expansion), as are bytes that are not UTF-8 and
    /// anything over `maxBytes`.
    ///
    /// - Throws: ``AuthError`` with ``AuthError/Code/malformedResponse`` when the bytes are not a
    ///   SOAP envelope, ``AuthError/Code/responseTooLarge`` over `maxBytes`.
    public init(parsing data: Data, maxBytes: Int = 4 << 20) throws(AuthError) {
        guard data.count <= maxBytes else {
            throw AuthError(.responseTooLarge, message: "the SOAP response is larger than \(maxBytes) bytes")
        }
        // Invalid UTF-8 is refused up front (Foundation's XMLParser crashed on it; see XMLScanner).
        guard String(validating: data, as: UTF8.self) != nil else {
            throw AuthError(.malformedResponse, message: "the SOAP response is not valid UTF-8")
        }
        let elements: [XMLScanner.Element]
        do {
            elements = try XMLScanner.elements(in: Array(data))
        } catch {
            throw AuthError(.malformedResponse, message: "the response is not well-formed XML without a DTD")
        }
        guard let root = elements.first, root.depth == 0, root.localName == "Envelope" else {
            throw AuthError(.malformedResponse, message: "the response is not a SOAP envelope")
        }
        var texts: [String: String] = [:]
        var sawFault = false
        // Elements come in document order of their start tags: keep the first of each name.
        // A fault is a `Fault` directly in the `Body` (Envelope 0, Body 1, Fault 2).
        var bodyIsOpen = false
        for element in elements {
            if texts[element.localName] == nil { texts[element.localName] = element.text }
            if element.depth == 1 { bodyIsOpen = element.localName == "Body" }
            if bodyIsOpen, element.depth == 2, element.localName == "Fault" { sawFault = true }
        }
        self.texts = texts
        if sawFault {
            self.fault = Fault(code: texts["faultcode"], message: texts["faultstring"], detail: texts["detail"])
        } else {
            self.fault = nil
        }
    }

    /// Escapes text for an XML element or attribute value: `&`, `<`, `>`, `"`, `'`; characters XML
    /// cannot carry (most control characters) are dropped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A SOAP 1.1 envelope calling `operation` in `namespace` with escaped `parameters`.
    public static func envelope(operation: String, namespace: String, parameters: [(String, String)]) -> Data {
        var xml = #"<?xml version="1.0" encoding="utf-8"?>"#
        xml += #"<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#
        xml += "<soap:Body><\(operation) xmlns=\"\(escape(namespace))\">"
        for (name, value) in parameters {
            xml += "<\(name)>\(escape(value))</\(name)>"
        }
        xml += "</\(operation)></soap:Body></soap:Envelope>"
        return Data(xml.utf8)
    }

    /// A `POST` of `envelope` with `Content-Type: text/xml; charset=utf-8` and `SOAPAction: "<action>"`.
    package static func request(url: URL, action: String, envelope: Data, headerFields: HTTPFields = [:]) -> OutgoingRequest {
        var fields = headerFields
        fields[.contentType] = "text/xml; charset=utf-8"
        fields[.soapAction] = "\"\(action)\""
        return OutgoingRequest(method: .post, url: url, headerFields: fields, body: envelope)
    }
}

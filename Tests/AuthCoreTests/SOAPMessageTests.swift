import AuthCore
import HTTPTypes
import Foundation
import Testing

@Suite struct SOAPMessageTests {
    @Test func escapesHostileValues() {
        #expect(SOAPMessage.escape("a<b&c>\"d'e]]>") == "a&lt;b&amp;c&gt;&quot;d&apos;e]]&gt;")
        #expect(SOAPMessage.escape("bell\u{07}x") == "bellx")
    }

    @Test func envelopeRoundTripsThroughTheParser() throws {
        let hostile = "</userId><admin>true</admin><![CDATA[ & ]]>"
        let data = SOAPMessage.envelope(operation: "GenerateOTP", namespace: "urn:Afas.Profit.Services",
                                        parameters: [("userId", hostile), ("description", "laptop")])
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("<admin>"))
        #expect(text.contains(#"<GenerateOTP xmlns="urn:Afas.Profit.Services">"#))
        let parsed = try SOAPMessage(parsing: data)
        #expect(parsed.fault == nil)
        #expect(parsed.text(of: "userId") == hostile)
        #expect(parsed.text(of: "admin") == nil)
    }

    @Test func readsAFault() throws {
        let xml = """
        <?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
        <soap:Fault><faultcode>soap:Server</faultcode><faultstring>AuthenticationException(E02250): Not logged in</faultstring>
        <detail><x>more</x></detail></soap:Fault></soap:Body></soap:Envelope>
        """
        let parsed = try SOAPMessage(parsing: Data(xml.utf8))
        let fault = try #require(parsed.fault)
        #expect(fault.code == "soap:Server")
        #expect(fault.mentions("E02250"))
        #expect(fault.detail?.contains("more") == true)
    }

    @Test(arguments: [
        "<html><body>502 Bad Gateway</body></html>",
        "{\"token\": \"x\"}",
        "",
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>",
        "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaa\">]><soap:Envelope xmlns:soap=\"s\"><b>&a;</b></soap:Envelope>",
    ])
    func rejectsWhatIsNotAnEnvelope(_ text: String) {
        let error = #expect(throws: AuthError.self) { try SOAPMessage(parsing: Data(text.utf8)) }
        #expect(error?.code == .malformedResponse)
    }

    /// Found by the SOAPResponse fuzz target: Foundation's XMLParser crashed on this input.
    @Test func invalidUTF8InElementNamesIsRefusedNotACrash() {
        var bytes = Array("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault><".utf8)
        bytes.append(0xF5)
        bytes += Array("aultcode>x</faultcode></soap:Fault></soap:Body></soap:Envelope>".utf8)
        let error = #expect(throws: AuthError.self) { try SOAPMessage(parsing: Data(bytes)) }
        #expect(error?.code == .malformedResponse)
    }

    @Test func requestCarriesSOAPAction() throws {
        let request = SOAPMessage.request(url: try #require(URL(string: "https://x.example/s.asmx")), action: "urn:A/B", envelope: Data())
        #expect(request.headerFields[.soapAction] == "\"urn:A/B\"")
        #expect(request.headerFields[.contentType] == "text/xml; charset=utf-8")
    }
}

@testable import AuthCore
import Foundation
import Testing

@Suite struct XMLScannerTests {
    func scan(_ text: String) throws -> [XMLScanner.Element] {
        try XMLScanner.elements(in: Array(text.utf8))
    }

    @Test func decodesEntitiesCharacterReferencesAndCDATA() throws {
        let elements = try scan(#"<?xml version="1.0"?><!-- c --><r a="x>y" b='q'><t>&lt;token&gt;&amp;&quot;&apos;&#65;&#x42;<![CDATA[<raw>&amp;]]></t><e/></r>"#)
        #expect(elements.map(\.localName) == ["r", "t", "e"])   // document order of start tags
        #expect(elements[1].text == "<token>&\"'AB<raw>&amp;")
        #expect(elements[0].depth == 0)
        #expect(elements[0].text == elements[1].text)
    }

    @Test func dropsNamespacePrefixes() throws {
        let elements = try scan(#"<soap:Envelope xmlns:soap="s"><soap:Body><m:Result xmlns:m="n">1</m:Result></soap:Body></soap:Envelope>"#)
        #expect(elements.map(\.localName) == ["Envelope", "Body", "Result"])
    }

    @Test(arguments: [
        "<a><b></a></b>",
        "<a>",
        "<a></a><b></b>",
        "text<a></a>",
        "<a>&unknown;</a>",
        "<a>&#0;</a>",
        "<a>&lt</a>",
        "<!DOCTYPE a><a></a>",
        "<a b=c></a>",
        "<a b=\"<\"></a>",
        "<?A?><so",
        "<a><![CDATA[x</a>",
        "",
        "<a><!-- x </a>",
    ])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: XMLScanner.Failure.self) { try scan(text) }
    }

    @Test func limitsNestingDepth() {
        let deep = String(repeating: "<a>", count: 300) + String(repeating: "</a>", count: 300)
        #expect(throws: XMLScanner.Failure.self) { try scan(deep) }
        let fine = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect((try? scan(fine))?.count == 100)
    }
}

@Suite struct XMLScannerReviewTests {
    /// Text copied into every ancestor would grow with depth × size; the budget refuses it.
    @Test func deeplyNestedTextCannotExhaustMemory() throws {
        let depth = 250
        let text = String(repeating: "x", count: 16 * 1024)
        var document = ""
        for _ in 0..<depth { document += "<a>" + text }
        for _ in 0..<depth { document += "</a>" }
        let bytes = Array(document.utf8)   // ≈ 4 MiB
        #expect(throws: XMLScanner.Failure.self) { try XMLScanner.elements(in: bytes) }
    }

    @Test func firstElementInDocumentOrderWins() throws {
        let message = try SOAPMessage(parsing: Data(#"<s:Envelope xmlns:s="e"><s:Body><R><R>inner</R>outer</R></s:Body></s:Envelope>"#.utf8))
        #expect(message.text(of: "R") == "innerouter")
    }

    @Test func onlyAFaultDirectlyInTheBodyIsAFault() throws {
        let nested = try SOAPMessage(parsing: Data(#"<s:Envelope xmlns:s="e"><s:Body><Result><Fault>not one</Fault></Result></s:Body></s:Envelope>"#.utf8))
        #expect(nested.fault == nil)
        let real = try SOAPMessage(parsing: Data(#"<s:Envelope xmlns:s="e"><s:Body><s:Fault><faultstring>boom</faultstring></s:Fault></s:Body></s:Envelope>"#.utf8))
        #expect(real.fault?.message == "boom")
    }

    @Test func aByteOrderMarkIsAccepted() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"<?xml version="1.0"?><s:Envelope xmlns:s="e"><s:Body><X>1</X></s:Body></s:Envelope>"#.utf8)
        #expect(try SOAPMessage(parsing: Data(bytes)).text(of: "X") == "1")
    }
}

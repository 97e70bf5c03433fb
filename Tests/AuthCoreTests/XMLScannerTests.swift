@testable import AuthCore
import Foundation
import Testing

@Suite struct XMLScannerTests {
    func scan(_ text: String) throws -> [XMLScanner.Element] {
        try XMLScanner.elements(in: Array(text.utf8))
    }

    @Test func decodesEntitiesCharacterReferencesAndCDATA() throws {
        let elements = try scan(#"<?xml version="1.0"?><!-- c --><r a="x>y" b='q'><t>&lt;token&gt;&amp;&quot;&apos;&#65;&#x42;<![CDATA[<raw>&amp;]]></t><e/></r>"#)
        #expect(elements.map(\.localName) == ["t", "e", "r"])
        #expect(elements[0].text == "<token>&\"'AB<raw>&amp;")
        #expect(elements[2].depth == 0)
        #expect(elements[2].text == elements[0].text)
    }

    @Test func dropsNamespacePrefixes() throws {
        let elements = try scan(#"<soap:Envelope xmlns:soap="s"><soap:Body><m:Result xmlns:m="n">1</m:Result></soap:Body></soap:Envelope>"#)
        #expect(elements.map(\.localName) == ["Result", "Body", "Envelope"])
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

/// A small, strict XML reader for SOAP responses.
///
/// Foundation's `XMLParser` on Linux crashes on some malformed inputs (element names that are not
/// UTF-8, a processing instruction without data: both found by fuzzing), so the SDK reads SOAP with
/// this scanner instead. It accepts well-formed XML without a DTD: the XML declaration, processing
/// instructions and comments are skipped, attributes are read past (their values may hold `>`),
/// CDATA is text, and the five predefined entities plus numeric character references are decoded.
/// Anything else — a DTD, an unknown entity, mismatched or unclosed tags, text outside the root —
/// is an error. It never recurses, so nesting depth cannot exhaust the stack.
struct XMLScanner {
    enum Failure: Error { case malformed(String) }

    /// One element: its local name (prefix dropped), its text (its own and its descendants'),
    /// its depth (the root is 0), and its position in document order of start tags.
    struct Element {
        var localName: String
        var text: String
        var depth: Int
        var order: Int
    }

    /// Scans `bytes` and returns every element in document order of their start tags.
    ///
    /// Descendants' text is copied into every ancestor, so deep nesting multiplies the text held
    /// in memory; the total is capped at `maxTextBytes` (default: 4 × the input, at least 64 KiB)
    /// and a document that needs more is refused.
    static func elements(in bytes: [UInt8], maxDepth: Int = 256, maxTextBytes: Int? = nil) throws(Failure) -> [Element] {
        var scanner = XMLScanner(bytes: bytes)
        let budget = maxTextBytes ?? max(64 * 1024, bytes.count * 4)
        return try scanner.run(maxDepth: maxDepth, textBudget: budget).sorted { $0.order < $1.order }
    }

    private let bytes: [UInt8]
    private var index = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func run(maxDepth: Int, textBudget: Int) throws(Failure) -> [Element] {
        var stack: [(name: [UInt8], text: [UInt8], order: Int)] = []
        var finished: [Element] = []
        var sawRoot = false
        var nextOrder = 0
        var textBytes = 0
        func spend(_ count: Int) throws(Failure) {
            textBytes += count
            guard textBytes <= textBudget else { throw .malformed("the document holds more text than allowed") }
        }
        // A UTF-8 byte-order mark may precede the document (some .NET servers send one).
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while index < bytes.count {
            if bytes[index] != UInt8(ascii: "<") {
                let text = try readText()
                if stack.isEmpty {
                    guard text.allSatisfy(Self.isSpace) else { throw .malformed("text outside the root element") }
                } else {
                    try spend(text.count)
                    stack[stack.count - 1].text += text
                }
                continue
            }
            if starts(with: "<?") {
                try skip(past: "?>")
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<![CDATA[") {
                guard !stack.isEmpty else { throw .malformed("CDATA outside the root element") }
                index += 9
                let start = index
                try skip(past: "]]>")
                try spend(index - 3 - start)
                stack[stack.count - 1].text += bytes[start..<(index - 3)]
            } else if starts(with: "<!") {
                throw .malformed("DTDs and declarations are not accepted")
            } else if starts(with: "</") {
                index += 2
                let name = try readName()
                skipSpace()
                try expect(UInt8(ascii: ">"))
                guard let open = stack.popLast(), open.name == name else { throw .malformed("mismatched end tag") }
                finished.append(Element(localName: Self.localName(open.name), text: try Self.string(open.text), depth: stack.count, order: open.order))
                if !stack.isEmpty {
                    try spend(open.text.count)
                    stack[stack.count - 1].text += open.text
                }
            } else {
                index += 1
                let name = try readName()
                guard stack.count < maxDepth else { throw .malformed("elements nested too deeply") }
                if stack.isEmpty {
                    guard !sawRoot else { throw .malformed("more than one root element") }
                    sawRoot = true
                }
                let selfClosing = try skipAttributes()
                nextOrder += 1
                if selfClosing {
                    finished.append(Element(localName: Self.localName(name), text: "", depth: stack.count, order: nextOrder))
                } else {
                    stack.append((name, [], nextOrder))
                }
            }
        }
        guard stack.isEmpty, sawRoot else { throw .malformed("the document ends inside an element") }
        return finished
    }

    private func starts(with prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return prefix.withUTF8Buffer { buffer in
            var i = 0
            while i < count {
                if bytes[index + i] != buffer[i] { return false }
                i += 1
            }
            return true
        }
    }

    private mutating func skip(past terminator: StaticString) throws(Failure) {
        while index < bytes.count {
            if starts(with: terminator) {
                index += terminator.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw .malformed("unterminated markup")
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard index < bytes.count, bytes[index] == byte else { throw .malformed("unexpected character") }
        index += 1
    }

    private mutating func skipSpace() {
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
    }

    private mutating func readName() throws(Failure) -> [UInt8] {
        let start = index
        while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
        guard index > start else { throw .malformed("expected a name") }
        return Array(bytes[start..<index])
    }

    /// Reads past attributes up to `>` or `/>`; returns whether the element closed itself.
    private mutating func skipAttributes() throws(Failure) -> Bool {
        while true {
            skipSpace()
            guard index < bytes.count else { throw .malformed("unterminated start tag") }
            switch bytes[index] {
            case UInt8(ascii: ">"):
                index += 1
                return false
            case UInt8(ascii: "/"):
                index += 1
                try expect(UInt8(ascii: ">"))
                return true
            default:
                _ = try readName()
                skipSpace()
                try expect(UInt8(ascii: "="))
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                    throw .malformed("attribute value without quotes")
                }
                let quote = bytes[index]
                index += 1
                while index < bytes.count, bytes[index] != quote {
                    if bytes[index] == UInt8(ascii: "<") { throw .malformed("'<' in an attribute value") }
                    index += 1
                }
                try expect(quote)
            }
        }
    }

    /// Reads character data up to the next `<`, decoding entity and character references.
    private mutating func readText() throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ";"), end - start < 12 { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: ";") else { throw .malformed("unterminated entity reference") }
            let name = String(decoding: bytes[start..<end], as: UTF8.self)
            index = end + 1
            switch name {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                var value: UInt32?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    value = UInt32(name.dropFirst(2), radix: 16)
                } else if name.hasPrefix("#") {
                    value = UInt32(name.dropFirst(), radix: 10)
                }
                guard let value, let scalar = Unicode.Scalar(value), value != 0 else {
                    throw .malformed("unknown entity reference")
                }
                out += Array(String(Character(scalar)).utf8)
            }
        }
        return out
    }

    private static func string(_ bytes: [UInt8]) throws(Failure) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed("text is not UTF-8") }
        return text
    }

    private static func localName(_ name: [UInt8]) -> String {
        let text = String(decoding: name, as: UTF8.self)
        return text.split(separator: ":").last.map(String.init) ?? text
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "."), 0x80...0xFF:
            return true
        default:
            return false
        }
    }
}

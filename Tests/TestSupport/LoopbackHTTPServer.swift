import AuthCore
public import HTTPTypes
public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests: one connection at a time, `Connection: close`.
///
/// It records every request it receives and answers with a handler. It exists so transport
/// tests talk to a real socket instead of a fake.
public final class LoopbackHTTPServer: Sendable {
    /// A request as the server received it.
    public struct Request: Sendable {
        public var method: String
        /// The request target: path and query as sent.
        public var target: String
        public var headerFields: HTTPFields
        public var body: Data
    }

    /// A response the handler returns.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: Data
        /// When set, the body is sent one byte at a time with this pause between bytes.
        public var trickle: Duration?
        /// The `Content-Length` to announce instead of the body's size; `-1` announces none (the
        /// body then ends when the connection closes).
        public var announcedLength: Int?
        /// How long to keep the connection open after the body (a server that stalls).
        public var holdAfterBody: Duration?

        public init(status: Int = 200, headers: [(String, String)] = [], body: Data = Data(), trickle: Duration? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.trickle = trickle
        }

        public static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> Response {
            Response(status: status, headers: [("Content-Type", "text/plain")] + headers, body: Data(text.utf8))
        }
    }

    /// The port the server listens on.
    public let port: UInt16
    private let listener: Int32
    private let log = Locked<[Request]>([])
    private let stopped = Atomic<Bool>(false)

    /// The base URL, `http://127.0.0.1:<port>`.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// Every request received so far.
    public var requests: [Request] { log.withLock { $0 } }

    /// Starts listening on an ephemeral port.
    public init(handler: @escaping @Sendable (Request) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AuthError(.transportFailure, message: "socket() failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw AuthError(.transportFailure, message: "bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: address.sin_port)
        self.listener = fd
        let thread = Thread { [self] in self.acceptLoop(handler) }
        thread.start()
    }

    /// Stops accepting connections.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    private func acceptLoop(_ handler: @Sendable (Request) -> Response) {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            serve(client, handler)
            close(client)
        }
    }

    private func serve(_ client: Int32, _ handler: @Sendable (Request) -> Response) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 8192)
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = Self.find(separator, in: buffer)
            if buffer.count > 1 << 20 { return }
        }
        guard let end = headerEnd else { return }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var headers = HTTPFields()
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append(HTTPField(name: name, value: value))
        }
        let length = Int(headers[.contentLength] ?? "0") ?? 0
        var body = Array(buffer[(end + 4)...])
        while body.count < length {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            body.append(contentsOf: chunk[0..<n])
        }
        let request = Request(method: String(requestLine[0]), target: String(requestLine[1]), headerFields: headers, body: Data(body.prefix(length)))
        log.withLock { $0.append(request) }
        let response = handler(request)
        var text = "HTTP/1.1 \(response.status) Status\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        switch response.announcedLength {
        case nil: text += "Content-Length: \(response.body.count)\r\n"
        case let length? where length >= 0: text += "Content-Length: \(length)\r\n"
        default: break
        }
        text += "Connection: close\r\n\r\n"
        var bytes = Array(text.utf8)
        if let hold = response.holdAfterBody {
            bytes.append(contentsOf: response.body)
            guard writeAll(client, bytes) else { return }
            Thread.sleep(forTimeInterval: hold.timeInterval)
            return
        }
        if let trickle = response.trickle {
            guard writeAll(client, bytes) else { return }
            for byte in response.body {
                Thread.sleep(forTimeInterval: Double(trickle.components.attoseconds) / 1e18 + Double(trickle.components.seconds))
                guard writeAll(client, [byte]) else { return }
            }
            return
        }
        bytes.append(contentsOf: response.body)
        _ = writeAll(client, bytes)
    }

    private func writeAll(_ client: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

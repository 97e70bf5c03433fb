import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The README's first command and the sandbox server, as a user runs them.
@Suite(.serialized) struct DemoAndSandboxTests {
    /// The demo runs every flow over loopback sockets, through either transport, and shows no
    /// credential.
    @Test(arguments: [[], ["--transport", "ahc"]])
    func theDemoRunsEveryFlowAndShowsNoCredential(_ transport: [String]) async throws {
        let run = try await Tool.run(["demo"] + transport)
        #expect(run.status == 0, "\(run.stderr)")
        let text = run.stdout + run.stderr
        #expect(text.contains("Demo finished"))
        for part in ["== AuthCore ==", "== AFAS Profit ==", "== Profix-it OAuth2 ==", "== e-conomic =="] { #expect(text.contains(part)) }
        #expect(text.contains("Sandboxes on 127.0.0.1"))
        #expect(text.contains("100 × HTTP 200; /token refreshes: 1"))
        #expect(text.contains("ConnectWithToken calls now: 2"))

        // Every literal the demo wraps in Secret("…") stays hidden.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/AccountingAuthCommands/DemoCommand.swift")
        let code = try String(contentsOf: source, encoding: .utf8)
        let literals = code.matches(of: try Regex(#"Secret\("([^"\\]{8,})"\)"#)).compactMap { $0.output[1].substring.map(String.init) }
        #expect(literals.count >= 5)
        for literal in literals { #expect(!text.contains(literal), "the demo printed \(literal)") }
        // Sandbox-issued values have recognisable shapes: none may show.
        for shape in [#"[0-9A-F]{64}"#, #"PHRva2Vu"#, #"<data>"#, #"Bearer [A-Za-z0-9._~+/!-]{12,}"#, #"AfasToken [A-Za-z0-9+/=]{12,}"#,
                      #"token=[A-Za-z0-9!_-]{8,}"#, #"code=[A-Za-z0-9!_-]{8,}"#] {
            #expect(text.firstMatch(of: try Regex(shape)) == nil, "demo output matches \(shape)")
        }
    }

    /// `sandbox serve` prints its base URLs, answers on them, and stops cleanly on SIGINT.
    @Test func sandboxServeAnswersUntilInterrupted() async throws {
        let executable = try #require(Tool.executable)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["sandbox", "serve"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let (ended, finish) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            finish.yield(finished.terminationStatus)
            finish.finish()
        }
        let received = Mutex(Data())
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            received.withLock { $0.append(chunk) }
        }
        try process.run()
        // Wait (up to a minute) until the banner is complete.
        var banner = ""
        for _ in 0..<600 {
            banner = String(decoding: received.withLock { $0 }, as: UTF8.self)
            if banner.contains("Press Ctrl-C") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        output.fileHandleForReading.readabilityHandler = nil
        let urls = banner.matches(of: try Regex(#"http://127\.0\.0\.1:[0-9]+"#)).map { String(banner[$0.range]) }
        #expect(urls.count >= 3)
        let profix = try #require(banner.firstMatch(of: try Regex(#"Profix-it +(http://127\.0\.0\.1:[0-9]+)"#))?.output[1].substring.map(String.init))
        // The Profix-it sandbox answers its token endpoint (a wrong secret: a typed OAuth error).
        var request = URLRequest(url: try #require(URL(string: profix + "/token")))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("grant_type=client_credentials&client_id=sandbox-service-client&client_secret=wrong".utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 401 || (response as? HTTPURLResponse)?.statusCode == 400)
        #expect(String(decoding: body, as: UTF8.self).contains("invalid_client"))
        kill(process.processIdentifier, SIGINT)
        var status: Int32 = -1
        for await code in ended { status = code }
        #expect(status == 0)
    }
}

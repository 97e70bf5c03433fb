import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import Testing

@Suite struct MockTransportTests {
    let url = URL(string: "https://api.example.com/x")!

    @Test func scriptThenHandlerThenError() async throws {
        let mock = MockTransport(responses: [.json(201, "{}")])
        mock.enqueue(failure: AuthError(.timeout))
        #expect(try await mock.reply(HTTPRequest(url: url)).status == 201)
        let error = await #expect(throws: AuthError.self) { try await mock.reply(HTTPRequest(url: self.url)) }
        #expect(error?.code == .timeout)
        let empty = await #expect(throws: AuthError.self) { try await mock.reply(HTTPRequest(url: self.url)) }
        #expect(empty?.code == .invalidConfiguration)
        #expect(mock.requestCount == 3)
        #expect(mock.remainingReplies == 0)
    }

    @Test func recordsEveryRequestUnderConcurrency() async throws {
        let mock = MockTransport { request in .json(200, request.headerFields[HTTPField.Name("X-N")!] ?? "") }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<500 {
                group.addTask {
                    let response = try await mock.reply(HTTPRequest(url: self.url, headerFields: [HTTPField.Name("X-N")!: String(i)]))
                    return Int(response.text) ?? -1
                }
            }
            var seen = Set<Int>()
            for try await value in group { seen.insert(value) }
            #expect(seen == Set(0..<500))
        }
        #expect(mock.requestCount == 500)
        #expect(Set(mock.requests.compactMap { $0.headerFields[HTTPField.Name("X-N")!] }).count == 500)
    }

    @Test func latencyDelaysTheAnswer() async throws {
        let mock = MockTransport(latency: .milliseconds(20)) { _ in .json(200, "{}") }
        let clock = ContinuousClock()
        let start = clock.now
        _ = try await mock.reply(HTTPRequest(url: url))
        #expect(clock.now - start >= .milliseconds(20))
    }

    @Test func cannedMocks() async throws {
        #expect(try await MockTransport.ok(json: "{}").reply(HTTPRequest(url: url)).status == 200)
        let error = await #expect(throws: AuthError.self) { try await MockTransport.failing(.connectionFailed).reply(HTTPRequest(url: self.url)) }
        #expect(error?.code == .connectionFailed)
    }
}

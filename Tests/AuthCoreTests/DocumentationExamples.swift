// The snippets of Docs/GettingStarted.md, compiled and run. Keep the two in sync.
import AuthCore
import HTTPTypes
import AuthTesting
import Foundation
import Testing
import TestSupport

private struct StaticBearer: CredentialProvider {
    let token: Secret
    func authorize(_ request: inout HTTPRequest) async throws {
        request.headerFields[.authorization] = "Bearer \(token.revealed)"
    }
}

@Suite struct GettingStartedExamples {
    @Test func transportAndStore() throws {
        var configuration = URLSessionTransport.Configuration()
        configuration.timeout = .seconds(20)
        configuration.maxResponseBytes = 4 << 20
        let transport = URLSessionTransport(configuration: configuration)
        _ = transport
        let store = try FileTokenStore(directory: temporaryFolder())
        #expect(FileManager.default.fileExists(atPath: store.directory.path))
    }

    @Test func handlingErrorsAndObserving() async throws {
        let events = Recorder<String>()
        let observer = AuthEventObserver { event in events.append("auth: \(event)") }
        let provider = StaticBearer(token: Secret("t"))
        let mock = MockTransport { _ in .json(401, "{}") }
        let client = AuthorizingTransport(base: mock, provider: provider, observer: observer)
        let request = HTTPRequest(url: URL(string: "https://api.profix-it.nl/v1/x")!)
        var handled: AuthError.Code?
        do {
            _ = try await client.send(request)
        } catch let error as AuthError {
            switch error.code {
            case .reauthorizationRequired, .revoked:
                handled = error.code
            case .rateLimited:
                handled = error.code
            default:
                handled = error.code
            }
        }
        #expect(handled == .invalidCredentials)
        #expect(events.values.isEmpty)   // StaticBearer never recovers, so no retry event
    }

    @Test func testingWithMockTransport() async throws {
        // A provider that recovers from the first 401 (as the OAuth provider does by refreshing).
        let provider = ClosureCredentialProvider(
            authorize: { request in
                request.headerFields[.authorization] = "Bearer abc"
            },
            recover: { _, _ in true }
        )
        let mock = MockTransport()
        mock.enqueue(.json(401, #"{"error":"expired"}"#))
        mock.enqueue(.json(200, #"{"ok":true}"#))
        let client = AuthorizingTransport(base: mock, provider: provider)
        let response = try await client.reply(HTTPRequest(url: URL(string: "https://api.example.com/x")!))
        #expect(response.status == 200)
        #expect(mock.requestCount == 2)
        #expect(mock.requests.allSatisfy { $0.headerFields[.authorization] == "Bearer abc" })
    }
}

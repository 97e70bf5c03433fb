import AuthCore
import Testing

@Suite struct AuthErrorTests {
    @Test func descriptionShowsContextAndStripsControlCharacters() {
        let error = AuthError(.invalidGrant, provider: "profix", status: 400, serverCode: "invalid_grant",
                              message: "bad\r\ngrant\u{0}", logReference: "ref-1")
        let text = "\(error)"
        #expect(text.contains("invalid_grant"))
        #expect(text.contains("profix"))
        #expect(text.contains("400"))
        #expect(text.contains("ref-1"))
        #expect(!text.contains("\r") && !text.contains("\n") && !text.contains("\u{0}"))
    }

    @Test func lineSeparatorsAndBidiControlsAreNeutralised() {
        let error = AuthError(.malformedResponse, message: "ok\u{2028}FAKE LOG LINE\u{202E}reversed\u{2029}")
        let message = error.serverMessage ?? ""
        #expect(!message.unicodeScalars.contains { [0x2028, 0x2029, 0x202E].contains($0.value) })
        #expect(message.contains("FAKE LOG LINE"))
    }

    @Test func messagesAreCapped() {
        let error = AuthError(.malformedResponse, message: String(repeating: "x", count: 10_000))
        #expect((error.serverMessage?.count ?? 0) <= 301)
    }

    @Test func equalityIsByCode() {
        #expect(AuthError(.timeout, status: 1) == AuthError(.timeout, status: 2))
        #expect(AuthError(.timeout) != AuthError(.connectionFailed))
        #expect(AuthError(.timeout).isTransient)
        #expect(!AuthError(.invalidGrant).isTransient)
        switch AuthError(.revoked).code {
        case .revoked: break
        default: Issue.record("a code must match its static member")
        }
    }
}

import AuthCore
import Testing

@Suite struct HTTPHeadersTests {
    @Test func namesCompareWithoutCase() {
        var headers = HTTPHeaders()
        headers["Content-Type"] = "application/json"
        #expect(headers["content-type"] == "application/json")
        #expect(headers["CONTENT-TYPE"] == "application/json")
        #expect(headers[.contentType] == "application/json")
        #expect(HTTPHeaders.Name("X-AppSecretToken") == HTTPHeaders.Name("x-appsecrettoken"))
    }

    @Test func keepsSeveralValuesInOrder() {
        var headers = HTTPHeaders()
        headers.add("Set-Cookie", "a=1")
        headers.add("X-Other", "x")
        headers.add("set-cookie", "b=2")
        #expect(headers.values(for: .setCookie) == ["a=1", "b=2"])
        #expect(headers.fields.map(\.name.rawName) == ["Set-Cookie", "X-Other", "set-cookie"])
        #expect(headers.count == 3)
    }

    @Test func settingReplacesEveryFieldOfThatNameInPlace() {
        var headers: HTTPHeaders = ["A": "1", "B": "2"]
        headers.add("a", "3")
        headers["A"] = "9"
        #expect(headers.fields.map(\.value) == ["9", "2"])
        headers["b"] = nil
        #expect(!headers.contains("B"))
        #expect(headers.count == 1)
    }

    @Test func wellFormedRejectsHeaderInjection() {
        var headers = HTTPHeaders()
        headers["X-Ok"] = "fine"
        #expect(headers.isWellFormed)
        headers["X-Bad"] = "value\r\nInjected: yes"
        #expect(!headers.isWellFormed)
        var badName = HTTPHeaders()
        badName.add("Bad Name", "x")
        #expect(!badName.isWellFormed)
    }

    @Test func descriptionRedactsCredentialHeaders() {
        var headers = HTTPHeaders()
        headers[.authorization] = "Bearer very-secret-token"
        headers["x-appsecrettoken"] = "app-secret-value"
        headers[.accept] = "application/json"
        let text = "\(headers)"
        #expect(!text.contains("very-secret-token"))
        #expect(!text.contains("app-secret-value"))
        #expect(text.contains("application/json"))
    }
}

import AuthCore
import Foundation
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

@Suite struct HTTPValuesReflectionTests {
    @Test func dumpOfARequestShowsNoCredential() throws {
        var request = HTTPRequest(method: .post, url: try #require(URL(string: "https://app.example/cb?code=CODE-SECRET-123&state=s")),
                                  headers: [.authorization: "Bearer TOKEN-SECRET-456", "X-AgreementGrantToken": "GRANT-SECRET-789", .accept: "application/json"],
                                  body: Data("client_secret=BODY-SECRET".utf8))
        request.headers.add(.cookie, "ASP.NET_SessionId=COOKIE-SECRET")
        var dumped = ""
        dump(request, to: &dumped)
        var dumpedHeaders = ""
        dump(request.headers, to: &dumpedHeaders)
        for text in [dumped, dumpedHeaders, String(reflecting: request), "\(request)", "\(request.headers.fields)"] {
            for secret in ["CODE-SECRET", "TOKEN-SECRET", "GRANT-SECRET", "COOKIE-SECRET", "BODY-SECRET"] {
                #expect(!text.contains(secret), "\(secret) leaked")
            }
        }
        #expect(dumped.contains("application/json"))
        #expect(dumped.contains("25 bytes"))
    }
}

@Suite struct HTTPMethodTests {
    @Test func methodsMustBeTokens() {
        #expect(HTTPRequest.Method.get.isValid)
        #expect(HTTPRequest.Method(rawValue: "PROPFIND").isValid)
        #expect(!HTTPRequest.Method(rawValue: "GET /a HTTP/1.1\r\nX-Injected: yes").isValid)
        #expect(!HTTPRequest.Method(rawValue: "").isValid)
    }
}

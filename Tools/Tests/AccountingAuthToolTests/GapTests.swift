import AuthCore
import AuthSandboxServer
import AuthTesting
import EconomicAuthTesting
import Foundation
import HTTPTypes
import ProfitAuth
import ProfitAuthTesting
import ProfixOAuthTesting
import Synchronization
import Testing

/// The gaps a run against strict servers found, each closed and checked against the sandbox server
/// over loopback.
@Suite(.serialized) struct GapTests {
    static let profixPassword = ["PROFIX_CLIENT_ID": "gap-password", "PROFIX_CLIENT_SECRET": "gap-password-secret",
                                 "PROFIX_USERNAME": "ann", "PROFIX_PASSWORD": "gap-pw-ann"]

    /// A refused refresh is saved: the next process reports it without presenting the dead
    /// refresh token again.
    @Test func aRefusedRefreshIsRememberedAcrossProcesses() async throws {
        let server = try await SandboxServer.start()
        server.profix.registerClient(id: "gap-password", secret: Secret("gap-password-secret"), grant: .password)
        server.profix.addUser(username: "ann", password: Secret("gap-pw-ann"))
        let base = ["--base-url", server.profixURL.absoluteString]
        let login = try await Tool.run(["profix", "login"] + base, environment: Self.profixPassword)
        #expect(login.status == 0)
        server.profix.revokeRefreshTokens()
        let first = try await Tool.run(["profix", "refresh"] + base, environment: Self.profixPassword, store: login.store)
        #expect(first.status == 1)
        #expect(first.stderr.contains("reauthorization_required"))
        let calls = server.profix.counters.tokenRequests
        let second = try await Tool.run(["profix", "refresh"] + base, environment: Self.profixPassword, store: login.store)
        let call = try await Tool.run(["profix", "call", "GET", "/api/v1/workorders"] + base, environment: Self.profixPassword, store: login.store)
        await server.stop()
        #expect(second.status == 1 && call.status == 1)
        #expect(second.stderr.contains("reauthorization_required") && call.stderr.contains("reauthorization_required"))
        #expect(server.profix.counters.tokenRequests == calls)
        #expect(try await login.stored(provider: "profix")?.refreshRefused == true)
    }

    /// `--request-url` must carry the public token or get it from the option or the environment.
    @Test func aRequestURLWithoutThePublicTokenIsRefusedOrCompleted() async throws {
        let bare = "https://secure.e-conomic.com/secure/api1/requestaccess.aspx"
        let refused = try await Tool.run(["economic", "request-url", "--request-url", bare])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("appPublicToken"))
        let completed = try await Tool.run(["economic", "request-url", "--request-url", bare], environment: ["ECONOMIC_APP_PUBLIC_TOKEN": "pub-123"])
        #expect(completed.status == 0)
        #expect(completed.stdout.contains("appPublicToken=pub-123"))
        let carried = try await Tool.run(["economic", "request-url", "--request-url", bare + "?appPublicToken=given"], environment: ["ECONOMIC_APP_PUBLIC_TOKEN": "pub-123"])
        #expect(carried.status == 0)
        #expect(carried.stdout.contains("appPublicToken=given") && !carried.stdout.contains("pub-123"))
    }

    /// A redirect URI over plain HTTP to another machine would carry the code in clear.
    @Test func aPlainHTTPRedirectURIToAnotherMachineIsAUsageError() async throws {
        let environment = ["PROFIX_CLIENT_ID": "c", "PROFIX_CLIENT_SECRET": "s"]
        let evil = try await Tool.run(["profix", "authorize-url"], environment: environment.merging(["PROFIX_REDIRECT_URI": "http://evil.example/cb"]) { $1 })
        #expect(evil.status == 64)
        #expect(evil.stderr.contains("PROFIX_REDIRECT_URI"))
        let local = try await Tool.run(["profix", "authorize-url"], environment: environment.merging(["PROFIX_REDIRECT_URI": "http://127.0.0.1:8080/cb"]) { $1 })
        #expect(local.status == 0)
    }

    /// Connection errors say where; an IPv6 loopback literal is an ordinary address.
    @Test(arguments: ["urlsession", "ahc"])
    func connectionErrorsNameTheHostAndIPv6LoopbackWorks(_ transport: String) async throws {
        let environment = ["PROFIX_CLIENT_ID": "c", "PROFIX_CLIENT_SECRET": "s"]
        for base in ["http://127.0.0.1:9", "http://[::1]:9"] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-conn-\(UUID().uuidString)")
            try await FileTokenStore(directory: folder).save(
                StoredCredential(accessToken: Secret("valid-access-token-1"), expiresAt: Date().addingTimeInterval(3_600), attributes: ["grant": "client_credentials"]),
                for: TokenKey(provider: "profix", account: "default"))
            let run = try await Tool.run(["profix", "call", "GET", "/api/v1/workorders", "--base-url", base, "--transport", transport],
                                         environment: environment, store: folder)
            #expect(run.status == 1)
            #expect(run.stderr.contains("connection_failed"), "\(base): \(run.stderr)")
            #expect(run.stderr.contains(base.hasSuffix("[::1]:9") ? "::1" : "127.0.0.1:9"), "\(base): \(run.stderr)")
        }
    }

    /// `unauthorized_client` is the registration not allowing the grant.
    @Test func unauthorizedClientIsDescribedAsAGrantTypeMismatch() async throws {
        let server = try await SandboxServer.start()
        server.profix.registerClient(id: "gap-service", secret: Secret("gap-service-secret"), grant: .clientCredentials)
        let run = try await Tool.run(["profix", "login", "--base-url", server.profixURL.absoluteString],
                                     environment: ["PROFIX_CLIENT_ID": "gap-service", "PROFIX_CLIENT_SECRET": "gap-service-secret",
                                                   "PROFIX_USERNAME": "ann", "PROFIX_PASSWORD": "pw"])
        await server.stop()
        #expect(run.status == 1)
        #expect(run.stderr.contains("invalid_configuration") && run.stderr.contains("grant type"))
        #expect(!run.stderr.contains("redirect"))
    }

    /// The OTP onboarding from a script: no prompt text on a pipe; the GenerateOTP device
    /// description goes to Profit; a SOAP data call works with the stored token.
    @Test func profitOnboardingOverSOAPWithADeviceDescriptionThenASOAPDataCall() async throws {
        let bodies = Mutex<[String]>([])
        let sandbox = ProfitSandbox.demo()
        let recording = ClosureTransport { request, body in
            bodies.withLock { $0.append(String(decoding: body ?? Data(), as: UTF8.self)) }
            return try await sandbox.send(request, body: body)
        }
        let server = try await HTTPTransportServer.start(serving: recording)
        let keys = ["AFAS_API_KEY": ProfitSandbox.demoKeys.apiKey.revealed, "AFAS_ENVIRONMENT_KEY": ProfitSandbox.demoKeys.environmentKey.revealed]
        let base = ["--base-url", server.baseURL.appendingPathComponent("ProfitRestServices").absoluteString,
                    "--soap-base-url", server.baseURL.appendingPathComponent("profitservices").absoluteString, "--user", "DavidB"]
        let request = try await Tool.run(["profit", "otp-request", "--soap", "--device-description", "Build server 7"] + base, environment: keys)
        #expect(request.status == 0)
        #expect(bodies.withLock { $0 }.contains { $0.contains("GenerateOTP") && $0.contains("Build server 7") })
        let code = try #require(sandbox.latestCode(for: "DavidB"))
        let redeem = try await Tool.run(["profit", "otp-redeem", "--soap"] + base, environment: keys, stdin: code.revealed + "\n", store: request.store)
        #expect(redeem.status == 0)
        #expect(!redeem.stderr.contains("Activation code:"))   // no prompt on a pipe
        #expect(!redeem.shows(any: [code.revealed]))
        let data = try await Tool.run(["profit", "soap", "appconnectorget", "GetData", "connectorId=Profit_Debtors", "skip=0", "take=10"] + base,
                                      store: request.store)
        await server.stop()
        #expect(data.status == 0, "\(data.stderr)")
        #expect(!data.stdout.isEmpty)
    }

    /// A grant an administrator copied by hand: checked, stored, then used.
    @Test func aGrantCopiedByHandIsCheckedStoredAndUsed() async throws {
        let server = try await SandboxServer.start()
        let grant = server.economic.issueGrant(agreementNumber: EconomicSandbox.defaultAgreementNumber)
        let environment = ["ECONOMIC_APP_SECRET_TOKEN": server.economic.appSecretToken.revealed]
        let base = ["--base-url", server.economicURL.absoluteString]
        let bad = try await Tool.run(["economic", "add-grant"] + base, environment: environment, stdin: "not a token\n")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("invalid_credential_format"))
        let added = try await Tool.run(["economic", "add-grant"] + base, environment: environment, stdin: grant.revealed + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(!added.shows(any: [grant.revealed]))
        #expect(try await added.stored(provider: "economic")?.attributes["agreement"] == "\(EconomicSandbox.defaultAgreementNumber)")
        let me = try await Tool.run(["economic", "self"] + base, environment: environment, store: added.store)
        await server.stop()
        #expect(me.status == 0)
        #expect(me.stdout.contains("\(EconomicSandbox.defaultAgreementNumber)"))
    }
}

import AuthCore
import HTTPTypes
internal import AuthRuntime
public import Foundation

/// The public addresses of e-conomic's services.
///
/// Every provider, session and grant request takes its URLs from its `Configuration`, which
/// defaults to these values; change them to talk to a test server or an ``EconomicSandbox``
/// served elsewhere.
public enum EconomicEndpoints {
    /// The provider name used in errors, events and token-store keys: `"economic"`.
    public static var providerName: String { "economic" }

    /// The legacy REST API: `https://restapi.e-conomic.com`.
    public static let restBaseURL = literal("https://restapi.e-conomic.com")

    /// The newer OpenAPI families (same token headers): `https://apis.e-conomic.com`.
    public static let openAPIBaseURL = literal("https://apis.e-conomic.com")

    /// The SOAP web service: `https://api.e-conomic.com/secure/api1/EconomicWebService.asmx`.
    public static let soapURL = literal("https://api.e-conomic.com/secure/api1/EconomicWebService.asmx")

    /// The page an agreement administrator opens to grant an app access:
    /// `https://secure.e-conomic.com/secure/api1/requestaccess.aspx`.
    public static let requestAccessURL = literal("https://secure.e-conomic.com/secure/api1/requestaccess.aspx")

    /// The SOAP namespace, `http://e-conomic.com`; SOAP actions are `http://e-conomic.com/<Operation>`.
    public static let soapNamespace = "http://e-conomic.com"

    /// Builds a URL from a constant that is known to parse; the fallback is never reached.
    static func literal(_ text: String) -> URL {
        URL(string: text) ?? URL(fileURLWithPath: "/")
    }

    /// The hosts of the default REST base and the OpenAPI base, shared by every provider that
    /// uses them.
    static let defaultAudience = CredentialAudience(urls: [restBaseURL, openAPIBaseURL])

    /// Checks what a provider or session is made with: the credentials, and a URL that may carry them.
    static func validate(_ credentials: EconomicCredentials, url: URL) throws(AuthError) {
        try credentials.validate()
        try SecureURLPolicy.check(url, provider: providerName)
    }

    /// The endpoint client of a provider or session: no automatic retries (an API call or a SOAP
    /// operation may not be idempotent).
    static func client(transport: any HTTPTransport, maxResponseBytes: Int, observer: AuthEventObserver?) -> EndpointClient {
        EndpointClient(provider: providerName, transport: transport, maxResponseBytes: maxResponseBytes, observer: observer)
    }

    /// `base` joined with a relative `path` (which may carry a query), with exactly one `/` between.
    static func url(_ base: URL, appending path: String) throws(AuthError) -> URL {
        try URL.joining(base, path, provider: providerName)
    }
}

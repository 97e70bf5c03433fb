public import AuthCore
import HTTPTypes
import Foundation

extension ProfitProvider {
    /// Options with defaults.
    public struct Configuration: Sendable {
        /// The `IntegrationId` header (`<subscription>_<project>`), mandatory for certified partner
        /// integrations. Default `nil` (not sent).
        public var integrationId: String?
        /// The `Accept-Language` header (`nl-nl`, `en-us`, `de-de`, `fr-fr`, `nl-be`) for Profit's
        /// messages. Default `nil` (not sent).
        public var acceptLanguage: String?

        /// Whether requests carry a configured field (``integrationId`` or ``acceptLanguage``).
        var addsFields: Bool { integrationId != nil || acceptLanguage != nil }
        /// How the token goes on SOAP requests. Default ``SOAPTokenPlacement/header``.
        public var soapToken: SOAPTokenPlacement = .header
        /// The device description sent with `GenerateOTP` (shown in the app connector's token
        /// list). Default `"swift-accounting-auth"`.
        public var deviceDescription: String = "swift-accounting-auth"
        /// The largest response body the provider parses. Default 1 MiB.
        public var maxResponseBytes: Int = 1 << 20
        /// Retries for the provider's own calls (OTP, metainfo, DeleteToken) on 503, 429 and
        /// connection failures; a 500 (a functional error) is never retried. Redeeming a code
        /// (`OtpValidation`, `GetTokenFromOTP`) is not retried after a timeout or a 502/504 either,
        /// since Profit may have consumed the code. A 503's
        /// `retry_after` (body) sets the wait; one beyond the policy's `maximumRetryAfter` ends
        /// the call with ``AuthError/Code/serviceUnavailable`` and ``AuthError/retryAfter``.
        /// Default 3 attempts.
        public var retryPolicy: RetryPolicy = .exponential(maxAttempts: 3)

        /// Hosts besides the environment's REST and SOAP hosts that may receive the token.
        /// Requests to any other host are refused with ``AuthError/Code/untrustedHost`` before
        /// anything is sent. Default: none.
        public var additionalHosts: [String] = []

        /// Creates a configuration; every parameter has the documented default.
        public init(
            integrationId: String? = nil,
            acceptLanguage: String? = nil,
            soapToken: SOAPTokenPlacement = .header,
            deviceDescription: String = "swift-accounting-auth",
            maxResponseBytes: Int = 1 << 20,
            retryPolicy: RetryPolicy = .exponential(maxAttempts: 3),
            additionalHosts: [String] = []
        ) {
            self.integrationId = integrationId
            self.acceptLanguage = acceptLanguage
            self.soapToken = soapToken
            self.deviceDescription = deviceDescription
            self.maxResponseBytes = maxResponseBytes
            self.retryPolicy = retryPolicy
            self.additionalHosts = additionalHosts
        }
    }

    /// Where the token goes on a SOAP request.
    public struct SOAPTokenPlacement: Sendable, Hashable {
        let rawValue: String
        /// The `Authorization: AfasToken …` header, with no token in the body (AFAS's current advice).
        public static let header = SOAPTokenPlacement(rawValue: "header")
        /// The legacy `<token>` element holding the XML-escaped token, as the first child of the
        /// operation element; still accepted by Profit but being phased out.
        public static let element = SOAPTokenPlacement(rawValue: "element")
    }

    /// The app connector's keys, needed only for the OTP flow.
    ///
    /// Leading and trailing whitespace and line ends (a key pasted from a file or a terminal) are
    /// trimmed. Each key must then be 32 hexadecimal digits (either case); the OTP calls refuse
    /// anything else with ``AuthError/Code/invalidCredentialFormat`` before sending, because
    /// Profit answers `OtpRequest` with a 2xx even for wrong keys.
    public struct AppConnectorKeys: Sendable {
        /// The app connector's API key (32 hex digits).
        public var apiKey: Secret
        /// The app connector's environment key (32 hex digits), sent as `apiToken` over REST.
        public var environmentKey: Secret

        /// Creates the keys, trimming whitespace and line ends around each.
        public init(apiKey: Secret, environmentKey: Secret) {
            self.apiKey = Self.trimmed(apiKey)
            self.environmentKey = Self.trimmed(environmentKey)
        }

        static func trimmed(_ key: Secret) -> Secret {
            Secret(key.revealed.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        /// Whether `key` is 32 ASCII hexadecimal digits.
        static func isWellFormed(_ key: Secret) -> Bool {
            let bytes = key.revealed.utf8
            return bytes.count == 32 && bytes.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            }
        }
    }

    /// Which Profit web service the OTP flow uses.
    public struct Channel: Sendable, Hashable, CustomStringConvertible {
        /// The name: `"rest"` or `"soap"`.
        public let name: String
        /// `OtpRequest` and `OtpValidation` on the REST services (AFAS Online and local).
        public static let rest = Channel(name: "rest")
        /// `GenerateOTP` and `GetTokenFromOTP` on `tokenconnector.asmx` (local installations).
        public static let soap = Channel(name: "soap")
        public var description: String { name }
    }
}

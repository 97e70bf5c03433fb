public import AuthCore
import HTTPTypes
internal import AuthRuntime
import Foundation

extension ProfitProvider {
    /// Asks Profit to e-mail `userId` an activation code (a one-time password).
    ///
    /// Over REST this is `POST …/OtpRequest` with `apiKey`, `apiToken` (the environment key) and
    /// `userId`; over SOAP it is `GenerateOTP` on `tokenconnector.asmx` with the configured device
    /// description. Profit accepts the REST request even for wrong keys or an unknown user, so
    /// mistakes show only when the code is redeemed. The user must have an e-mail address in
    /// Profit and be in the app connector's user group.
    ///
    /// - Parameters:
    ///   - userId: The Profit user id (or e-mail address).
    ///   - channel: ``Channel/rest`` (default) or ``Channel/soap``.
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidConfiguration`` without keys (or
    ///   without a SOAP URL for ``Channel/soap``), ``AuthError/Code/invalidCredentialFormat`` for a
    ///   key that is not 32 hex digits or an empty user id (nothing is sent then),
    ///   ``AuthError/Code/invalidCredentials`` for a SOAP fault, and the codes of ``error(for:)``
    ///   for a non-2xx answer.
    public func requestOTP(userId: String, over channel: Channel = .rest) async throws {
        try await SecretScrubbing.withSecrets(keySecrets) { try await requestOTPUnscrubbed(userId: userId, over: channel) }
    }

    private func requestOTPUnscrubbed(userId: String, over channel: Channel) async throws {
        let keys = try requireKeys()
        let user = try Self.validatedUserId(userId)
        let response: Reply
        if channel == .soap {
            let request = ProfitSOAP.request(url: try environment.soapURL(ProfitSOAP.tokenService), operation: "GenerateOTP", parameters: [
                ("userId", user), ("apiKey", keys.apiKey.revealed), ("environmentKey", keys.environmentKey.revealed),
                ("description", configuration.deviceDescription),
            ])
            response = try await send(request)
            _ = try ProfitSOAP.result(of: response, operation: "GenerateOTP", faultCode: .invalidCredentials,
                                      maxBytes: configuration.maxResponseBytes)
        } else {
            let request = try otpRequest("OtpRequest", OTPBody(apiKey: keys.apiKey.revealed, apiToken: keys.environmentKey.revealed, userId: user, otp: nil))
            response = try await send(request)
            if let error = response.isSuccess ? nil : ProfitResponse.error(for: response) { throw error }
        }
    }

    /// Exchanges the e-mailed activation code for a token, saves it, and uses it from now on.
    ///
    /// Over REST this is `POST …/OtpValidation` (the ``requestOTP(userId:over:)`` fields plus
    /// `otp`), answered with `{"token": "<token>…</token>"}`; over SOAP it is `GetTokenFromOTP`.
    /// A failed redemption never touches the token already held or stored.
    ///
    /// The code can be used once, so a redemption is retried only when it certainly did not
    /// reach Profit (connection refused, DNS) or Profit asked for it (429, 503). A timeout or a
    /// 502/504 is reported as it is (``AuthError/Code/timeout`` or
    /// ``AuthError/Code/serviceUnavailable``, both transient): Profit may have consumed the code
    /// and issued a token that never arrived, so request a new code rather than retrying this one.
    ///
    /// - Parameters:
    ///   - code: The activation code from the e-mail.
    ///   - userId: The user the code was sent to.
    ///   - channel: ``Channel/rest`` (default) or ``Channel/soap``.
    /// - Returns: The new token.
    /// - Throws: ``AuthError`` with ``AuthError/Code/invalidCredentials`` when Profit refuses the
    ///   code (wrong, used or expired) or the keys (REST: 401, or a 500 with Profit's error body;
    ///   SOAP: a fault), ``AuthError/Code/forbidden`` for 403 (IP restriction),
    ///   ``AuthError/Code/invalidRequest`` for 400, ``AuthError/Code/malformedResponse`` for an
    ///   answer that is not JSON or holds no valid token, ``AuthError/Code/responseTooLarge``,
    ///   ``AuthError/Code/invalidCredentialFormat`` for an empty code or a key that is not 32 hex
    ///   digits (nothing is sent then), ``AuthError/Code/storeFailure`` when saving fails (the
    ///   token is still used), and the codes of ``error(for:)``.
    @discardableResult
    public func redeemOTP(_ code: Secret, userId: String, over channel: Channel = .rest) async throws -> ProfitToken {
        try await SecretScrubbing.withSecrets(keySecrets + [code]) { try await redeemOTPUnscrubbed(code, userId: userId, over: channel) }
    }

    private func redeemOTPUnscrubbed(_ code: Secret, userId: String, over channel: Channel) async throws -> ProfitToken {
        let keys = try requireKeys()
        let user = try Self.validatedUserId(userId)
        let otp = code.revealed.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !otp.isEmpty, !otp.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AuthError(.invalidCredentialFormat, provider: Self.providerName, message: "the activation code is empty or holds control characters")
        }
        // The code works once: redeem it only into a store that can keep the token.
        try await checkStoreWritable()
        let token: ProfitToken
        if channel == .soap {
            let request = ProfitSOAP.request(url: try environment.soapURL(ProfitSOAP.tokenService), operation: "GetTokenFromOTP", parameters: [
                ("userId", user), ("apiKey", keys.apiKey.revealed), ("environmentKey", keys.environmentKey.revealed), ("otp", otp),
            ])
            let response = try await send(request, oneTime: true)
            let result = try ProfitSOAP.result(of: response, operation: "GetTokenFromOTP", faultCode: .invalidCredentials,
                                               maxBytes: configuration.maxResponseBytes)
            guard let result, let parsed = try? ProfitToken(result) else {
                throw AuthError.malformedResponse("GetTokenFromOTP answered without a valid token", provider: Self.providerName, status: response.status)
            }
            token = parsed
        } else {
            let request = try otpRequest("OtpValidation", OTPBody(apiKey: keys.apiKey.revealed, apiToken: keys.environmentKey.revealed, userId: user, otp: otp))
            let response = try await send(request, oneTime: true)
            try endpoint.checkSize(response)
            if let error = response.isSuccess ? nil : ProfitResponse.error(for: response) {
                // 401, or Profit's functional error (a 500 with its error body), means the code or
                // the keys were refused. 403 (IP restriction), 400 (missing elements) and a 500
                // that is not Profit's keep their own meaning.
                let refused = response.status == 401 || (response.status == 500 && ProfitResponse.hasProfitErrorBody(response))
                guard refused else { throw error }
                throw AuthError(.invalidCredentials, provider: Self.providerName, status: response.status,
                                serverCode: error.serverCode,
                                message: ProfitResponse.errorBody(of: response).message
                                    ?? "the activation code was not accepted (wrong, used or expired) or the keys are wrong",
                                logReference: error.logReference)
            }
            token = try ProfitResponse.tokenFromValidation(response)
        }
        try await install(token, userId: user, obtainedVia: "otp-\(channel.name)")
        return token
    }

    // MARK: - Helpers

    /// The JSON body of `OtpRequest` and `OtpValidation`.
    struct OTPBody: Encodable {
        let apiKey: String
        let apiToken: String
        let userId: String
        let otp: String?
    }

    private func otpRequest(_ path: String, _ body: OTPBody) throws -> OutgoingRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(body) } catch {
            throw AuthError(.invalidRequest, provider: Self.providerName, message: "cannot encode the \(path) body")
        }
        var fields: HTTPFields = [.contentType: "application/json", .accept: "application/json"]
        try Self.addConfiguredFields(to: &fields, configuration: configuration)
        return OutgoingRequest(method: .post, url: try environment.restURL(path), headerFields: fields, body: data)
    }

    /// The keys, trimmed (again: the properties may have been set after creation) and checked.
    /// The app connector's keys as given (trimmed and untrimmed), for scrubbing echoes of them.
    private nonisolated var keySecrets: [Secret] {
        guard let keys else { return [] }
        return [keys.apiKey, keys.environmentKey]
    }

    private func requireKeys() throws(AuthError) -> AppConnectorKeys {
        guard let configured = keys else {
            throw AuthError(.invalidConfiguration, provider: Self.providerName,
                            message: "the OTP flow needs the app connector's API key and environment key")
        }
        let keys = AppConnectorKeys(apiKey: configured.apiKey, environmentKey: configured.environmentKey)
        guard !keys.apiKey.isEmpty, !keys.environmentKey.isEmpty else {
            throw AuthError(.invalidConfiguration, provider: Self.providerName,
                            message: "the OTP flow needs the app connector's API key and environment key")
        }
        for (key, name) in [(keys.apiKey, "API key"), (keys.environmentKey, "environment key")] where !AppConnectorKeys.isWellFormed(key) {
            throw AuthError(.invalidCredentialFormat, provider: Self.providerName,
                            message: "the app connector's \(name) must be 32 hexadecimal digits")
        }
        return keys
    }

    static func validatedUserId(_ userId: String) throws(AuthError) -> String {
        let trimmed = userId.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 256,
              !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AuthError(.invalidCredentialFormat, provider: providerName, message: "the user id is empty, too long or holds control characters")
        }
        return trimmed
    }
}

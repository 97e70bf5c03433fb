public import AuthCore
import HTTPTypes

extension AuthError.Code {
    /// Profit refused the request for a functional reason (HTTP 500 with an `externalMessage`):
    /// a validation rule, a missing right, a wrong field. ``AuthError/logReference`` holds
    /// Profit's `profitLogReference` for AFAS support.
    public static let profitFunctionalError = AuthError.Code("profit_functional_error")
}

public import AuthCore
import HTTPTypes

extension AuthError.Code {
    /// Profix-it refused to change the password; ``AuthError/serverMessage`` holds the service's
    /// user-friendly explanation.
    public static let passwordChangeRejected = AuthError.Code("password_change_rejected")
}

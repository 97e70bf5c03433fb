/// What `GET /self` tells about the agreement a token pair opens.
///
/// e-conomic omits `null`s and writes booleans only when they are true, so every field is
/// optional (booleans default to `false`) and numbers written as text are accepted.
public struct EconomicAgreement: Sendable, Equatable, Decodable {
    /// The agreement's type (for example "Professional").
    public struct AgreementType: Sendable, Equatable, Decodable {
        /// The type's number.
        public var agreementTypeNumber: Int?
        /// The type's name.
        public var name: String?

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            agreementTypeNumber = c.lenientInt(.agreementTypeNumber)
            name = c.lenientString(.name)
        }
        enum Keys: String, CodingKey { case agreementTypeNumber, name }
    }

    /// The company that owns the agreement.
    public struct Company: Sendable, Equatable, Decodable {
        /// The company name.
        public var name: String?
        /// The VAT number.
        public var vatNumber: String?
        /// The country.
        public var country: String?
        /// The company identification number (CVR and the like).
        public var companyIdentificationNumber: String?

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            name = c.lenientString(.name)
            vatNumber = c.lenientString(.vatNumber)
            country = c.lenientString(.country)
            companyIdentificationNumber = c.lenientString(.companyIdentificationNumber)
        }
        enum Keys: String, CodingKey { case name, vatNumber, country, companyIdentificationNumber }
    }

    /// A role the app needs.
    public struct Role: Sendable, Equatable, Decodable {
        /// The role's number.
        public var roleNumber: Int?
        /// The role's name.
        public var name: String?

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            roleNumber = c.lenientInt(.roleNumber)
            name = c.lenientString(.name)
        }
        enum Keys: String, CodingKey { case roleNumber, name }
    }

    /// The app the tokens belong to.
    public struct Application: Sendable, Equatable, Decodable {
        /// The app's number.
        public var appNumber: Int?
        /// The app's public token (the one in its requestURL; not a secret).
        public var appPublicToken: String?
        /// The app's name.
        public var name: String?
        /// The roles the app requires.
        public var requiredRoles: [Role]

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            appNumber = c.lenientInt(.appNumber)
            appPublicToken = c.lenientString(.appPublicToken)
            name = c.lenientString(.name)
            requiredRoles = (try? c.decodeIfPresent([Role].self, forKey: .requiredRoles)) ?? []
        }
        enum Keys: String, CodingKey { case appNumber, appPublicToken, name, requiredRoles }
    }

    /// The user who granted access.
    public struct User: Sendable, Equatable, Decodable {
        /// The login id.
        public var loginId: String?
        /// The user's name.
        public var name: String?
        /// The user's e-mail address.
        public var email: String?

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            loginId = c.lenientString(.loginId)
            name = c.lenientString(.name)
            email = c.lenientString(.email)
        }
        enum Keys: String, CodingKey { case loginId, name, email }
    }

    /// The agreement's number: the identity to key stored grants by.
    public var agreementNumber: Int?
    /// The agreement's type.
    public var agreementType: AgreementType?
    /// The company.
    public var company: Company?
    /// The app.
    public var application: Application?
    /// The user.
    public var user: User?
    /// The agreement's base currency (`settings.baseCurrency`).
    public var baseCurrency: String?
    /// Whether the agreement can send electronic invoices (omitted by the service when false).
    public var canSendElectronicInvoice: Bool

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        agreementNumber = c.lenientInt(.agreementNumber)
        agreementType = try? c.decodeIfPresent(AgreementType.self, forKey: .agreementType)
        company = try? c.decodeIfPresent(Company.self, forKey: .company)
        application = try? c.decodeIfPresent(Application.self, forKey: .application)
        user = try? c.decodeIfPresent(User.self, forKey: .user)
        let settings = try? c.nestedContainer(keyedBy: SettingsKeys.self, forKey: .settings)
        baseCurrency = settings?.lenientString(.baseCurrency)
        canSendElectronicInvoice = c.lenientBool(.canSendElectronicInvoice)
    }

    enum Keys: String, CodingKey {
        case agreementNumber, agreementType, company, application, user, settings, canSendElectronicInvoice
    }
    enum SettingsKeys: String, CodingKey { case baseCurrency }
}

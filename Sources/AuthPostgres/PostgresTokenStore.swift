#if PostgreSQL
public import AuthCore
public import Crypto
import Foundation
public import Logging
public import PostgresNIO

/// A ``TokenStore`` in PostgreSQL that coordinates rotations across every app instance.
///
/// Several instances of an app behind a load balancer share one credential per tenant. With
/// rotating refresh tokens (Profix-it), two instances that refresh at once log the user out: the
/// second redemption of the old refresh token fails. This store makes ``update(_:_:)`` hold a
/// per-credential lock (`pg_advisory_xact_lock` inside a transaction) while the provider reads the
/// stored pair, refreshes only if nobody else already did, and saves; the commit releases the lock.
/// A lock wait is bounded by ``Configuration/lockTimeout``, and the server releases the lock of an
/// instance whose connection dies (a crash never blocks the others for long).
///
/// ```swift
/// let client = PostgresClient(configuration: .init(host: "db", username: "app", password: secret,
///                                                   database: "app", tls: .prefer(.makeClientConfiguration())))
/// let store = PostgresTokenStore(client: client, configuration: .init(encryptionKey: key))
/// try await store.migrate()            // creates the table, once per database
/// let provider = ProfixProvider(client: registration, store: store, key: TokenKey(provider: "profix", account: user))
/// ```
///
/// The app runs `client.run()` (for example in its ServiceGroup) for as long as the store is used.
///
/// ### Encryption at rest
/// With ``Configuration/encryptionKey`` every credential is sealed with AES-GCM before it leaves
/// the process, bound to its provider and account (a row copied to another key does not open).
/// The key is never stored. Rows written without a key are still read and are sealed at their
/// next write.
public final class PostgresTokenStore: TokenStore {
    /// Options for the store.
    public struct Configuration: Sendable {
        /// How long ``update(_:_:)`` waits for another instance to release a credential's lock
        /// before it fails with ``AuthError/Code/storeFailure``. Default 120 s: longer than the
        /// longest coordinated refresh with the default settings (three token requests of at most
        /// 30 s each plus back-off), so nobody gives up on a refresh that can still succeed.
        public var lockTimeout: Duration
        /// The 256-bit AES-GCM key that seals credentials; `nil` stores them as JSON. Default `nil`.
        public var encryptionKey: SymmetricKey? {
            get { keyBytes.map { SymmetricKey(data: $0) } }
            set { keyBytes = newValue.map { key in key.withUnsafeBytes { Data($0) } } }
        }
        /// The key's bytes (`SymmetricKey` is not `Sendable`); never printed or stored.
        private var keyBytes: Data?

        /// Creates a configuration; every parameter has the documented default.
        public init(lockTimeout: Duration = .seconds(120), encryptionKey: SymmetricKey? = nil) {
            self.lockTimeout = lockTimeout
            self.encryptionKey = encryptionKey
        }
    }

    /// The schema version ``migrate()`` brings a database to.
    public static let schemaVersion = 1

    private let client: PostgresClient
    private let configuration: Configuration
    private let logger: Logger

    /// Creates a store over `client` (which the app runs).
    public init(client: PostgresClient, configuration: Configuration = .init(),
                logger: Logger = Logger(label: "swift-accounting-auth.postgres")) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: - Schema

    /// Creates or upgrades the store's tables (see ``PostgresSchema``); safe to run from many
    /// instances at once (they take turns under an advisory lock) and on every start.
    ///
    /// - Throws: ``AuthError/Code/storeFailure``.
    public func migrate() async throws {
        try await attempt("cannot create the token store's tables") {
            try await client.withTransaction(logger: logger) { connection in
                try await self.execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))", on: connection)
                for statement in PostgresSchema.statements(upTo: Self.schemaVersion) {
                    try await self.execute(PostgresQuery(unsafeSQL: statement), on: connection)
                }
            }
        }
    }

    // MARK: - TokenStore

    /// The credential stored under `key`, or `nil`.
    ///
    /// - Throws: ``AuthError/Code/storeCorrupt`` for a row that cannot be opened or decoded,
    ///   ``AuthError/Code/storeFailure`` when the database cannot be read.
    public func load(_ key: TokenKey) async throws -> StoredCredential? {
        try await attempt("the token store could not be read") {
            try await client.withConnection { connection in try await self.read(key, on: connection) }
        }
    }

    /// Stores `credential` under `key` (committed when this returns).
    ///
    /// - Throws: ``AuthError/Code/storeFailure``.
    public func save(_ credential: StoredCredential, for key: TokenKey) async throws {
        let sealed = try seal(credential, for: key)
        try await attempt("the token store could not be written") {
            try await client.withConnection { connection in try await self.write(sealed, for: key, on: connection) }
        }
    }

    /// Removes the credential stored under `key`.
    ///
    /// - Throws: ``AuthError/Code/storeFailure``.
    public func remove(_ key: TokenKey) async throws {
        try await attempt("the token store could not remove a credential") {
            try await client.withConnection { connection in
                try await self.execute("DELETE FROM accounting_auth_credentials WHERE provider = \(key.provider) AND account = \(key.account)",
                                       on: connection)
            }
        }
    }

    /// Runs `body` on the stored credential while this transaction holds the credential's lock, so
    /// that no other instance reads or changes it in between; saves what `body` returns and
    /// commits, which releases the lock.
    ///
    /// - Throws: what `body` throws (the transaction rolls back, nothing changes);
    ///   ``AuthError/Code/storeFailure`` when the lock is not had within
    ///   ``Configuration/lockTimeout`` or the database fails.
    public func update<Result: Sendable>(
        _ key: TokenKey,
        _ body: (StoredCredential?) async throws -> (StoredCredential?, Result)
    ) async throws -> Result {
        let milliseconds = max(1, Int(configuration.lockTimeout.components.seconds * 1_000
                                          + configuration.lockTimeout.components.attoseconds / 1_000_000_000_000_000))
        let lock = Self.lockID(for: key)
        return try await attempt("the token store could not update a credential") {
            try await client.withTransaction(logger: logger) { connection in
                try await self.execute(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = \(milliseconds)"), on: connection)
                try await self.execute("SELECT pg_advisory_xact_lock(\(lock))", on: connection)
                let current = try await self.read(key, on: connection)
                let (next, result) = try await body(current)
                if let next {
                    if next != current { try await self.write(try self.seal(next, for: key), for: key, on: connection) }
                } else if current != nil {
                    try await self.execute("DELETE FROM accounting_auth_credentials WHERE provider = \(key.provider) AND account = \(key.account)",
                                           on: connection)
                }
                return result
            }
        }
    }

    /// `true`: every instance sharing the database takes the same lock.
    public var coordinatesUpdates: Bool { true }

    /// Writes a probe row and rolls it back, so a read-only database, a missing table or missing
    /// rights are found before a one-time code or refresh token is spent.
    ///
    /// - Throws: ``AuthError/Code/storeFailure``.
    public func checkWritable(_ key: TokenKey) async throws {
        struct RollBack: Error {}
        func isRollBack(_ error: any Error) -> Bool {
            error is RollBack || ((error as? PostgresTransactionError)?.closureError is RollBack
                                  && (error as? PostgresTransactionError)?.rollbackError == nil)
        }
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await self.execute("""
                    INSERT INTO accounting_auth_credentials (provider, account, credential, encrypted)
                    VALUES (\("~probe"), \(UUID().uuidString), \(Data()), false)
                    """, on: connection)
                throw RollBack()
            }
        } catch {
            if isRollBack(error) { return }
            throw Self.failure(error, "the token store cannot save \(key)")
        }
    }

    // MARK: - Rows

    /// Runs a statement and reads its whole answer: PostgreSQL reports a statement's error (a
    /// lock timeout, say) with its rows, so an answer left unread would surface the error only at
    /// the next statement, in an aborted transaction.
    private func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(query, logger: logger)
        for try await _ in rows {}
    }

    private func read(_ key: TokenKey, on connection: PostgresConnection) async throws -> StoredCredential? {
        let rows = try await connection.query(
            "SELECT credential, encrypted FROM accounting_auth_credentials WHERE provider = \(key.provider) AND account = \(key.account)",
            logger: logger)
        for try await (blob, encrypted) in rows.decode((Data, Bool).self) {
            return try open(blob, encrypted: encrypted, for: key)
        }
        return nil
    }

    private func write(_ sealed: (Data, Bool), for key: TokenKey, on connection: PostgresConnection) async throws {
        try await execute("""
            INSERT INTO accounting_auth_credentials (provider, account, credential, encrypted, version, updated_at)
            VALUES (\(key.provider), \(key.account), \(sealed.0), \(sealed.1), 1, now())
            ON CONFLICT (provider, account) DO UPDATE
            SET credential = EXCLUDED.credential, encrypted = EXCLUDED.encrypted,
                version = accounting_auth_credentials.version + 1, updated_at = now()
            """, on: connection)
    }

    /// The stored bytes of a credential: JSON, sealed with AES-GCM when a key is configured.
    func seal(_ credential: StoredCredential, for key: TokenKey) throws(AuthError) -> (Data, Bool) {
        let json: Data
        do { json = try StoreCoding.encoder.encode(credential) } catch {
            throw AuthError(.storeFailure, message: "cannot encode the credential for \(key)")
        }
        guard let encryptionKey = configuration.encryptionKey else { return (json, false) }
        do {
            let box = try AES.GCM.seal(json, using: encryptionKey, authenticating: Self.associatedData(for: key))
            guard let combined = box.combined else { throw AuthError(.storeFailure, message: "AES-GCM gave no combined box") }
            return (combined, true)
        } catch {
            throw AuthError(.storeFailure, message: "cannot seal the credential for \(key)")
        }
    }

    func open(_ blob: Data, encrypted: Bool, for key: TokenKey) throws(AuthError) -> StoredCredential {
        var json = blob
        if encrypted {
            guard let encryptionKey = configuration.encryptionKey else {
                throw AuthError(.storeCorrupt, message: "the credential for \(key) is sealed and the store has no key")
            }
            do {
                json = try AES.GCM.open(try AES.GCM.SealedBox(combined: blob), using: encryptionKey,
                                        authenticating: Self.associatedData(for: key))
            } catch {
                throw AuthError(.storeCorrupt, message: "the credential for \(key) does not open with this key; it was left untouched")
            }
        }
        do {
            return try StoreCoding.decoder.decode(StoredCredential.self, from: json)
        } catch {
            throw AuthError(.storeCorrupt, message: "the credential for \(key) cannot be decoded; it was left untouched")
        }
    }

    static func associatedData(for key: TokenKey) -> Data {
        Data(key.provider.utf8) + Data([0]) + Data(key.account.utf8)
    }

    /// The advisory-lock number of a credential: 64 bits of the SHA-256 of its key.
    static func lockID(for key: TokenKey) -> Int64 {
        let digest = Array(SHA256.hash(data: associatedData(for: key)))
        return digest.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }

    // MARK: - Errors

    @discardableResult
    private func attempt<T>(_ message: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw Self.failure(error, message) }
    }

    /// A typed error; database errors are described by their SQLSTATE only (their text may quote
    /// the statement, and statements carry credentials).
    static func failure(_ error: any Error, _ message: String) -> AuthError {
        if let error = error as? AuthError { return error }
        if let transaction = error as? PostgresTransactionError,
           let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
            // What the body threw (a refused refresh, a lock timeout) keeps its meaning.
            return failure(inner, message)
        }
        if let error = error as? PSQLError {
            let state = error.serverInfo?[.sqlState]
            if state == "55P03" {
                return AuthError(.storeFailure, serverCode: state, message: "timed out waiting for another instance's lock on the credential")
            }
            return AuthError(.storeFailure, serverCode: state, message: "\(message) (PostgreSQL \(state ?? error.code.description))")
        }
        if error is CancellationError { return AuthError(.cancelled, message: "cancelled while using the token store") }
        return AuthError(.storeFailure, message: message)
    }
}
#endif

#if PostgreSQL
/// The tables of ``PostgresTokenStore``, as versioned migrations. ``PostgresTokenStore/migrate()``
/// runs them; an administrator who prefers to run SQL by hand runs the same statements.
///
/// Version 1:
/// ```sql
/// CREATE TABLE IF NOT EXISTS accounting_auth_schema (version integer NOT NULL);
/// CREATE TABLE IF NOT EXISTS accounting_auth_credentials (
///     provider   text        NOT NULL,
///     account    text        NOT NULL,
///     credential bytea       NOT NULL,    -- JSON, or an AES-GCM combined box when encrypted
///     encrypted  boolean     NOT NULL DEFAULT false,
///     version    bigint      NOT NULL DEFAULT 1,   -- +1 on every write
///     updated_at timestamptz NOT NULL DEFAULT now(),
///     PRIMARY KEY (provider, account)
/// );
/// ```
public enum PostgresSchema {
    /// The advisory lock migrations run under, so instances starting together take turns.
    static let migrationLock: Int64 = 0x4155_5448_5343_4845   // "AUTHSCHE"

    /// Each version's statements, in order.
    static let migrations: [[String]] = [
        [
            "CREATE TABLE IF NOT EXISTS accounting_auth_schema (version integer NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS accounting_auth_credentials (
                provider text NOT NULL,
                account text NOT NULL,
                credential bytea NOT NULL,
                encrypted boolean NOT NULL DEFAULT false,
                version bigint NOT NULL DEFAULT 1,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (provider, account)
            )
            """,
        ],
    ]

    /// The statements that bring a database from whatever version it records up to `version`:
    /// each migration applies only when the recorded version is below it.
    static func statements(upTo version: Int) -> [String] {
        var all = ["CREATE TABLE IF NOT EXISTS accounting_auth_schema (version integer NOT NULL)"]
        for (index, migration) in migrations.prefix(version).enumerated() {
            let target = index + 1
            let guarded = migration.map { statement in
                "DO $$ BEGIN IF COALESCE((SELECT max(version) FROM accounting_auth_schema), 0) < \(target) THEN EXECUTE $sql$\(statement)$sql$; END IF; END $$"
            }
            all += guarded
            all.append("INSERT INTO accounting_auth_schema (version) SELECT \(target) WHERE COALESCE((SELECT max(version) FROM accounting_auth_schema), 0) < \(target)")
        }
        return all
    }
}
#endif

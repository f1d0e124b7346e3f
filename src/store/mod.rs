//! The only place with SQL: the connection, migrations, and (as later
//! capabilities land) upserts, snapshot queries and the outbox.
//!
//! SQLite is opened in WAL mode with foreign keys on and a busy timeout, so
//! the daemon and a CLI command (`status`, `ack`) can share the file.

pub mod ads;
pub mod alerts;
pub mod backup;
pub mod catalog;
pub mod fba_inventory;
pub mod jobs;
pub mod kpis;
pub mod listings;
pub mod metrics;
mod migrate;
pub mod names;
pub mod ops;
pub mod orders;
pub mod outbox;
pub mod pricing;
pub mod receivers;
pub mod recent_sales;
pub mod reports;
pub mod retention;
pub mod reviews;
mod rows;
pub mod seller_reports;
pub mod series;
pub mod snapshot;
pub mod status;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

pub use migrate::{applied_versions, migrate, MigrateReport, Migration, MIGRATIONS};
pub(crate) use rows::{first_row, rows, statement_rows};

/// Errors of the store, with what to do about them. Every failure on a
/// database file names the file (see [`StoreError::at`]); causes are part
/// of each message and not `source()`, so the CLI's `error: {:#}` prints
/// each once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database's directory is missing: nothing creates it, because a
    /// typo in `[daemon] database` would otherwise start a fresh database
    /// and lose the alert state that keeps emails from repeating.
    #[error(
        "database {path}: the directory {dir} does not exist: correct `[daemon] database` in the \
         config, or create the directory (`mkdir -p {dir}`) if this is a new installation"
    )]
    NoDirectory { path: String, dir: String },
    #[error(
        "database {path} does not exist: correct `[daemon] database` in the config, or run \
         `flywheel migrate` to create a new one"
    )]
    Missing { path: String },
    #[error(
        "cannot create the database {path}: {cause}: {}",
        create_hint(path, cause)
    )]
    Create { path: String, cause: std::io::Error },
    /// SQLite failed on the file at `path`.
    #[error("{}", describe(path, cause))]
    Database {
        path: String,
        cause: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {found}, newer than this flywheel knows ({known}): \
         upgrade flywheel, or restore a backup made by this version"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("migration {version} ({name}) failed: {}", describe(path, cause))]
    Migration {
        path: String,
        version: i64,
        name: &'static str,
        cause: rusqlite::Error,
    },
    /// A failure with no file named yet: the boundary that knows the file
    /// turns it into [`StoreError::Database`] with [`StoreError::at`].
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

impl StoreError {
    /// Names the database file in an error that does not name it yet.
    pub fn at(self, path: &Path) -> StoreError {
        match self {
            StoreError::Sql(cause) => StoreError::Database {
                path: path.display().to_string(),
                cause,
            },
            e => e,
        }
    }
}

/// Runs `sql` with `params` and maps every row with `f`: the shape every
/// list query of the store shares.
pub(crate) fn all_rows<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, f)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Runs `sql` once per row, with the parameters `bind` gives it, and
/// returns the rows it changed: the loop of every batch upsert.
pub(crate) fn execute_each<R>(
    conn: &Connection,
    sql: &str,
    rows: &[R],
    mut bind: impl FnMut(&mut rusqlite::Statement<'_>, &R) -> rusqlite::Result<usize>,
) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let mut changed = 0u64;
    for r in rows {
        changed += bind(&mut stmt, r)? as u64;
    }
    Ok(changed)
}

/// An upsert into `table` that rewrites a row only when one of `data`
/// differs, so an unchanged row keeps its times. Parameters `?1…` in the
/// order key, data, touch (rewritten with the row: the time written), keep
/// (inserted only: the time first seen). Without `data`, a known row is
/// left as it is.
pub(crate) fn upsert_sql(
    table: &str,
    key: &[&str],
    data: &[&str],
    touch: &[&str],
    keep: &[&str],
) -> String {
    let cols: Vec<&str> = key
        .iter()
        .chain(data)
        .chain(touch)
        .chain(keep)
        .copied()
        .collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let set: Vec<String> = data
        .iter()
        .chain(touch)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let differs: Vec<String> = data
        .iter()
        .map(|c| format!("{c} IS NOT excluded.{c}"))
        .collect();
    if data.is_empty() {
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
            cols.join(", "),
            marks.join(", "),
            key.join(", ")
        )
    } else {
        format!(
            "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {} WHERE {}",
            cols.join(", "),
            marks.join(", "),
            key.join(", "),
            set.join(", "),
            differs.join(" OR ")
        )
    }
}

/// What went wrong with the database at `path` and what to do, for a
/// SQLite error (pure: a table test covers every case).
pub fn describe(path: &str, e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    let dir = directory_of(Path::new(path)).display().to_string();
    let Some(code) = e.sqlite_error_code() else {
        return format!("database {path}: {e}");
    };
    match code {
        C::NotADatabase => format!(
            "{path} is not a flywheel database (SQLite: {e}): check `[daemon] database` in the \
             config; if it is the right file it is damaged: restore it from a backup made with \
             `flywheel backup`"
        ),
        C::DatabaseCorrupt => format!(
            "database {path} is damaged (SQLite: {e}): stop flywheel and restore it from a \
             backup made with `flywheel backup` (`sqlite3 {path} 'PRAGMA integrity_check'` shows \
             the damage)"
        ),
        C::DatabaseBusy | C::DatabaseLocked => format!(
            "database {path} is locked (SQLite: {e}): another process held it for more than {} s \
             (`flywheel run` or another flywheel command in a long write, or an sqlite3 shell \
             with an open transaction): let it finish or stop it, then try again",
            BUSY_TIMEOUT.as_secs()
        ),
        C::ReadOnly | C::PermissionDenied => format!(
            "database {path} is read-only (SQLite: {e}): check the permissions of {path} and of \
             its directory {dir} (SQLite writes its -wal and -shm files there) and that the file \
             system is mounted read-write"
        ),
        C::DiskFull => format!(
            "database {path}: the disk is full (SQLite: {e}): free space in {dir}, then try again"
        ),
        C::CannotOpen => format!(
            "cannot open database {path} (SQLite: {e}): check the permissions of {path} and of \
             its directory {dir} (SQLite creates its -wal and -shm files there) and that the \
             file system is mounted read-write"
        ),
        C::SystemIoFailure => format!(
            "database {path}: I/O error (SQLite: {e}): check free space in {dir} and the disk \
             itself (`dmesg`)"
        ),
        _ => format!("database {path}: {e}"),
    }
}

fn create_hint(path: &str, e: &std::io::Error) -> String {
    let dir = directory_of(Path::new(path)).display().to_string();
    match e.kind() {
        std::io::ErrorKind::StorageFull => format!("free space in {dir}"),
        _ => format!(
            "check that this user may write in {dir} and that the file system is mounted read-write"
        ),
    }
}

/// The directory a database lives in (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The page size of a new database, bytes.
pub const PAGE_SIZE: i64 = 16384;

/// How long a writer waits for another to finish before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens an existing database and applies the pragmas every connection
/// needs. It neither creates nor migrates: [`open_and_migrate`] does.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    if !is_in_memory(path) {
        check_directory(path)?;
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
    }
    let open = || -> Result<Connection, StoreError> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        Ok(conn)
    };
    open().map_err(|e| e.at(path))
}

/// Refuses a database whose directory does not exist (see
/// [`StoreError::NoDirectory`]).
pub fn check_directory(path: &Path) -> Result<(), StoreError> {
    let dir = directory_of(path);
    if is_in_memory(path) || dir.is_dir() {
        return Ok(());
    }
    Err(StoreError::NoDirectory {
        path: path.display().to_string(),
        dir: dir.display().to_string(),
    })
}

/// For `check-config`: why the database at `path` cannot be opened or
/// written, without creating anything that is not there (a probe file is
/// created and removed at once).
pub fn location_problem(path: &Path) -> Option<String> {
    if is_in_memory(path) {
        return None;
    }
    if let Err(e) = check_directory(path) {
        return Some(e.to_string());
    }
    let dir = directory_of(path);
    let probe = dir.join(format!(".flywheel-check-{}", std::process::id()));
    let writable = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe);
    match writable {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => {
            return Some(format!(
                "database directory {} is not writable ({e}): SQLite writes the database and its \
                 -wal and -shm files there; check its permissions and that the file system is \
                 mounted read-write",
                dir.display()
            ))
        }
    }
    if path.exists() {
        if let Err(e) = std::fs::OpenOptions::new().write(true).open(path) {
            return Some(format!(
                "database {} is not writable ({e}): check its permissions",
                path.display()
            ));
        }
    }
    None
}

/// Creates a missing database file readable by its owner only: it holds
/// the seller's sales, orders and buyers' feedback, and SQLite would
/// create it 0644 (under the usual umask). SQLite gives the `-wal` and
/// `-shm` files the database file's mode, so they follow. An existing
/// file is left as it is (see [`readable_by_others`]). Returns whether it
/// created the file. The directory must exist.
fn create_private(path: &Path) -> Result<bool, StoreError> {
    if is_in_memory(path) {
        return Ok(false);
    }
    check_directory(path)?;
    if path.exists() {
        return Ok(false);
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(true),
        // Another process created it meanwhile: that one is the database.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(cause) => Err(StoreError::Create {
            path: path.display().to_string(),
            cause,
        }),
    }
}

fn is_in_memory(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.is_empty() || s == ":memory:" || s.starts_with("file:")
}

/// The warning for a database file other users may read (`o+r`), naming
/// the fix; `None` for one they cannot (or that does not exist). Group
/// access is left alone: a group is how an admin lets operators run
/// `flywheel status` against the daemon's database.
pub fn readable_by_others(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if is_in_memory(path) {
            return None;
        }
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o004 != 0).then(|| {
            format!(
                "database {} is readable by other users (mode {:04o}): it holds your sales data; run `chmod 600 {}`",
                path.display(),
                mode & 0o7777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // A new database gets 16 KiB pages (SQLite's default is 4 KiB): the
    // synced tables are written in bulk (a report of a million rows) and
    // read by range, and larger pages make both cheaper (the `ingest`
    // bench: about 15% less CPU per row). Only an empty database takes the
    // setting; an existing one keeps its page size.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    // WAL lets readers (status, alerts) run while the daemon writes;
    // NORMAL sync is durable across process crashes in WAL mode.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Refreshes the query planner's statistics where the data changed much
/// (SQLite's `PRAGMA optimize`, on every table, each ANALYZE bounded to a
/// sample): run after a sync round. Without statistics SQLite cannot tell
/// that one account's orders of a week are few among the years stored,
/// and the KPI views read every order line (the demo's history: 1.4 s
/// per marketplace without, 0.2 s with). Best effort: a failure leaves the
/// old statistics, never wrong data.
pub fn optimize(conn: &Connection) {
    if let Err(e) = conn.execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002;") {
        tracing::warn!(error = %e, "could not refresh the database's query statistics");
    }
}

/// A larger page cache for one bulk write (a history report of a million
/// order lines), restored when dropped. The orders tables have indexes by
/// SKU and ASIN that a report fills in no particular order: with SQLite's
/// default 2 MiB cache most of those inserts re-read a page the cache just
/// dropped (the `ingest` bench: a third less CPU with 16 MiB). The daemon
/// gives the memory back afterwards, so its idle footprint stays small.
pub struct BulkCache<'c> {
    conn: &'c Connection,
    before: i64,
}

/// The cache a [`BulkCache`] sets, KiB.
pub const BULK_CACHE_KIB: i64 = 16 * 1024;

impl<'c> BulkCache<'c> {
    pub fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        let before: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        conn.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
        Ok(BulkCache { conn, before })
    }
}

impl Drop for BulkCache<'_> {
    fn drop(&mut self) {
        // Best effort: a failure leaves a larger cache, never wrong data.
        let _ = self.conn.pragma_update(None, "cache_size", self.before);
        let _ = self.conn.execute_batch("PRAGMA shrink_memory");
    }
}

/// Opens the database and brings its schema up to date (every command that
/// writes goes through here). A missing file is created in an existing
/// directory, loudly: a new database has no alert state, so a mistyped
/// path would repeat every alert email. Warns, once per command (`run`,
/// `status`, `doctor`, `sync` …), when other users can read the database.
/// Closes the job runs whose process is gone (see `jobs`).
pub fn open_and_migrate(path: &Path) -> Result<(Connection, MigrateReport), StoreError> {
    let created = create_private(path)?;
    let mut conn = open(path)?;
    if let Some(warning) = readable_by_others(path) {
        tracing::warn!("{warning}");
    }
    let report = migrate(&mut conn, &path.display().to_string())?;
    if created {
        tracing::warn!(
            "created new database {}: it holds no history and no alert state, so every current \
             problem alerts (and emails) again; if flywheel has used another database before, \
             stop it and correct `[daemon] database`",
            path.display()
        );
    }
    jobs::close_abandoned_runs_on_open(&conn);
    Ok((conn, report))
}

/// A new database in memory with the current schema, set up as [`open`]
/// sets up a file: for work that must leave no file behind (`auth`'s
/// doctor run, before the daemon's database exists) and for tests.
pub fn in_memory() -> Result<Connection, StoreError> {
    open_and_migrate(Path::new(":memory:")).map(|(conn, _)| conn)
}

/// Fixtures shared by the tests of the store and of the layers above it.
#[cfg(test)]
pub(crate) mod testing {
    use rusqlite::Connection;

    /// Adds the account `name` (region `na`, created 2026-01-01), which the
    /// rows a test writes belong to.
    pub fn add_account(conn: &Connection, name: &str) {
        conn.execute(
            "INSERT INTO accounts (name, region, created_at, updated_at)
             VALUES (?1, 'na', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [name],
        )
        .unwrap();
    }

    /// Adds the marketplace `id` (Los Angeles days, USD) of `account`.
    pub fn add_marketplace(conn: &Connection, account: &str, id: &str) {
        conn.execute(
            "INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency,
                 created_at, updated_at)
             VALUES (?1, ?2, 'US', 'America/Los_Angeles', 'USD', '2026-01-01T00:00:00Z',
                 '2026-01-01T00:00:00Z')",
            [account, id],
        )
        .unwrap();
    }

    /// Adds the Ads profile `profile_id` of `account` in `marketplace`.
    pub fn add_ads_profile(conn: &Connection, profile_id: i64, account: &str, marketplace: &str) {
        conn.execute(
            "INSERT INTO ads_profiles (profile_id, account, country_code, currency, timezone,
                 marketplace_id, account_type, fetched_at)
             VALUES (?1, ?2, 'US', 'USD', 'America/Los_Angeles', ?3, 'seller',
                 '2026-01-01T00:00:00Z')",
            rusqlite::params![profile_id, account, marketplace],
        )
        .unwrap();
    }

    /// A new database in memory (see [`super::in_memory`]) holding the
    /// account `a`.
    pub fn db() -> Connection {
        let conn = super::in_memory().unwrap();
        add_account(&conn, "a");
        conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    /// Each SQLite failure a person meets names the file and the next step
    /// (the binary-level tests cover the ones a test can provoke).
    #[test]
    fn every_database_failure_names_the_file_and_what_to_do() {
        let cases: &[(i32, &[&str])] = &[
            (
                ffi::SQLITE_NOTADB,
                &["/d/f.db is not a flywheel database", "flywheel backup"],
            ),
            (
                ffi::SQLITE_CORRUPT,
                &["database /d/f.db is damaged", "restore it from a backup"],
            ),
            (
                ffi::SQLITE_BUSY,
                &["database /d/f.db is locked", "more than 10 s", "try again"],
            ),
            (ffi::SQLITE_LOCKED, &["database /d/f.db is locked"]),
            (
                ffi::SQLITE_READONLY,
                &["database /d/f.db is read-only", "its directory /d"],
            ),
            (ffi::SQLITE_PERM, &["database /d/f.db is read-only"]),
            (
                ffi::SQLITE_FULL,
                &["database /d/f.db: the disk is full", "free space in /d,"],
            ),
            (
                ffi::SQLITE_CANTOPEN,
                &["cannot open database /d/f.db", "permissions of /d/f.db"],
            ),
            (
                ffi::SQLITE_IOERR,
                &["database /d/f.db: I/O error", "free space in /d"],
            ),
            (ffi::SQLITE_MISMATCH, &["database /d/f.db: "]),
        ];
        for (code, want) in cases {
            let text = describe("/d/f.db", &failure(*code));
            for w in *want {
                assert!(text.contains(w), "code {code}: {w:?} not in {text}");
            }
        }
        // A bare file name lives in the current directory.
        let text = describe("f.db", &failure(ffi::SQLITE_FULL));
        assert!(text.contains("free space in ."), "{text}");
    }

    #[test]
    fn a_named_error_shows_its_cause_once() {
        let e = StoreError::Sql(failure(ffi::SQLITE_FULL)).at(Path::new("/d/f.db"));
        assert!(matches!(e, StoreError::Database { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_none());
        let text = format!("{:#}", anyhow::Error::new(e));
        assert_eq!(text.matches("Error code 13").count(), 1, "{text}");
    }

    #[test]
    fn nothing_creates_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("missing").join("f.db");
        for e in [
            open_and_migrate(&db).map(|_| ()).unwrap_err(),
            open(&db).map(|_| ()).unwrap_err(),
        ] {
            assert!(matches!(e, StoreError::NoDirectory { .. }), "{e}");
        }
        assert!(!db.parent().unwrap().exists());
        assert!(location_problem(&db).unwrap().contains("the directory"));

        // In an existing directory: open refuses a missing file, open_and_migrate creates it.
        let db = dir.path().join("f.db");
        assert!(matches!(open(&db), Err(StoreError::Missing { .. })));
        assert!(!db.exists());
        open_and_migrate(&db).unwrap();
        assert!(db.is_file());
        assert_eq!(location_problem(&db), None);
        open(&db).unwrap();
    }
}

//! The only place with SQL: the connection, migrations, and (as later
//! capabilities land) upserts, snapshot queries and the outbox.
//!
//! SQLite is opened in WAL mode with foreign keys on and a busy timeout, so
//! the daemon and a CLI command (`status`, `ack`) can share the file.

pub mod ads;
pub mod alerts;
pub mod catalog;
pub mod fba_inventory;
pub mod jobs;
pub mod kpis;
pub mod listings;
pub mod metrics;
mod migrate;
pub mod ops;
pub mod orders;
pub mod outbox;
pub mod pricing;
pub mod reports;
pub mod retention;
pub mod reviews;
pub mod seller_reports;
pub mod series;
pub mod snapshot;
pub mod status;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

pub use migrate::{applied_versions, migrate, MigrateReport, Migration, MIGRATIONS};

/// Errors of the store, with what to do about them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the database {path}: {source}")]
    Create {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
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
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// The page size of a new database, bytes.
pub const PAGE_SIZE: i64 = 16384;

/// How long a writer waits for another to finish before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens (creating if needed) the database and applies the pragmas every
/// connection needs. It does not migrate: call [`open_and_migrate`].
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    create_private(path).map_err(|source| StoreError::Create {
        path: path.display().to_string(),
        source,
    })?;
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    configure(&conn)?;
    Ok(conn)
}

/// Creates a missing database file readable by its owner only: it holds
/// the seller's sales, orders and buyers' feedback, and SQLite would
/// create it 0644 (under the usual umask). SQLite gives the `-wal` and
/// `-shm` files the database file's mode, so they follow. An existing
/// file is left as it is (see [`readable_by_others`]).
fn create_private(path: &Path) -> std::io::Result<()> {
    if is_in_memory(path) || path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(()),
        // Another process created it meanwhile: that one is the database.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
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
/// uses the database goes through here). Warns, once per command (`run`,
/// `status`, `doctor`, `sync` …), when other users can read the database.
/// Closes the job runs whose process is gone (see `jobs`).
pub fn open_and_migrate(path: &Path) -> Result<(Connection, MigrateReport), StoreError> {
    let mut conn = open(path)?;
    if let Some(warning) = readable_by_others(path) {
        tracing::warn!("{warning}");
    }
    let report = migrate(&mut conn, &path.display().to_string())?;
    jobs::close_abandoned_runs_on_open(&conn);
    Ok((conn, report))
}

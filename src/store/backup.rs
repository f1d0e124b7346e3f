//! The online copy behind `flywheel backup PATH`: a consistent copy of the
//! live database, taken while the daemon keeps syncing (DESIGN §6).
//!
//! Copying the file with `cp` is not a backup of a WAL database: the newest
//! transactions live in the `-wal` file and a copy taken mid-write can be
//! torn. SQLite's online backup API copies pages through SQLite itself. Two
//! details make it work beside a busy daemon:
//!
//! - The copy runs inside one read transaction on the source. In WAL mode a
//!   reader never blocks the writer, and the snapshot it pins cannot change
//!   under it; without it, every commit by the daemon would restart the copy
//!   from page one and a large database might never finish.
//! - Pages go over in small steps with a short pause between them, so the
//!   copy does not monopolise the disk the daemon writes to.
//!
//! The copy is written to a temporary file beside PATH, switched to a single
//! self-contained file (rollback journal, no `-wal` beside it), checked with
//! `PRAGMA integrity_check`, synced to disk and only then renamed onto PATH:
//! a crash or a failed check never leaves half a backup at PATH, and an old
//! backup there stays intact until the new one is complete. The database is
//! not migrated first: a backup before an upgrade must be of the old schema.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// Pages copied per step (256 pages of 4 KiB: 1 MiB).
pub const PAGES_PER_STEP: i32 = 256;

/// Pause between steps: leaves the disk to the daemon now and then.
const PAUSE: Duration = Duration::from_millis(2);

/// Pause when a step found the database locked (another connection holds
/// an exclusive lock, e.g. a checkpoint truncating the WAL).
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// Why a backup was not made; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "database {0} does not exist: nothing to back up (check `[daemon] database` in the config)"
    )]
    NoDatabase(PathBuf),
    #[error("destination directory {0} does not exist: create it first")]
    NoDirectory(PathBuf),
    #[error("{0} is a directory: give the backup file's name, e.g. {1}")]
    IsDirectory(PathBuf, PathBuf),
    #[error("{0} is the live database: give another path for the backup")]
    LiveDatabase(PathBuf),
    #[error("cannot write in {dir}: {cause}")]
    NotWritable { dir: PathBuf, cause: std::io::Error },
    #[error("cannot back up: {}", super::describe(&path.display().to_string(), cause))]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("the database stayed locked for {0:?}: try again when the daemon is less busy")]
    Busy(Duration),
    #[error("copying the database failed: {0}")]
    Copy(rusqlite::Error),
    #[error(
        "the copy failed PRAGMA integrity_check ({0}); it was not kept. The live database may be \
         damaged: run `sqlite3 DATABASE 'PRAGMA integrity_check'` and keep your older backups"
    )]
    Integrity(String),
    #[error("cannot finish the backup at {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

// The causes are part of each message (and not `source()`), so the CLI's
// `error: {:#}` prints each once.
impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        BackupError::Copy(e)
    }
}

/// What a backup copied.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub source: PathBuf,
    pub dest: PathBuf,
    pub pages: i64,
    pub page_size: i64,
    pub tables: i64,
    pub seconds: f64,
}

impl Done {
    pub fn bytes(&self) -> i64 {
        self.pages * self.page_size
    }
}

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backed up {} to {}: {} pages of {} bytes ({:.1} MiB), {} tables, integrity_check ok, {:.1} s",
            self.source.display(),
            self.dest.display(),
            self.pages,
            self.page_size,
            self.bytes() as f64 / (1024.0 * 1024.0),
            self.tables,
            self.seconds
        )
    }
}

/// Copies the database at `source` to `dest` (see the module doc).
pub fn backup(source: &Path, dest: &Path) -> Result<Done, BackupError> {
    let started = Instant::now();
    if !source.is_file() {
        return Err(BackupError::NoDatabase(source.to_path_buf()));
    }
    let dir = check_destination(source, dest)?;
    let name = dest.file_name().expect("checked").to_string_lossy();
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let guard = Partial(tmp.clone());
    // Creating the file first gives a plain "permission denied" for an
    // unwritable directory (SQLite would only say "unable to open"). The
    // copy holds what the database holds: owner-only, as store::open makes it.
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
    create
        .open(&tmp)
        .map_err(|cause| BackupError::NotWritable {
            dir: dir.clone(),
            cause,
        })?;

    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|cause| BackupError::Open {
        path: source.to_path_buf(),
        cause,
    })?;
    src.busy_timeout(super::BUSY_TIMEOUT)?;
    // Read the schema first, so a damaged file or one that is not a
    // database is reported by its name rather than as a failed copy.
    src.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|cause| BackupError::Open {
        path: source.to_path_buf(),
        cause,
    })?;
    let mut dst = Connection::open(&tmp).map_err(|cause| BackupError::Open {
        path: tmp.clone(),
        cause,
    })?;
    copy(&src, &mut dst)?;
    drop(src);

    // One self-contained file: no -wal to carry along or forget.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    let check = integrity(&dst)?;
    if check != "ok" {
        return Err(BackupError::Integrity(check));
    }
    let pages: i64 = dst.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let page_size: i64 = dst.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let tables: i64 = dst.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    dst.close().map_err(|(_, e)| e)?;

    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| BackupError::Io { path, cause }
    };
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, dest).map_err(io(dest))?;
    guard.disarm();
    // The rename itself is durable once the directory is synced (best
    // effort: not every platform can open a directory).
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(Done {
        source: source.to_path_buf(),
        dest: dest.to_path_buf(),
        pages,
        page_size,
        tables,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Checks `dest` can take a backup of `source`; returns its directory.
fn check_destination(source: &Path, dest: &Path) -> Result<PathBuf, BackupError> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dest.is_dir() || dest.file_name().is_none() {
        return Err(BackupError::IsDirectory(
            dest.to_path_buf(),
            dest.join("flywheel-backup.db"),
        ));
    }
    if !dir.is_dir() {
        return Err(BackupError::NoDirectory(dir));
    }
    // Compare canonical paths: `./db`, a symlinked directory or a
    // relative path must not slip past. The WAL and shared-memory files
    // are the live database too.
    let live = std::fs::canonicalize(source).map_err(|cause| BackupError::Io {
        path: source.to_path_buf(),
        cause,
    })?;
    let target = std::fs::canonicalize(dest).unwrap_or_else(|_| {
        std::fs::canonicalize(&dir)
            .unwrap_or_else(|_| dir.clone())
            .join(dest.file_name().expect("checked"))
    });
    let suffixed = |s: &str| {
        let mut p = live.clone().into_os_string();
        p.push(s);
        PathBuf::from(p)
    };
    if target == live || target == suffixed("-wal") || target == suffixed("-shm") {
        return Err(BackupError::LiveDatabase(dest.to_path_buf()));
    }
    Ok(dir)
}

/// The online copy, in steps, inside one read transaction on `src`.
fn copy(src: &Connection, dst: &mut Connection) -> Result<(), BackupError> {
    // BEGIN is deferred: the first read starts the transaction and pins
    // the snapshot every step then copies from.
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })?;
    let result = (|| {
        let backup = Backup::new(src, dst)?;
        let mut locked_since: Option<Instant> = None;
        loop {
            match backup.step(PAGES_PER_STEP)? {
                StepResult::Done => return Ok(()),
                StepResult::More => {
                    locked_since = None;
                    std::thread::sleep(PAUSE);
                }
                // Busy, Locked: another connection holds a lock for a
                // moment; wait, but not forever.
                _ => {
                    let since = *locked_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > super::BUSY_TIMEOUT {
                        return Err(BackupError::Busy(super::BUSY_TIMEOUT));
                    }
                    std::thread::sleep(BUSY_PAUSE);
                }
            }
        }
    })();
    // Ends the read transaction whatever happened (the daemon's
    // checkpoints can then reclaim the WAL).
    let _ = src.execute_batch("COMMIT");
    result
}

/// `PRAGMA integrity_check`'s answer: "ok", or its first messages.
fn integrity(conn: &Connection) -> Result<String, rusqlite::Error> {
    let mut st = conn.prepare("PRAGMA integrity_check(20)")?;
    let lines = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.join("; "))
}

/// The temporary copy, removed (with any journal beside it) unless the
/// backup completed and renamed it.
struct Partial(PathBuf);

impl Partial {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_db(dir: &Path) -> PathBuf {
        let path = dir.join("flywheel.db");
        let (conn, _) = crate::store::open_and_migrate(&path).unwrap();
        crate::store::testing::add_account(&conn, "a");
        path
    }

    #[test]
    fn copies_a_database_into_one_checked_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = live_db(dir.path());
        let dest = dir.path().join("copy.db");
        std::fs::write(&dest, b"an older backup").unwrap();
        let done = backup(&db, &dest).unwrap();
        assert!(done.pages > 0 && done.tables > 10, "{done}");
        let copy = Connection::open(&dest).unwrap();
        let mode: String = copy
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        let n: i64 = copy
            .query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn refuses_bad_destinations() {
        let dir = tempfile::tempdir().unwrap();
        let db = live_db(dir.path());
        let cases: Vec<(PathBuf, &str)> = vec![
            (dir.path().join("flywheel.db"), "is the live database"),
            (
                dir.path().join(".").join("flywheel.db-wal"),
                "is the live database",
            ),
            (
                dir.path().join("nope").join("x.db"),
                "does not exist: create it first",
            ),
            (dir.path().to_path_buf(), "is a directory"),
        ];
        for (dest, message) in cases {
            let e = backup(&db, &dest).unwrap_err().to_string();
            assert!(e.contains(message), "{}: {e}", dest.display());
        }
        let e = backup(&dir.path().join("missing.db"), &dir.path().join("x.db"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist: nothing to back up"), "{e}");
    }
}

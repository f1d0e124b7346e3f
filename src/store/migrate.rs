//! Embedded, append-only migrations (`migrations/NNNN_name.sql`).
//!
//! Each file runs in its own transaction together with the row that records
//! it, so a crash mid-migration leaves the previous version intact. A
//! database whose version is newer than the newest migration compiled in is
//! refused: an old binary must never write a schema it does not know.

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// One migration compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// A [`Migration`] from its version, name and file under `migrations/`
/// (a macro because `include_str!` takes only a literal path).
macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $file)),
        }
    };
}

/// Every migration, in order. Never edit a shipped one: add the next file.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "initial", "0001_initial.sql"),
    migration!(
        2,
        "inventory_planning_typed",
        "0002_inventory_planning_typed.sql"
    ),
    migration!(3, "job_runs_process", "0003_job_runs_process.sql"),
    migration!(
        4,
        "pricing_competitive_price",
        "0004_pricing_competitive_price.sql"
    ),
    migration!(5, "alerts_notified", "0005_alerts_notified.sql"),
    migration!(6, "status_ops", "0006_status_ops.sql"),
    migration!(7, "receivers", "0007_receivers.sql"),
];

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    pub from_version: i64,
    pub to_version: i64,
    pub applied: Vec<(i64, &'static str)>,
}

const BOOKKEEPING: &str = "
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT;";

/// Versions recorded in the database, ascending.
pub fn applied_versions(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(BOOKKEEPING)?;
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let v = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(v)
}

/// Applies every migration not yet applied. Re-running is a no-op.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<MigrateReport, StoreError> {
    run(conn, path, MIGRATIONS)
}

pub(crate) fn run(
    conn: &mut Connection,
    path: &str,
    migrations: &[Migration],
) -> Result<MigrateReport, StoreError> {
    apply(conn, path, migrations).map_err(|e| e.at(std::path::Path::new(path)))
}

fn apply(
    conn: &mut Connection,
    path: &str,
    migrations: &[Migration],
) -> Result<MigrateReport, StoreError> {
    conn.execute_batch(BOOKKEEPING)?;
    let current: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()?
        .flatten()
        .unwrap_or(0);
    let known = migrations.last().map_or(0, |m| m.version);
    if current > known {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: current,
            known,
        });
    }
    let mut applied = Vec::new();
    for m in migrations.iter().filter(|m| m.version > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)
            .map_err(|cause| StoreError::Migration {
                path: path.to_string(),
                version: m.version,
                name: m.name,
                cause,
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            rusqlite::params![m.version, m.name],
        )?;
        tx.commit()?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied.push((m.version, m.name));
    }
    Ok(MigrateReport {
        from_version: current,
        to_version: current.max(applied.last().map_or(0, |a| a.0)),
        applied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dense_and_files_numbered_to_match() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".sql"))
            .collect();
        files.sort();
        let expected: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(
            files, expected,
            "every migrations/*.sql must be listed in MIGRATIONS"
        );
    }

    #[test]
    fn a_newer_database_is_refused_and_rerun_is_a_noop() {
        let mut conn = Connection::open_in_memory().unwrap();
        let first = migrate(&mut conn, "mem").unwrap();
        assert_eq!(first.from_version, 0);
        assert_eq!(first.applied.len(), MIGRATIONS.len());
        let again = migrate(&mut conn, "mem").unwrap();
        assert!(again.applied.is_empty());
        assert_eq!(again.from_version, again.to_version);

        conn.execute(
            "INSERT INTO schema_migrations VALUES (999, 'future', 'x')",
            [],
        )
        .unwrap();
        let err = migrate(&mut conn, "mem").unwrap_err();
        assert!(
            matches!(err, StoreError::TooNew { found: 999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("newer than this flywheel knows"));
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let bad = [
            Migration {
                version: 1,
                name: "ok",
                sql: "CREATE TABLE a (x INTEGER) STRICT;",
            },
            Migration {
                version: 2,
                name: "broken",
                sql: "CREATE TABLE b (x INTEGER); SELECT * FROM nope;",
            },
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        let err = run(&mut conn, "mem", &bad).unwrap_err();
        assert!(
            matches!(err, StoreError::Migration { version: 2, .. }),
            "{err}"
        );
        assert_eq!(applied_versions(&conn).unwrap(), vec![1]);
        let b_exists: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            b_exists, 0,
            "the failed migration's table must be rolled back"
        );
    }

    #[test]
    fn job_runs_keep_their_rows_across_0003_and_old_interruptions_are_named() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn, "mem", &MIGRATIONS[..2]).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (name, region, created_at, updated_at)
                 VALUES ('a', 'na', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             INSERT INTO job_runs (id, job, account, started_at, finished_at, status, row_count, error)
                 VALUES (7, 'orders', 'a', '2026-03-01T00:00:00Z', '2026-03-01T00:01:00Z', 'ok', 5, NULL),
                        (8, 'orders', 'a', '2026-03-02T00:00:00Z', '2026-03-02T00:00:00Z', 'failed', 0,
                         'interrupted: the process stopped during the run'),
                        (9, 'listings', 'a', '2026-03-02T00:00:00Z', '2026-03-02T00:00:00Z', 'failed', 0, '500'),
                        (10, 'listings', 'a', '2026-03-03T00:00:00Z', NULL, 'running', 0, NULL);",
        )
        .unwrap();
        let report = run(&mut conn, "mem", &MIGRATIONS[..3]).unwrap();
        assert_eq!(report.applied, vec![(3, "job_runs_process")]);
        let rows: Vec<(i64, String, i64, Option<i64>)> = crate::store::all_rows(
            &conn,
            "SELECT id, status, row_count, pid FROM job_runs ORDER BY id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                (7, "ok".into(), 5, None),
                (8, "interrupted".into(), 0, None),
                (9, "failed".into(), 0, None),
                (10, "running".into(), 0, None),
            ]
        );
        // The view that reads job_runs still resolves; the indexes are back.
        conn.query_row("SELECT COUNT(*) FROM kpi_feedback_sla_breaches", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
        let indexes: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_runs'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 3);
        let fk: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(fk, 0);
    }
}

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

/// Every migration, in order. Never edit a shipped one: add the next file.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "inventory_planning_typed",
        sql: include_str!("../../migrations/0002_inventory_planning_typed.sql"),
    },
    Migration {
        version: 3,
        name: "pricing_competitive_price",
        sql: include_str!("../../migrations/0003_pricing_competitive_price.sql"),
    },
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
            .map_err(|source| StoreError::Migration {
                version: m.version,
                name: m.name,
                source,
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
}

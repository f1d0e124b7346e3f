//! A command's failure and its exit code, and the one line it prints: an
//! error with its causes, where a SQLite error that names no file gets the
//! database's path and what to do.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::store;

/// A failure with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{}", chain_text(.0))]
    Runtime(#[from] anyhow::Error),
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl From<store::StoreError> for CliError {
    fn from(e: store::StoreError) -> Self {
        CliError::Runtime(e.into())
    }
}

/// An error and its causes on one line, like anyhow's `{:#}`, but a cause
/// whose text the line already holds is left out: many errors put their
/// cause in their own message and also return it as `source()`, and it
/// would print twice.
fn chain_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if s.is_empty() || text.contains(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    text
}

/// A SQLite error that reached the command's edge without naming a file
/// (a store function's `?`) gets the database's path and what to do.
pub(super) fn name_the_database(
    e: CliError,
    database: impl FnOnce() -> Option<PathBuf>,
) -> CliError {
    let CliError::Runtime(err) = e else { return e };
    let Some((at, sqlite)) = unnamed_sqlite_error(&err) else {
        return CliError::Runtime(err);
    };
    let Some(database) = database() else {
        return CliError::Runtime(err);
    };
    let mut text = String::new();
    for cause in err.chain().take(at) {
        let s = cause.to_string();
        if !s.is_empty() && !text.contains(&s) {
            text.push_str(&s);
            text.push_str(": ");
        }
    }
    text.push_str(&store::describe(&database.display().to_string(), sqlite));
    CliError::Runtime(anyhow::anyhow!(text))
}

/// The first SQLite error in `err`'s causes, with its position, unless a
/// cause already names the file (the store's named errors, backup's).
fn unnamed_sqlite_error(err: &anyhow::Error) -> Option<(usize, &rusqlite::Error)> {
    let mut found = None;
    for (i, cause) in err.chain().enumerate() {
        // Errors that wrap a store error transparently hide it from the
        // chain (their source is the store error's source): look inside.
        let wrapped = if let Some(e) = cause.downcast_ref::<crate::sync::import::ImportError>() {
            match e {
                crate::sync::import::ImportError::Store(s) => Some(s),
                crate::sync::import::ImportError::Sql(e) => {
                    found = found.or(Some((i, e)));
                    None
                }
                _ => None,
            }
        } else if let Some(crate::kpis::KpiError::Store(s)) = cause.downcast_ref() {
            Some(s)
        } else {
            None
        };
        if let Some(s) = wrapped {
            match s {
                store::StoreError::Sql(e) => found = found.or(Some((i, e))),
                _ => return None,
            }
        } else if let Some(s) = cause.downcast_ref::<store::StoreError>() {
            match s {
                store::StoreError::Sql(e) => found = found.or(Some((i, e))),
                _ => return None,
            }
        } else if cause.is::<store::backup::BackupError>() {
            return None;
        } else if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            found = found.or(Some((i, e)));
        }
    }
    found
}

//! Where `auth` puts the token it obtains: the config loaded although that
//! very token is still missing, the file the token goes to and how the
//! config (or systemd) reads it, and the owner-only atomic write.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};

use super::{api_table, AuthError};
use crate::amazon::http::Api;
use crate::config::{Config, Env};

/// Written in place of a refresh token that does not exist yet, so the rest
/// of the config can be loaded and validated while auth obtains the token.
const PENDING_TOKEN: &str = "Atzr|pending-flywheel-auth";

/// A config loaded for auth, and which refresh tokens were missing (and
/// are a placeholder in `config`).
pub(super) struct Loaded {
    pub(super) config: Config,
    /// The raw TOML, to find what the file itself says.
    pub(super) table: toml::Table,
    /// (account index, "sp_api" | "ads") whose refresh token is missing.
    pub(super) pending: BTreeSet<(usize, &'static str)>,
}

/// The account index and API table a config problem is about, when it says
/// only that a refresh token is missing, empty or unreadable: the very
/// thing auth is about to provide.
fn missing_refresh_token(problem_path: &str, message: &str) -> Option<(usize, &'static str)> {
    let rest = problem_path.strip_prefix("accounts[")?;
    let (index, rest) = rest.split_once(']')?;
    let index: usize = index.parse().ok()?;
    for table in ["sp_api", "ads"] {
        let Some(key) = rest.strip_prefix(&format!(".{table}")) else {
            continue;
        };
        let tolerated = match key {
            ".refresh_token_file" => true,
            ".refresh_token" => {
                message == "is empty" || message.starts_with(crate::config::PLACEHOLDER)
            }
            "" => message.starts_with("missing credentials: set `refresh_token`"),
            _ => false,
        };
        return tolerated.then_some((index, table));
    }
    None
}

/// Loads the config; if the only problems are missing refresh tokens, loads
/// it again with placeholders in their place.
pub(super) fn load_for_auth(path: &Path, env: &Env) -> Result<Loaded, AuthError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AuthError::Usage(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let err = match Config::from_toml(&text, path, env) {
        Ok(config) => {
            let table = toml::from_str(&text)
                .map_err(|e| AuthError::Io(format!("cannot re-read the config: {e}")))?;
            return Ok(Loaded {
                config,
                table,
                pending: BTreeSet::new(),
            });
        }
        Err(e) => e,
    };
    // Not TOML at all: the loader's message (with its line) says so.
    let Ok(table) = toml::from_str::<toml::Table>(&text) else {
        return Err(err.into());
    };
    let mut pending = BTreeSet::new();
    for p in &err.problems {
        match missing_refresh_token(&p.path, &p.message) {
            Some(k) => {
                pending.insert(k);
            }
            None => return Err(err.into()),
        }
    }
    let mut patched = table.clone();
    for (index, api) in &pending {
        let t = patched
            .get_mut("accounts")
            .and_then(|a| a.as_array_mut())
            .and_then(|a| a.get_mut(*index))
            .and_then(|a| a.get_mut(*api))
            .and_then(|t| t.as_table_mut());
        if let Some(t) = t {
            t.remove("refresh_token_file");
            t.insert(
                "refresh_token".into(),
                toml::Value::String(PENDING_TOKEN.into()),
            );
        }
    }
    let text = toml::to_string(&patched)
        .map_err(|e| AuthError::Io(format!("cannot re-read the config: {e}")))?;
    let config = Config::from_toml(&text, path, env)?;
    Ok(Loaded {
        config,
        table,
        pending,
    })
}

pub(super) fn pick_account(cfg: &Config, name: Option<&str>) -> Result<usize, AuthError> {
    let known = || {
        cfg.accounts
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => cfg
            .accounts
            .iter()
            .position(|a| a.name == n)
            .ok_or_else(|| {
                AuthError::Usage(format!(
                    "no account \"{n}\" in the config; accounts: {}",
                    known()
                ))
            }),
        None if cfg.accounts.len() == 1 => Ok(0),
        None => Err(AuthError::Usage(format!(
            "the config has several accounts: name one with --account ({})",
            known()
        ))),
    }
}

/// Where a token was stored, seen from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// At the account's `refresh_token_file`: the config reads it.
    ConfigFile,
    /// In `$CREDENTIALS_DIRECTORY` (set in auth's environment) under the
    /// name the config loader looks for there.
    CredentialsDirectory,
    /// At `<config dir>/credentials/<account>.<api>.refresh_token`: the
    /// config must be told (the printed line) or systemd must load it.
    BesideConfig,
}

pub(super) struct TokenTarget {
    pub(super) path: PathBuf,
    pub(super) placement: Placement,
    /// The API table has an inline `refresh_token` (which the loader
    /// prefers over `$CREDENTIALS_DIRECTORY`).
    pub(super) has_inline: bool,
}

/// The account's `refresh_token_file` as the file writes it (relative to
/// the config's directory, as the loader takes it); else
/// `$CREDENTIALS_DIRECTORY/<account>.<api>.refresh_token` when auth runs
/// with one (e.g. `CREDENTIALS_DIRECTORY=/etc/flywheel/credentials`);
/// else `<config dir>/credentials/<account>.<api>.refresh_token`.
pub(super) fn token_target(
    config_path: &Path,
    env: &Env,
    loaded: &Loaded,
    index: usize,
    account: &str,
    api: Api,
) -> TokenTarget {
    let table = api_table(api);
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let api_table = loaded
        .table
        .get("accounts")
        .and_then(|a| a.as_array())
        .and_then(|a| a.get(index))
        .and_then(|a| a.get(table));
    let named = api_table
        .and_then(|t| t.get("refresh_token_file"))
        .and_then(|f| f.as_str());
    let has_inline = api_table.is_some_and(|t| t.get("refresh_token").is_some());
    let file_name = format!("{account}.{table}.refresh_token");
    let (path, placement) = match (named, &env.credentials_directory) {
        (Some(f), _) => (base.join(f), Placement::ConfigFile),
        (None, Some(dir)) => (dir.join(file_name), Placement::CredentialsDirectory),
        (None, None) => (
            base.join("credentials").join(file_name),
            Placement::BesideConfig,
        ),
    };
    TokenTarget {
        path,
        placement,
        has_inline,
    }
}

pub(super) fn display_path(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// Writes a secret file readable by its owner only, atomically: a temp file
/// in the same directory (created 0600, so the secret is never readable by
/// others, not even briefly), synced, then renamed over `path`. A missing
/// directory is created 0700.
pub fn store_secret(path: &Path, value: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        Alphanumeric.sample_string(&mut rand::rng(), 8)
    ));
    let write = || -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(value.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename is durable once the directory is.
        std::fs::File::open(dir)?.sync_all()
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_refresh_tokens_are_tolerated() {
        type Case = (&'static str, &'static str, Option<(usize, &'static str)>);
        let cases: &[Case] = &[
            (
                "accounts[0].ads.refresh_token_file",
                "file `/x` does not exist",
                Some((0, "ads")),
            ),
            (
                "accounts[2].sp_api",
                "missing credentials: set `refresh_token`, `refresh_token_file`, or provide ...",
                Some((2, "sp_api")),
            ),
            (
                "accounts[1].ads.refresh_token",
                "is empty",
                Some((1, "ads")),
            ),
            (
                "accounts[1].ads.refresh_token",
                "set either `refresh_token` or `refresh_token_file`, not both",
                None,
            ),
            (
                "accounts[0].ads",
                "missing credentials: set `client_secret`, ...",
                None,
            ),
            (
                "accounts[0].ads.client_secret_file",
                "file `/x` does not exist",
                None,
            ),
            ("accounts[0].region", "x", None),
            ("email.password_file", "x", None),
            // The example config's placeholder token is what auth replaces;
            // a placeholder client secret must be filled first.
            (
                "accounts[0].sp_api.refresh_token",
                "is the example config's placeholder: run `flywheel auth sp --account a` to obtain and store one",
                Some((0, "sp_api")),
            ),
            (
                "accounts[0].sp_api.client_secret",
                "is the example config's placeholder: put your app's client_secret here",
                None,
            ),
        ];
        for (path, message, want) in cases {
            assert_eq!(
                missing_refresh_token(path, message),
                *want,
                "{path} {message}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn secrets_are_stored_0600_replacing_the_old_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("creds/a.ads.refresh_token");
        store_secret(&p, "Atzr|one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap()), 0o700);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        store_secret(&p, "Atzr|two").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(
            crate::config::read_secret_file(&p).unwrap().expose(),
            "Atzr|two"
        );
        // No temp file left behind.
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}

//! Secrets (client secrets, refresh tokens, SMTP passwords).
//!
//! A secret can be written inline, read from a `*_file` path, or picked up
//! from systemd's `$CREDENTIALS_DIRECTORY` (`LoadCredential=`). Whatever the
//! source, the value lives in a [`Secret`], whose `Debug` prints a fixed
//! placeholder and which has no `Display`, so a secret cannot reach a log
//! line or an error message by accident.

use std::fmt;
use std::path::Path;

/// A secret value. Read it with [`Secret::expose`] at the point of use only.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Why a secret file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretFileError {
    Missing,
    Unreadable(String),
    /// Group or others may read it; holds the mode bits.
    TooOpen(u32),
    Empty,
}

impl SecretFileError {
    /// Message naming the file and what fixes it (never the content).
    pub fn message(&self, path: &Path) -> String {
        match self {
            SecretFileError::Missing => format!("file `{}` does not exist", path.display()),
            SecretFileError::Unreadable(e) => format!("cannot read `{}`: {e}", path.display()),
            SecretFileError::TooOpen(mode) => format!(
                "secret file `{}` is readable by group or others (mode {:04o}); refusing it: run `chmod 600 {}`",
                path.display(),
                mode & 0o7777,
                path.display()
            ),
            SecretFileError::Empty => format!("secret file `{}` is empty", path.display()),
        }
    }
}

/// Reads a secret file, refusing one that group or others can read (as ssh
/// refuses a loose private key). Trailing newlines are trimmed.
pub fn read_secret_file(path: &Path) -> Result<Secret, SecretFileError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SecretFileError::Missing),
        Err(e) => return Err(SecretFileError::Unreadable(e.to_string())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(SecretFileError::TooOpen(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text =
        std::fs::read_to_string(path).map_err(|e| SecretFileError::Unreadable(e.to_string()))?;
    let value = text.trim_end_matches(['\r', '\n']);
    if value.is_empty() {
        return Err(SecretFileError::Empty);
    }
    Ok(Secret(value.to_string()))
}

impl super::Config {
    /// Warnings about the config file itself (not errors: the config is
    /// valid): one other users can read while it holds secrets inline.
    pub fn file_warnings(&self, file: &Path) -> Vec<String> {
        let keys = self.inline_secrets();
        if keys.is_empty() {
            return Vec::new();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let Ok(meta) = std::fs::metadata(file) else {
                return Vec::new();
            };
            let mode = meta.permissions().mode();
            if mode & 0o004 == 0 {
                return Vec::new();
            }
            vec![format!(
                "config file {0} holds secrets ({1}) and is readable by other users (mode {2:04o}): \
                 run `chmod 600 {0}`, or move them to `*_file`s or $CREDENTIALS_DIRECTORY",
                file.display(),
                keys.join(", "),
                mode & 0o7777
            )]
        }
        #[cfg(not(unix))]
        Vec::new()
    }

    /// Warnings about what the config sets up (valid, but rarely meant):
    /// the `file` mail transport outside a demo or test (with the system
    /// clock), which notifies nobody.
    pub fn setup_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.email.transport == super::Transport::File
            && self.daemon.clock == super::ClockSource::System
        {
            out.push(format!(
                "[email] transport = \"file\" writes every alert to {} and notifies nobody: set transport = \"smtp\" (or \"sendmail\") for real use",
                self.email.dir.display()
            ));
        }
        out
    }

    /// Key paths of the secrets written inline in the file.
    fn inline_secrets(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for (i, a) in self.accounts.iter().enumerate() {
            let apis = [
                (
                    "sp_api",
                    a.sp_api
                        .as_ref()
                        .map(|s| (&s.client_secret, &s.refresh_token)),
                ),
                (
                    "ads",
                    a.ads.as_ref().map(|s| (&s.client_secret, &s.refresh_token)),
                ),
            ];
            for (api, secrets) in apis {
                let Some((client_secret, refresh_token)) = secrets else {
                    continue;
                };
                for (key, value) in [
                    ("client_secret", client_secret),
                    ("refresh_token", refresh_token),
                ] {
                    if value.is_some() {
                        keys.push(format!("accounts[{i}].{api}.{key}"));
                    }
                }
            }
        }
        if self.email.password.is_some() {
            keys.push("email.password".to_string());
        }
        keys.extend(super::receivers::inline_secrets(self));
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("Atzr|super-secret-refresh-token");
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[cfg(unix)]
    #[test]
    fn loose_files_are_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        std::fs::write(&p, "value\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_secret_file(&p).unwrap_err();
        assert_eq!(err, SecretFileError::TooOpen(0o100644));
        let msg = err.message(&p);
        assert!(msg.contains("mode 0644"), "{msg}");
        assert!(msg.contains(&format!("chmod 600 {}", p.display())), "{msg}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret_file(&p).unwrap().expose(), "value");
        assert_eq!(
            read_secret_file(&dir.path().join("nope")).unwrap_err(),
            SecretFileError::Missing
        );
    }
}

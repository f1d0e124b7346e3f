//! `flywheel digest`: the weekly digest of the selected accounts, printed,
//! written as HTML files, and/or queued and delivered at once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::alert::{self, digest};
use crate::config::{Account, Config};

/// `flywheel digest` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DigestArgs {
    /// Write the digest as an HTML file (charts inlined) instead of
    /// printing its text; with several accounts, one file each, named
    /// FILE-<account>.html.
    #[arg(long, value_name = "FILE.html")]
    pub out: Option<PathBuf>,
    /// Queue one digest email per account in the outbox and deliver it now.
    #[arg(long)]
    pub send: bool,
    /// Only this account (repeatable; default: every account).
    #[arg(long = "account", value_name = "NAME")]
    pub accounts: Vec<String>,
}

/// Where `--out` writes an account's file: the path itself for one
/// account, `stem-<account>.ext` beside it for several.
fn out_path(out: &Path, account: &str, several: bool) -> PathBuf {
    if !several {
        return out.to_path_buf();
    }
    let safe: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "digest".into());
    let ext = out
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    out.with_file_name(format!("{stem}-{safe}{ext}"))
}

/// `flywheel digest`: builds each selected account's digest; prints the
/// text, writes `--out`, and/or queues and delivers it (`--send`).
pub async fn run(cfg: &Config, args: &DigestArgs) -> anyhow::Result<String> {
    for name in &args.accounts {
        if !cfg.accounts.iter().any(|a| &a.name == name) {
            let known: Vec<&str> = cfg.accounts.iter().map(|a| a.name.as_str()).collect();
            anyhow::bail!(
                "unknown account \"{name}\"; accounts in the config: {}",
                known.join(", ")
            );
        }
    }
    let selected: Vec<&Account> = cfg
        .accounts
        .iter()
        .filter(|a| args.accounts.is_empty() || args.accounts.contains(&a.name))
        .collect();
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    let digests = digest::render_all(&mut conn, cfg, &selected, now)?;
    let mut out = String::new();
    if let Some(path) = &args.out {
        for (account, r) in &digests {
            let p = out_path(path, &account.name, digests.len() > 1);
            alert::notify::create_private(&p)
                .and_then(|mut f| {
                    std::io::Write::write_all(&mut f, digest::inline_images(r).as_bytes())
                })
                .with_context(|| format!("cannot write {}", p.display()))?;
            let _ = writeln!(out, "{}: digest written to {}", account.name, p.display());
        }
    }
    if args.send {
        out.push_str(&digest::queue(&mut conn, cfg, &digests, now)?);
        let delivery = alert::sender::send_now(cfg, &mut conn, now).await?;
        let _ = writeln!(out, "{delivery}");
    }
    if args.out.is_none() && !args.send {
        for (i, (_, r)) in digests.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&r.text);
        }
        if digests.is_empty() {
            out.push_str("no accounts configured\n");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;

    #[test]
    fn send_queues_a_digest_in_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::alert::digest::tests::cfg(&dir.path().join("f.db"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The system clock, on a database holding nothing: only the
        // queueing is checked here.
        let args = DigestArgs {
            out: Some(dir.path().join("d.html")),
            send: true,
            accounts: vec!["acme".into()],
        };
        let out = rt.block_on(run(&cfg, &args)).unwrap();
        assert!(
            out.contains("digest queued as outbox #1 for ops@example.com"),
            "{out}"
        );
        assert!(out.contains("digest written to"), "{out}");
        let conn = store::open(&cfg.daemon.database).unwrap();
        let row = store::outbox::get(&conn, 1).unwrap().unwrap();
        assert_eq!(row.kind, store::outbox::Kind::Digest);
        assert_eq!(row.recipients, vec!["ops@example.com".to_string()]);
        assert!(
            row.message_id.ends_with("@example.com>"),
            "{}",
            row.message_id
        );
        let html = std::fs::read_to_string(dir.path().join("d.html")).unwrap();
        let title = crate::i18n::tr(crate::i18n::Lang::En, "digest-title");
        assert!(html.contains(&title), "{title} not in {html}");
        let bad = DigestArgs {
            out: None,
            send: false,
            accounts: vec!["nope".into()],
        };
        let e = rt.block_on(run(&cfg, &bad)).unwrap_err();
        assert!(e.to_string().contains("unknown account \"nope\""), "{e}");
    }

    #[test]
    fn out_paths_per_account() {
        let p = Path::new("/tmp/digest.html");
        assert_eq!(out_path(p, "a", false), PathBuf::from("/tmp/digest.html"));
        assert_eq!(
            out_path(p, "acme/us", true),
            PathBuf::from("/tmp/digest-acme_us.html")
        );
    }
}

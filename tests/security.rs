//! Security checks, each against the real binary where it can be:
//!
//! 1. With trace-level logging (`RUST_LOG=trace`, and `-vv`) no secret
//!    value (LWA client secrets and refresh tokens, every access token the
//!    sim issued, whole or either half, the SMTP password, in any encoding
//!    they travel in) is in any log line, summary or error of a sync,
//!    `doctor`, failing LWA grants, SMTP sends with AUTH PLAIN and AUTH
//!    LOGIN, a refused SMTP login and the daemon (`run`: scheduler, every
//!    job but the orders backfill, evaluation, sender); nor in `Debug`.
//! 2. Every `*_file` secret that group or others may read is refused with
//!    the file and the `chmod 600` that fixes it (`check-config`, `run`,
//!    `sync`); 0600 and 0400 are fine.
//! 3. The database is created 0600 (its WAL and SHM too); one other users
//!    can read is warned about, naming the path and the `chmod`.
//! 4. Header injection through every Amazon-supplied string: CR/LF,
//!    `Bcc:` lines, a lone `.`, non-ASCII and very long values planted in
//!    every synced text column that can reach an email (identifiers, free
//!    text and Amazon's status words), then the real evaluation round and
//!    digest sent over SMTP: the recipients are the configured ones, no
//!    planted line is a header, the Subject is one header, and the hostile
//!    text shows only escaped in the bodies.
//!
//! Complements tests/email_delivery.rs (a hostile subject on a hand-made
//! outbox row, the password in errors and Debug), tests/alerts.rs
//! (hostile finding labels) and tests/cli.rs (one loose secret file).

mod common;
#[path = "common/smtp.rs"]
mod smtp;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Opts;
use flywheel::config::{Config, Env};
use mail_parser::MessageParser;
use rand::distr::{Alphanumeric, SampleString};
use smtp::{Options, SmtpServer};

fn random(n: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), n)
}

/// Runs the binary off the async runtime (the sim and the SMTP server
/// answer on it meanwhile). `env`: extra variables; RUST_LOG is removed
/// unless given.
async fn flywheel(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flywheel"));
        c.args(&args)
            .env_remove("RUST_LOG")
            .env_remove("FLYWHEEL_CONFIG")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("JOURNAL_STREAM")
            .env("NO_COLOR", "1");
        for (k, v) in &env {
            c.env(k, v);
        }
        c.output().unwrap()
    })
    .await
    .unwrap()
}

/// stdout and stderr, ANSI colours removed.
fn text(out: &Output) -> String {
    let raw = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut clean = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            clean.push(c);
        }
    }
    clean
}

fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

// ------------------------------------------------------------------ 1. secrets in logs

/// The secrets of one run, each a distinctive random string.
struct Secrets {
    sp_secret: String,
    sp_refresh: String,
    ads_secret: String,
    ads_refresh: String,
    smtp_password: String,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets {
            sp_secret: format!("amzn1.oa2-cs.v1.SPSEC{}", random(40)),
            sp_refresh: format!("Atzr|SPREF{}", random(60)),
            ads_secret: format!("amzn1.oa2-cs.v1.ADSSEC{}", random(40)),
            ads_refresh: format!("Atzr|ADSREF{}", random(60)),
            smtp_password: format!("smtp-{}", random(32)),
        }
    }

    /// An inline scenario accepting these credentials.
    fn scenario(&self) -> String {
        format!(
            r#"
name = "secrets"
history_days = 20
[seller.sp]
client_id = "amzn1.application-oa2-client.secsp"
client_secret = "{}"
refresh_token = "{}"
[seller.ads]
client_id = "amzn1.application-oa2-client.secads"
client_secret = "{}"
refresh_token = "{}"
[[products]]
sku = "SEC-1"
asin = "B0SECRET01"
title = "Secret bottle"
price = 20.0
cogs = 5.0
[[campaigns]]
id = 7
name = "Secret campaign"
skus = ["SEC-1"]
keywords = [{{ text = "bottle" }}]
"#,
            self.sp_secret, self.sp_refresh, self.ads_secret, self.ads_refresh
        )
    }

    /// Every form a secret could leak in: as is, the random part alone
    /// (URL-encoding changes the `|`), and base64 (SMTP AUTH).
    fn needles(&self) -> Vec<(String, &'static str)> {
        let mut v = Vec::new();
        for (s, name) in [
            (&self.sp_secret, "SP client secret"),
            (&self.sp_refresh, "SP refresh token"),
            (&self.ads_secret, "Ads client secret"),
            (&self.ads_refresh, "Ads refresh token"),
            (&self.smtp_password, "SMTP password"),
        ] {
            v.push((s.clone(), name));
            v.push((s[s.len() - 30..].to_string(), name));
            v.push((base64(s.as_bytes()), name));
        }
        // AUTH PLAIN's initial response.
        let plain = format!("\0flywheel@example.com\0{}", self.smtp_password);
        v.push((base64(plain.as_bytes()), "SMTP AUTH PLAIN"));
        v
    }

    /// `tokens`: the access tokens the sims issued meanwhile.
    fn assert_absent(&self, what: &str, shown: &str, tokens: &[String]) {
        for (needle, name) in self.needles() {
            assert!(
                !shown.contains(&needle),
                "{what}: the {name} leaked:\n{shown}"
            );
        }
        // The sim's access tokens are `Atza|` + 96 random characters
        // (sim/src/lwa.rs): none may be shown, whole, URL-encoded, or in
        // part (either half of its random part).
        assert!(
            !shown.contains("Atza|") && !shown.contains("Atza%7C"),
            "{what}: an access token leaked:\n{shown}"
        );
        for t in tokens {
            let random = t.strip_prefix("Atza|").expect("an Atza| token");
            let (a, b) = random.split_at(random.len() / 2);
            for part in [a, b] {
                assert!(
                    !shown.contains(part),
                    "{what}: (part of) access token {t} leaked:\n{shown}"
                );
            }
        }
    }
}

/// The harness config with `[email]` sending through `port` with AUTH,
/// the password in a 0600 `password_file`.
fn smtp_config(h: &common::Harness, port: u16, password: &str, name: &str) -> PathBuf {
    let pw = h.dir.path().join(format!("{name}.password"));
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    #[cfg(unix)]
    chmod(&pw, 0o600);
    let base = std::fs::read_to_string(&h.config_path).unwrap();
    let cfg = smtp::with_smtp(&base, port).replacen(
        "timeout = \"10s\"\n",
        &format!(
            "timeout = \"10s\"\nusername = \"flywheel@example.com\"\npassword_file = \"{}\"\n",
            pw.display()
        ),
        1,
    );
    let p = h.dir.path().join(format!("{name}.toml"));
    std::fs::write(&p, cfg).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_trace_log_an_error_or_debug() {
    let s = Secrets::new();
    let h = common::start(Opts::new(&s.scenario())).await;
    let cfg = h.config_path.to_str().unwrap().to_string();
    let trace = [("RUST_LOG", "trace")];

    // A sync at RUST_LOG=trace: LWA grants for both APIs, SP-API calls, a
    // report and its document, Ads calls.
    let out = flywheel(
        &[
            "sync",
            "--config",
            &cfg,
            "--job",
            "inventory",
            "--job",
            "listings",
            "--job",
            "seller_feedback",
            "--job",
            "ads",
        ],
        &trace,
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    // Not vacuous: the HTTP stack and the LWA exchange logged at trace.
    for want in [
        " TRACE ",
        "connecting to 127.0.0.1",
        "LWA token endpoint answered status=200",
        "job done account=demo job=ads",
    ] {
        assert!(log.contains(want), "no {want:?} in the trace log:\n{log}");
    }
    assert!(log.lines().count() > 100, "{log}");
    // Not vacuous: both APIs' access tokens were issued and used.
    let tokens = h.sim.state.tokens.issued();
    assert!(tokens.len() >= 2, "{tokens:?}");
    s.assert_absent("sync at RUST_LOG=trace", &log, &tokens);

    // `-vv` (trace for flywheel itself) with doctor's probes of every role.
    let out = flywheel(&["-vv", "doctor", "--config", &cfg], &[]).await;
    let log = text(&out);
    assert!(log.contains(" TRACE ") || log.contains(" DEBUG "), "{log}");
    assert!(log.contains("LWA token endpoint answered"), "{log}");
    let tokens = h.sim.state.tokens.issued();
    s.assert_absent("doctor -vv", &log, &tokens);

    // Refused grants: a revoked refresh token and an invalidated client.
    for (fault, answer) in [
        ("revoke=1", "invalid_grant"),
        ("bad_client=1", "invalid_client"),
    ] {
        let mut opts = Opts::new(&s.scenario());
        opts.faults = fault.into();
        let bad = common::start(opts).await;
        let out = flywheel(
            &[
                "sync",
                "--config",
                bad.config_path.to_str().unwrap(),
                "--job",
                "inventory",
                "--job",
                "ads",
            ],
            &trace,
        )
        .await;
        let log = text(&out);
        assert_eq!(out.status.code(), Some(1), "{fault}: {log}");
        assert!(log.contains(answer), "{fault}: {log}");
        assert!(log.contains("connecting to 127.0.0.1"), "{fault}: {log}");
        let tokens = bad.sim.state.tokens.issued();
        s.assert_absent(fault, &log, &tokens);
        // What is recorded for `status` and the credentials rule too.
        let recorded: Vec<String> = bad
            .conn()
            .prepare("SELECT IFNULL(error, '') FROM job_runs UNION ALL SELECT IFNULL(detail, '') FROM credential_problems")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(recorded.iter().any(|e| e.contains(answer)), "{recorded:?}");
        s.assert_absent(fault, &recorded.join("\n"), &tokens);
    }

    // SMTP with AUTH at RUST_LOG=trace: delivered, then refused.
    let server = SmtpServer::start_with(Options {
        auth: Some(("flywheel@example.com".into(), s.smtp_password.clone())),
        mechanisms: Some("PLAIN LOGIN".into()),
    })
    .await;
    let good = smtp_config(&h, server.port(), &s.smtp_password, "smtp-good");
    let out = flywheel(
        &["send-test-email", "--config", good.to_str().unwrap()],
        &trace,
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert_eq!(server.messages().len(), 1, "{log}");
    assert_eq!(
        server.auths(),
        [(
            "PLAIN".to_string(),
            "flywheel@example.com".to_string(),
            true
        )]
    );
    assert!(log.contains(" TRACE "), "{log}");
    s.assert_absent("SMTP send at RUST_LOG=trace", &log, &[]);

    // AUTH LOGIN sends the password alone, base64-encoded (a needle too).
    let login = SmtpServer::start_with(Options {
        auth: Some(("flywheel@example.com".into(), s.smtp_password.clone())),
        mechanisms: Some("LOGIN".into()),
    })
    .await;
    let good_login = smtp_config(&h, login.port(), &s.smtp_password, "smtp-login");
    let out = flywheel(
        &["send-test-email", "--config", good_login.to_str().unwrap()],
        &trace,
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert_eq!(
        login.auths(),
        [(
            "LOGIN".to_string(),
            "flywheel@example.com".to_string(),
            true
        )]
    );
    s.assert_absent("SMTP AUTH LOGIN at RUST_LOG=trace", &log, &[]);

    let refusing = SmtpServer::start_with(Options {
        auth: Some(("flywheel@example.com".into(), "another-password".into())),
        mechanisms: None,
    })
    .await;
    let wrong = smtp_config(&h, refusing.port(), &s.smtp_password, "smtp-wrong");
    let out = flywheel(
        &["send-test-email", "--config", wrong.to_str().unwrap()],
        &trace,
    )
    .await;
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("535"), "the refusal is reported: {log}");
    assert!(refusing.messages().is_empty());
    s.assert_absent("refused SMTP login at RUST_LOG=trace", &log, &[]);

    // The daemon itself at RUST_LOG=trace (its scheduler, job runner,
    // evaluation and sender, with the SMTP password loaded), stopped by
    // SIGTERM once the Ads job has run. The orders job is off (its first
    // run backfills two years of monthly reports, longer than this needs);
    // Ads, synced above already, runs every 20 sim minutes (6 s of wall
    // time at the sim's speed).
    let log_path = h.dir.path().join("run-trace.log");
    let daemon_cfg = h.dir.path().join("run-trace.toml");
    std::fs::write(
        &daemon_cfg,
        format!(
            "{}\n[schedule]\norders = \"off\"\nads = \"*/20 * * * *\"\n",
            std::fs::read_to_string(&good).unwrap()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(["--config", daemon_cfg.to_str().unwrap(), "run"])
        .env_remove("FLYWHEEL_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(h.dir.path().join("run-trace.out")).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("job done account=demo job=ads") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the Ads job did not run within 120 s:\n{log}"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the daemon exited:\n{log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the daemon did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let log = format!(
        "{}{}",
        std::fs::read_to_string(&log_path).unwrap(),
        std::fs::read_to_string(h.dir.path().join("run-trace.out")).unwrap()
    );
    // SECURITY_DUMP=1 keeps the daemon's log for reading.
    if std::env::var_os("SECURITY_DUMP").is_some() {
        std::fs::write(std::env::temp_dir().join("flywheel-run-trace.log"), &log).unwrap();
    }
    assert!(status.success(), "{log}");
    for want in [
        " TRACE ",
        "LWA token endpoint answered status=200",
        "job done account=demo",
    ] {
        assert!(
            log.contains(want),
            "no {want:?} in the daemon's trace log:\n{log}"
        );
    }
    s.assert_absent(
        "flywheel run at RUST_LOG=trace",
        &log,
        &h.sim.state.tokens.issued(),
    );

    // Debug of the loaded config and of the notifier.
    let cfg = Config::load(&good, &Env::default()).unwrap();
    let notifier = flywheel::alert::notify::from_config(&cfg).unwrap();
    let shown = format!("{cfg:?}\n{:#?}\n{notifier:?}", cfg.accounts);
    assert!(shown.contains("redacted"), "{shown}");
    s.assert_absent("Debug of Config", &shown, &h.sim.state.tokens.issued());
}

// ------------------------------------------------------------------ 2. loose secret files

/// A config whose every secret comes from a file under `dir`; returns it
/// and the files by key path.
fn config_with_secret_files(dir: &Path) -> (PathBuf, Vec<(String, PathBuf)>) {
    let mut files = Vec::new();
    let mut file = |key: &str| {
        let p = dir.join(key.replace('.', "_"));
        std::fs::write(&p, format!("{}-{}\n", key, random(24))).unwrap();
        #[cfg(unix)]
        chmod(&p, 0o600);
        files.push((key.to_string(), p.clone()));
        p.display().to_string()
    };
    let cfg = format!(
        r#"[daemon]
database = "{db}"

[[accounts]]
name = "shop"
region = "eu"
marketplaces = ["DE"]

[accounts.sp_api]
client_id_file = "{}"
client_secret_file = "{}"
refresh_token_file = "{}"

[accounts.ads]
client_id_file = "{}"
client_secret_file = "{}"
refresh_token_file = "{}"
profile_ids = [1]

[email]
transport = "smtp"
host = "127.0.0.1"
port = 2525
security = "none"
username = "flywheel@example.com"
password_file = "{}"
from = "flywheel <flywheel@example.com>"
to = ["seller@example.com"]
"#,
        file("accounts[0].sp_api.client_id"),
        file("accounts[0].sp_api.client_secret"),
        file("accounts[0].sp_api.refresh_token"),
        file("accounts[0].ads.client_id"),
        file("accounts[0].ads.client_secret"),
        file("accounts[0].ads.refresh_token"),
        file("email.password"),
        db = dir.join("flywheel.db").display(),
    );
    let p = dir.join("flywheel.toml");
    std::fs::write(&p, cfg).unwrap();
    (p, files)
}

#[cfg(unix)]
#[tokio::test]
async fn secret_files_readable_by_group_or_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, files) = config_with_secret_files(dir.path());
    let cfg = cfg.to_str().unwrap();
    let contents: Vec<String> = files
        .iter()
        .map(|(_, p)| std::fs::read_to_string(p).unwrap().trim().to_string())
        .collect();

    for m in [0o600, 0o400] {
        for (_, p) in &files {
            chmod(p, m);
        }
        let out = flywheel(&["check-config", "--config", cfg], &[]).await;
        assert!(out.status.success(), "mode {m:o}: {}", text(&out));
    }
    for (key, p) in &files {
        for loose in [0o640, 0o604, 0o644, 0o660] {
            for (_, q) in &files {
                chmod(q, 0o600);
            }
            chmod(p, loose);
            let out = flywheel(&["check-config", "--config", cfg], &[]).await;
            let shown = text(&out);
            assert_eq!(out.status.code(), Some(2), "{key} {loose:o}: {shown}");
            let want = format!(
                "{key}_file: secret file `{0}` is readable by group or others (mode {loose:04o}); refusing it: run `chmod 600 {0}`",
                p.display()
            );
            assert!(shown.contains(&want), "missing {want:?} in:\n{shown}");
            assert!(shown.contains("1 problem"), "{shown}");
            for c in &contents {
                assert!(!shown.contains(c.as_str()), "a secret leaked: {shown}");
            }
        }
    }

    // The daemon and the other commands load the config the same way:
    // `run` refuses to start, `sync` to sync (exit 2, the same message).
    for (_, q) in &files {
        chmod(q, 0o600);
    }
    let (key, p) = &files[1];
    chmod(p, 0o640);
    let want = format!(
        "{key}_file: secret file `{}` is readable by group or others",
        p.display()
    );
    for args in [vec!["run", "--config", cfg], vec!["sync", "--config", cfg]] {
        let out = flywheel_bounded(&args).await;
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {shown}");
        assert!(
            shown.contains(&want),
            "{args:?}: missing {want:?} in:\n{shown}"
        );
    }
}

/// [`flywheel`] for a command that would keep running if it did not
/// refuse (`run`): killed after 60 s, which fails the caller's checks.
async fn flywheel_bounded(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .args(&args)
            .env_remove("RUST_LOG")
            .env_remove("FLYWHEEL_CONFIG")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

// ------------------------------------------------------------------ 3. database permissions

#[cfg(unix)]
#[tokio::test]
async fn the_database_is_private_and_a_readable_one_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = config_with_secret_files(dir.path());
    let cfg = cfg.to_str().unwrap();
    let db = dir.path().join("flywheel.db");

    // Created 0600 (whatever the umask lets SQLite do), WAL and SHM too.
    let (conn, _) = flywheel::store::open_and_migrate(&db).unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    for p in [
        &db,
        &dir.path().join("flywheel.db-wal"),
        &dir.path().join("flywheel.db-shm"),
    ] {
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }
    drop(conn);
    assert_eq!(flywheel::store::readable_by_others(&db), None);

    let warning = format!(
        "database {0} is readable by other users (mode 0644): it holds your sales data; run `chmod 600 {0}`",
        db.display()
    );
    // `status` and `migrate` (every command goes through the same open:
    // `run`, `doctor`, `sync` …): a world-readable file is warned about.
    chmod(&db, 0o644);
    for cmd in ["status", "migrate"] {
        let out = flywheel(&[cmd, "--config", cfg], &[]).await;
        let shown = text(&out);
        assert!(
            shown.contains(&warning),
            "{cmd}: missing {warning:?} in:\n{shown}"
        );
        assert!(shown.contains("WARN"), "{shown}");
    }
    assert_eq!(
        flywheel::store::readable_by_others(&db).as_deref(),
        Some(warning.as_str())
    );
    // Owner-only, or shared with a group (how operators get `status`): quiet.
    for m in [0o600, 0o640] {
        chmod(&db, m);
        for cmd in ["status", "migrate"] {
            let out = flywheel(&[cmd, "--config", cfg], &[]).await;
            let shown = text(&out);
            assert!(
                !shown.contains("readable by other users"),
                "{cmd} {m:o}: {shown}"
            );
        }
    }

    // `flywheel backup` writes its copy owner-only as well.
    let copy = dir.path().join("copy.db");
    let out = flywheel(&["backup", "--config", cfg, copy.to_str().unwrap()], &[]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&copy), 0o600);
}

// ------------------------------------------------------------------ 4. header injection

/// A scenario whose first day fires alerts of every flywheel link, so the
/// strings of titles, SKUs, campaigns, search terms, feedback, listing
/// issues and review topics all have an email to reach.
const HOSTILE_SCENARIO: &str = r#"
name = "hostile"
history_days = 60
[seller]
account = "shop"
[account_health]
odr = 0.014
[[browse_nodes]]
id = "3743561"
name = "Water Bottles"
topics = [{ topic = "Leaks", sentiment = "negative", share = 5.0 }]
[[products]]
sku = "SKU-CONV"
asin = "B0HOSTIL01"
title = "Conversion drops"
price = 20.0
cogs = 5.0
sessions = 300
conversion = 0.15
rating = 3.2
review_topics = [{ topic = "Leaks", sentiment = "negative", share = 30.0, share_3m_ago = 5.0, star_impact = -0.4 }]
search_queries = [{ query = "steel bottle", volume = 20000 }]
[[products]]
sku = "SKU-LIST"
asin = "B0HOSTIL02"
title = "Suppressed listing"
price = 20.0
cogs = 5.0
[[products]]
sku = "SKU-OUT"
asin = "B0HOSTIL03"
title = "Runs out"
price = 20.0
cogs = 5.0
[[campaigns]]
id = 11
name = "Campaign name"
skus = ["SKU-CONV"]
acos = 0.45
keywords = [{ text = "bottle" }]
search_terms = [{ term = "free bottle", clicks_share = 3.0, purchase_share = 0.0 }, { term = "steel bottle", clicks_share = 1.0 }]
[[feedback.entries]]
day = -3
rating = 1
comments = "Arrived broken"
sku = "SKU-CONV"
[[events]]
from_day = -14
sku = "SKU-CONV"
conversion = 0.05
[[events]]
from_day = -7
sku = "SKU-CONV"
query = "steel bottle"
query_share_factor = 0.4
[[events]]
from_day = -4
sku = "SKU-LIST"
suppressed = true
listing_status = ["DISCOVERABLE"]
issues = [{ code = "90220", message = "'item_name' is required but not supplied.", severity = "ERROR", categories = ["MISSING_ATTRIBUTE"], attribute_names = ["item_name"] }]
[[events]]
from_day = -50
sku = "SKU-OUT"
replenish = false
"#;

/// Identifiers joined across tables: all get the same suffix, so joins
/// (and the rules reading them) still match.
const KEY_COLUMNS: &[&str] = &[
    "sku",
    "asin",
    "parent_asin",
    "advertised_sku",
    "advertised_asin",
    "subject_id",
    "search_term",
    "search_query",
    "keyword",
    "topic",
];

/// Free text from Amazon that a rule, an email or the digest may show.
const TEXT_COLUMNS: &[(&str, &str)] = &[
    ("products", "title"),
    ("order_items", "title"),
    ("listings", "item_name"),
    ("listing_issues", "code"),
    ("listing_issues", "message"),
    ("ads_campaigns", "name"),
    ("ads_campaign_daily", "campaign_name"),
    ("ads_profiles", "account_name"),
    ("seller_feedback", "comments"),
    ("seller_feedback", "your_response"),
    ("returns", "reason"),
    ("catalog_ranks", "display_group_title"),
    ("catalog_ranks", "classification_title"),
    ("item_browse_nodes", "browse_node_name"),
    ("inventory_planning", "recommended_action"),
    ("job_runs", "error"),
    ("credential_problems", "detail"),
    // Amazon's status words: a hostile one is also "not NORMAL", so the
    // account_health alert shows it.
    ("account_health_snapshots", "account_status"),
    ("account_health_snapshots", "health_rating_status"),
    ("listings", "product_type"),
    ("returns", "disposition"),
    ("returns", "status"),
    ("orders", "sales_channel"),
    ("ads_search_term_daily", "match_type"),
    ("catalog_ranks", "display_group"),
    ("pricing_snapshots", "featured_offer_seller_id"),
];

/// The planted text: line breaks of every kind, header lines, the SMTP
/// end-of-data line, HTML, non-ASCII, and length. `tag` identifies it.
fn hostile(tag: &str, long: usize) -> String {
    format!(
        " {tag}\r\nBcc: evil@example.com\r\nX-Injected: {tag}\n\r\n.\r\nSubject: pwned\rCc: evil2@example.com\u{2028}\u{85}<script>alert(1)</script> ü日本語 \"q\" & {}",
        "L".repeat(long)
    )
}

/// The headers flywheel writes (lower case); anything else is injected.
const OWN_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// (lower-case name, unfolded value) of each header in a header block.
fn unfolded(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((n, v)) = line.split_once(':') {
            out.push((n.to_ascii_lowercase(), v.to_string()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_strings_cannot_inject_headers_or_recipients() {
    let mut opts = Opts::new(HOSTILE_SCENARIO);
    opts.speed = 400.0;
    let h = common::start(opts).await;
    h.sync_settled(&[]).await;

    // Plant the hostile values in every synced string that can reach mail.
    let key_suffix = hostile("HXKEY", 40);
    let mut planted = Vec::new();
    {
        let conn = h.conn();
        // Keys change in parent and child tables alike, one at a time.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let internal = [
            "alerts",
            "alert_acks",
            "silences",
            "outbox",
            "outbox_attachments",
        ];
        for t in tables.iter().filter(|t| !internal.contains(&t.as_str())) {
            let cols: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for c in cols.iter().filter(|c| KEY_COLUMNS.contains(&c.as_str())) {
                let n = conn
                    .execute(
                        &format!("UPDATE \"{t}\" SET \"{c}\" = \"{c}\" || ?1 WHERE \"{c}\" <> ''"),
                        [&key_suffix],
                    )
                    .unwrap();
                if n > 0 {
                    planted.push(format!("{t}.{c}"));
                }
            }
        }
        for (i, (t, c)) in TEXT_COLUMNS.iter().enumerate() {
            // Long values in some columns, short in others (a long one
            // can hide the next in a summary shortened to fit).
            let long = if i % 2 == 0 { 1200 } else { 0 };
            let n = conn
                .execute(
                    &format!("UPDATE {t} SET {c} = {c} || ?1 WHERE {c} <> ''"),
                    [hostile(&format!("HX{i:02}"), long)],
                )
                .unwrap();
            if n > 0 {
                planted.push(format!("{t}.{c}"));
            }
        }
        assert!(conn
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query([])
            .unwrap()
            .next()
            .unwrap()
            .is_none());
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    }
    for must in [
        "products.title",
        "products.sku",
        "seller_feedback.comments",
        "ads_campaigns.name",
        "ads_search_term_daily.search_term",
        "listing_issues.message",
    ] {
        assert!(
            planted.iter().any(|p| p == must),
            "{must} not planted: {planted:?}"
        );
    }

    // The real evaluation round and digest, sent over SMTP.
    let server = SmtpServer::start().await;
    let base = std::fs::read_to_string(&h.config_path).unwrap();
    let cfg_path = h.dir.path().join("smtp.toml");
    std::fs::write(&cfg_path, smtp::with_smtp(&base, server.port())).unwrap();
    let cfg = cfg_path.to_str().unwrap();
    for args in [
        vec!["evaluate", "--config", cfg],
        vec!["digest", "--send", "--config", cfg],
    ] {
        let out = flywheel(&args, &[]).await;
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let got = server.messages();
    let sent = h.int("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL");
    assert!(got.len() >= 2, "an alert email and a digest: {}", got.len());
    assert_eq!(
        got.len() as i64,
        sent,
        "no message smuggled in by a lone '.'"
    );

    let allowed: BTreeSet<&str> = ["seller@example.com", "ops@example.com"].into();
    let mut found = BTreeSet::new();
    let mut html_escaped = false;
    let mut hostile_subject = false;
    for m in &got {
        let raw = String::from_utf8_lossy(&m.data);
        let end = raw.find("\r\n\r\n").expect("a header block");
        let head = &raw[..end];

        // Recipients: the configured ones, in the envelope and in To.
        assert!(!m.recipients.is_empty());
        for r in &m.recipients {
            assert!(
                allowed.contains(r.as_str()),
                "envelope recipient {r}:\n{head}"
            );
        }
        // Every header line is a header of flywheel's own or a folded
        // continuation (hostile text inside the Subject is folded onto
        // lines that start with a space: text, not headers), ASCII, within
        // RFC 5322's 998 characters; exactly one Subject.
        assert!(head.is_ascii(), "{head}");
        let mut names = Vec::new();
        for line in head.split("\r\n") {
            assert!(line.len() <= 998, "{} characters: {line}", line.len());
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let name = line
                .split_once(':')
                .map(|(n, _)| n.to_ascii_lowercase())
                .unwrap_or_else(|| panic!("not a header line: {line:?}\n{head}"));
            assert!(
                OWN_HEADERS.contains(&name.as_str()),
                "header {name:?} is not flywheel's:\n{head}"
            );
            names.push(name);
        }
        assert_eq!(
            names.iter().filter(|n| *n == "subject").count(),
            1,
            "{head}"
        );
        // Hostile text may only sit in the Subject (as text). The
        // Content-Type's random boundary is left out: it could spell "HX".
        for (name, value) in unfolded(head) {
            if name != "subject" && name != "content-type" {
                assert!(
                    !value.contains("evil") && !value.contains("HX"),
                    "{name}: {value}\n{head}"
                );
            }
        }

        let msg = MessageParser::default().parse(&m.data).expect("MIME");
        let mut to: Vec<String> = msg
            .to()
            .unwrap()
            .iter()
            .filter_map(|a| a.address().map(str::to_string))
            .collect();
        to.sort();
        let mut envelope = m.recipients.clone();
        envelope.sort();
        assert_eq!(to, envelope);
        assert!(msg.bcc().is_none() && msg.cc().is_none());
        let subject = msg.subject().expect("a subject");
        // Subjects name products by Amazon's title (cut to fit) where they
        // named them by key: any planted value with its header line counts.
        hostile_subject |= subject.contains("HX") && subject.contains("Bcc:");
        assert!(
            !subject.contains(['\r', '\n', '\u{2028}', '\u{85}']),
            "{subject:?}"
        );
        assert!(
            subject.chars().count() <= flywheel::alert::render::SUBJECT_MAX,
            "{subject}"
        );

        // The bodies carry the hostile text, escaped in the HTML.
        let text_body = msg.body_text(0).map(|t| t.to_string()).unwrap_or_default();
        // SECURITY_DUMP=1 shows what the emails made of the planted text.
        if std::env::var_os("SECURITY_DUMP").is_some() {
            eprintln!("----\n{head}\n\n{text_body}");
        }
        let html = msg.body_html(0).map(|t| t.to_string()).unwrap_or_default();
        let lower_html = html.to_ascii_lowercase();
        assert!(!lower_html.contains("<script"), "{html}");
        html_escaped |= html.contains("&lt;script&gt;");
        for body in [&text_body, &html] {
            for (i, (t, c)) in TEXT_COLUMNS.iter().enumerate() {
                if body.contains(&format!("HX{i:02}")) {
                    found.insert(format!("{t}.{c}"));
                }
            }
            if body.contains("HXKEY") {
                found.insert("keys (sku, asin, search term, topic …)".to_string());
            }
        }
    }
    assert!(
        hostile_subject,
        "no hostile key reached a Subject: the test is vacuous"
    );
    assert!(
        html_escaped,
        "no hostile HTML reached an email: the test is vacuous"
    );
    eprintln!("hostile strings seen in the emails: {found:?}");
    // What the emails show of Amazon's text today (titles and feedback
    // comments are not shown: the rules' summaries count them); whatever
    // else reaches an email later is covered by the checks above.
    for must in [
        "ads_campaigns.name",
        "account_health_snapshots.account_status",
        "listing_issues.code",
        "listing_issues.message",
        "keys (sku, asin, search term, topic …)",
    ] {
        assert!(
            found.contains(must),
            "{must} never reached an email: {found:?}"
        );
    }
}

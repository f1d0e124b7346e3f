//! The database and the files beside it, against the real binary on real
//! files (issue 14, items 10 and 12):
//!
//! - every database failure (damaged, not a database, locked, read-only,
//!   disk full) exits 1 with one message naming the file and what to do;
//! - nothing creates a missing directory: a typo in `[daemon] database`
//!   is refused instead of starting a fresh database (which would repeat
//!   every alert email); a missing file in an existing directory is
//!   created and said, loudly in `run`'s log; `check-config` warns;
//! - `.eml` files, `digest.html` and the daemon's lock file are 0600; a
//!   config other users can read that holds secrets inline is warned
//!   about; TOML and region errors say exactly what is wrong, once.
//!
//! The read-only and disk-full cases need a file system that refuses
//! writes even to root (tests run as root, whom permissions do not stop):
//! each runs the binary in its own mount namespace (`unshare --mount`)
//! over a read-only bind mount or a tiny tmpfs, which vanish with it.
//! Where `unshare` is not permitted they say so and return; the mapping
//! of those SQLite errors to messages is also covered by the unit table
//! in `store::tests`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flywheel"));
    c.env_remove("FLYWHEEL_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("JOURNAL_STREAM");
    c
}

fn flywheel(config: &Path, args: &[&str]) -> Output {
    bin()
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("run flywheel")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// A valid config at `dir/flywheel.toml` (0600) for the database at
/// `database`; `extra` is appended. The email transport writes files in
/// `dir/mail`; the endpoints answer nowhere (nothing here syncs).
fn config(dir: &Path, database: &Path, extra: &str) -> PathBuf {
    let p = dir.join("flywheel.toml");
    std::fs::write(
        &p,
        format!(
            r#"[daemon]
database = "{db}"

[[accounts]]
name = "shop"
region = "eu"
marketplaces = ["DE"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "CLIENT-SECRET"
refresh_token = "Atzr|REFRESH-TOKEN"
endpoint = "http://127.0.0.1:9"
token_url = "http://127.0.0.1:9/auth/o2/token"

[email]
transport = "file"
dir = "{mail}"
from = "flywheel <flywheel@example.com>"
to = ["ops@example.com"]
{extra}"#,
            db = database.display(),
            mail = dir.join("mail").display(),
        ),
    )
    .unwrap();
    chmod(&p, 0o600);
    p
}

/// A migrated database at `dir/db/flywheel.db` and its config.
fn migrated(dir: &Path) -> (PathBuf, PathBuf) {
    let db_dir = dir.join("db");
    std::fs::create_dir(&db_dir).unwrap();
    let db = db_dir.join("flywheel.db");
    let cfg = config(dir, &db, "");
    let out = flywheel(&cfg, &["migrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (cfg, db)
}

/// Exit 1, one `error:` line naming `path`, holding every piece of `want`,
/// with `once` (SQLite's own words) in it exactly once.
fn assert_one_error(out: &Output, path: &Path, want: &[&str], once: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    let line = lines[0];
    assert!(
        line.contains(&path.display().to_string()),
        "the error names {}: {line}",
        path.display()
    );
    for w in want {
        assert!(line.contains(w), "missing {w:?} in: {line}");
    }
    assert_eq!(line.matches(once).count(), 1, "{once:?} once: {line}");
}

#[test]
fn a_damaged_database_is_named_with_the_backup_to_restore() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = migrated(dir.path());
    // Keep the header (so SQLite takes it for a database) and garble the
    // schema page after it.
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 4096, "{}", bytes.len());
    for b in &mut bytes[100..4096] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = flywheel(&cfg, &["migrate"]);
    assert_one_error(
        &out,
        &db,
        &["is damaged", "restore it from a backup", "flywheel backup"],
        "malformed",
    );
}

#[test]
fn a_file_that_is_not_a_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("db")).unwrap();
    let db = dir.path().join("db/flywheel.db");
    std::fs::write(&db, "these are my notes, not a database\n".repeat(200)).unwrap();
    let cfg = config(dir.path(), &db, "");
    let copy = dir.path().join("copy.db");
    for args in [
        &["migrate"][..],
        &["alerts"],
        &["status"],
        &["backup", copy.to_str().unwrap()],
    ] {
        let out = flywheel(&cfg, args);
        assert_one_error(
            &out,
            &db,
            &[
                "is not a flywheel database",
                "check `[daemon] database`",
                "flywheel backup",
            ],
            "file is not a database",
        );
    }
    let notes = std::fs::read_to_string(&db).unwrap();
    assert!(notes.starts_with("these are my notes"), "left as it was");
}

/// Another connection holds the write lock past the busy timeout (10 s):
/// the command's first write gives up, naming the file and what to do.
#[test]
fn a_locked_database_is_named_with_who_to_wait_for() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = migrated(dir.path());
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = flywheel(&cfg, &["migrate"]);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_one_error(
        &out,
        &db,
        &["is locked", "another process", "then try again"],
        "database is locked",
    );
}

/// Runs `flywheel ARGS` in a private mount namespace after `setup` (a
/// shell snippet with `$D` the directory to mount over); `None` when this
/// machine does not allow it.
fn in_namespace(dir: &Path, setup: &str, config: &Path, args: &[&str]) -> Option<Output> {
    let probe = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        // CI runs as root and must check these; elsewhere say what is skipped.
        assert!(
            std::env::var_os("CI").is_none(),
            "`unshare --mount` is not permitted, and CI must run this test (as root)"
        );
        eprintln!("skipped: `unshare --mount` is not permitted here (needs root)");
        return None;
    }
    let script = format!("D=\"$1\"; shift; {setup} && exec \"$@\"");
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ])
        .arg(dir)
        .arg(env!("CARGO_BIN_EXE_flywheel"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("FLYWHEEL_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .output()
        .expect("run unshare");
    Some(out)
}

const READ_ONLY: &str = r#"mount --bind "$D" "$D" && mount -o remount,bind,ro "$D""#;

#[test]
fn a_read_only_directory_is_named_once_with_the_permissions_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = migrated(dir.path());
    let db_dir = db.parent().unwrap();

    // An existing database there: SQLite cannot create its -shm beside it.
    let Some(out) = in_namespace(db_dir, READ_ONLY, &cfg, &["migrate"]) else {
        return;
    };
    assert_one_error(
        &out,
        &db,
        &[
            "cannot open database",
            &format!(
                "check the permissions of {0} and of its directory {1}",
                db.display(),
                db_dir.display()
            ),
            "mounted read-write",
        ],
        "unable to open",
    );

    // The database file itself read-only (its directory is writable).
    let out = in_namespace(&db, READ_ONLY, &cfg, &["migrate"]).unwrap();
    assert_one_error(
        &out,
        &db,
        &[
            "is read-only",
            "check the permissions of",
            "mounted read-write",
        ],
        "readonly",
    );

    // A new database there: it cannot be created (this message printed
    // the OS error twice).
    let new_db = db_dir.join("new.db");
    let cfg2 = config(dir.path(), &new_db, "");
    let out = in_namespace(db_dir, READ_ONLY, &cfg2, &["migrate"]).unwrap();
    assert_one_error(
        &out,
        &new_db,
        &["cannot create the database", "may write in"],
        "Read-only file system",
    );
    assert!(!new_db.exists());

    // check-config warns and passes.
    let out = in_namespace(db_dir, READ_ONLY, &cfg2, &["check-config"]).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "warning: database directory {} is not writable",
            db_dir.display()
        )),
        "{err}"
    );
}

#[test]
fn a_full_disk_is_named_with_where_to_free_space() {
    let dir = tempfile::tempdir().unwrap();
    let db_dir = dir.path().join("db");
    std::fs::create_dir(&db_dir).unwrap();
    let db = db_dir.join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    // 64 KiB: the file is created, the schema (16 KiB pages) does not fit.
    let tiny = r#"mount -t tmpfs -o size=64k tmpfs "$D""#;
    let Some(out) = in_namespace(&db_dir, tiny, &cfg, &["migrate"]) else {
        return;
    };
    assert_one_error(
        &out,
        &db,
        &[
            "the disk is full",
            &format!("free space in {}", db_dir.display()),
        ],
        "database or disk is full",
    );
}

#[test]
fn a_database_in_a_missing_directory_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("sate");
    let db = typo.join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    for args in [&["migrate"][..], &["sync", "--job", "orders"], &["run"]] {
        let mut child = bin()
            .args(args)
            .arg("--config")
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} did not stop on a missing directory");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "the directory {} does not exist: correct `[daemon] database`",
                typo.display()
            )),
            "{args:?}: {err}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }

    // check-config passes with a warning, creating nothing.
    let out = flywheel(&cfg, &["check-config"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(stdout(&out).starts_with("ok: "), "{}", stdout(&out));
    assert!(
        err.contains(&format!(
            "warning: database {}: the directory {} does not exist",
            db.display(),
            typo.display()
        )),
        "{err}"
    );
    assert!(!typo.exists());
}

#[test]
fn a_missing_file_in_an_existing_directory_is_created_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    let out = flywheel(&cfg, &["migrate"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("created new database {}", db.display())),
        "{err}"
    );
    assert_eq!(mode(&db), 0o600);
    let out = flywheel(&cfg, &["migrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("created new database"), "once only");
}

/// `run` on a database that does not exist yet says so at warning level
/// before it does anything else; its lock file is owner-only.
#[test]
fn run_warns_loudly_on_a_new_database_and_its_lock_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    let mut child = bin()
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let warning = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("created new database") => break Some(line),
            Ok(line) if line.contains("flywheel daemon started") => {
                seen.push(line);
                break None;
            }
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let lock = dir.path().join("flywheel.db.lock");
    let lock_mode = lock.exists().then(|| mode(&lock));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();

    let warning = warning.unwrap_or_else(|| panic!("no warning; log: {seen:#?}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains(&format!("created new database {}", db.display()))
            && warning.contains("no alert state")
            && warning.contains("correct `[daemon] database`"),
        "{warning}"
    );
    assert_eq!(lock_mode, Some(0o600), "lock file {}", lock.display());
}

#[test]
fn emails_and_the_digest_file_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    let html = dir.path().join("digest.html");
    let out = flywheel(&cfg, &["digest", "--send", "--out", html.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode(&html), 0o600, "{}", html.display());
    let mails: Vec<PathBuf> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        mails
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "eml")),
        "{mails:?}"
    );
    for m in &mails {
        assert_eq!(mode(m), 0o600, "{}", m.display());
    }

    // A digest file left 0644 by an older flywheel is tightened.
    chmod(&html, 0o644);
    let out = flywheel(&cfg, &["digest", "--out", html.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode(&html), 0o600);
}

#[test]
fn a_config_others_can_read_with_inline_secrets_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    let want = format!("run `chmod 600 {}`", cfg.display());

    let out = flywheel(&cfg, &["check-config"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr(&out).contains("chmod"), "0600 is fine");

    chmod(&cfg, 0o644);
    for cmd in ["check-config", "migrate"] {
        let out = flywheel(&cfg, &[cmd]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {err}");
        assert_eq!(err.matches(&want).count(), 1, "{cmd}: {err}");
        assert!(
            err.contains("accounts[0].sp_api.client_secret, accounts[0].sp_api.refresh_token")
                && err.contains("mode 0644"),
            "{cmd}: {err}"
        );
        assert!(!err.contains("CLIENT-SECRET"), "{err}");
    }
}

#[test]
fn a_duplicate_toml_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("name = \"shop\"\n", "name = \"shop\"\nname = \"shop2\"\n");
    std::fs::write(&cfg, text).unwrap();
    let out = flywheel(&cfg, &["check-config"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:6:1: not valid TOML: duplicate key `name`",
            cfg.display()
        )),
        "{err}"
    );
}

#[test]
fn a_bad_region_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flywheel.db");
    let cfg = config(dir.path(), &db, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("region = \"eu\"", "region = \"europe\"");
    std::fs::write(&cfg, text).unwrap();
    let out = flywheel(&cfg, &["check-config"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("1 problem in the configuration"), "{err}");
    assert!(
        err.contains("accounts[0].region: unknown value \"europe\""),
        "{err}"
    );
    assert!(!err.contains("missing `region`"), "{err}");
}

/// A disk that fills during `import` (after the database opened fine): the
/// error still names the database and where to free space. The import's
/// own error type wraps the store's, which hid the SQLite error from the
/// step that names the file.
#[test]
fn a_disk_that_fills_during_an_import_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, db) = migrated(dir.path());
    let db_dir = db.parent().unwrap();
    let file = dir.path().join("feedback.tsv");
    let mut text = String::from("Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n");
    for i in 0..40_000 {
        text.push_str(&format!(
            "10.02.26\t1\tBroken on arrival, order number {i} of many\t\t302-{i:07}-{i:07}\tbuyer{i}@example.com\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    // The database as it is, on a disk with 256 KiB left.
    let kib = std::fs::metadata(&db).unwrap().len() / 1024 + 256;
    let setup = format!(
        r#"cp "$D/flywheel.db" "$D.copy" && mount -t tmpfs -o size={kib}k tmpfs "$D" && mv "$D.copy" "$D/flywheel.db""#
    );
    let file = file.display().to_string();
    let args = [
        "import",
        "--account",
        "shop",
        "--report-type",
        "GET_SELLER_FEEDBACK_DATA",
        file.as_str(),
    ];
    let Some(out) = in_namespace(db_dir, &setup, &cfg, &args) else {
        return;
    };
    assert_one_error(
        &out,
        &db,
        &[
            "the disk is full",
            &format!("free space in {}", db_dir.display()),
        ],
        "database or disk is full",
    );
}

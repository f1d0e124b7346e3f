//! `flywheel import` run as a user runs it: the real binary on a config
//! with one US account and a real SQLite file in a temporary directory, its
//! clock a fixed instant ([`NOW`]) served on 127.0.0.1, so stored rows are
//! reproducible.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The instant every import runs at.
pub const NOW: &str = "2026-03-02T16:00:00Z";

/// Serves `{"now": NOW}` on 127.0.0.1 (the simulated-clock protocol the
/// binary reads when `[daemon] clock` is a URL); the URL.
pub fn fixed_clock() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/_sim/now", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut line = String::new();
                // The request line and headers, up to the blank line.
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let body = format!(r#"{{"now":"{NOW}","speed":0}}"#);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    })
}

/// Where the config's one account sells.
pub struct SellsIn<'a> {
    pub region: &'a str,
    pub marketplaces: &'a str,
}

/// A config (one account) and its database in a temporary directory.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Env {
    /// One US account, with `sync` as its `[sync]` table.
    pub fn new(sync: &str) -> Env {
        Env::selling(
            &SellsIn {
                region: "na",
                marketplaces: r#""US""#,
            },
            sync,
        )
    }

    /// One account named "shop" in `at.region`, selling in `at.marketplaces`
    /// (a TOML list's items, e.g. `"UK", "DE"`).
    pub fn selling(at: &SellsIn, sync: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("flywheel.toml");
        std::fs::write(
            &config,
            format!(
                r#"[daemon]
database = "flywheel.db"
clock = "{}"

[[accounts]]
name = "shop"
region = "{}"
marketplaces = [{}]
alert_to = ["ops@example.com"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "not-used"
refresh_token = "Atzr|not-used"

[sync]
{sync}
"#,
                fixed_clock(),
                at.region,
                at.marketplaces
            ),
        )
        .expect("config");
        Env { dir, config }
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("flywheel.db")).expect("db")
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    }

    pub fn command(&self, report_type: &str, file: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flywheel"));
        c.args(["import", "--config"])
            .arg(&self.config)
            .args(["--account", "shop", "--report-type", report_type])
            .arg(file)
            .env_remove("FLYWHEEL_CONFIG")
            .env_remove("RUST_LOG")
            .env_remove("CREDENTIALS_DIRECTORY");
        c
    }

    pub fn import(&self, report_type: &str, file: &Path) -> Run {
        let out = self
            .command(report_type, file)
            .output()
            .expect("run flywheel");
        Run::from(out)
    }

    pub fn int(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect(sql)
    }
}

/// A finished `flywheel import`.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:?}");
        &self.stdout
    }

    pub fn failed(&self) -> &str {
        assert_eq!(self.code, Some(1), "{self:?}");
        &self.stderr
    }
}

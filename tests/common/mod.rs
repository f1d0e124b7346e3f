//! Test harness shared by the sync tests: a simulated marketplace on
//! 127.0.0.1, a flywheel config written by the sim's `--write-config`, a
//! migrated SQLite database in a temp dir, and an API client whose rate
//! limits follow the sim's clock.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::ApiClient;
use flywheel::clock::Clock;
use flywheel::config::{Config, Env};
use flywheel::sync::{self, Db, JobName, JobResult, Selection};
use rusqlite::Connection;

/// How to start the sim.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Scenario name in `scenarios/` ("demo") or inline TOML (contains '=').
    pub scenario: String,
    pub seed: u64,
    pub speed: f64,
    pub now: DateTime<Utc>,
    pub faults: String,
}

impl Opts {
    pub fn new(scenario: &str) -> Opts {
        Opts {
            scenario: scenario.to_string(),
            seed: 1,
            // Fast enough that reports finish in well under a second of wall
            // time, slow enough that searchOrders pages are paced visibly.
            speed: 200.0,
            now: DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            faults: String::new(),
        }
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Harness {
    pub sim: flywheel_sim::RunningSim,
    pub cfg: Config,
    pub config_path: PathBuf,
    pub dir: tempfile::TempDir,
    pub client: ApiClient,
    pub db: Db,
    pub clock: Clock,
}

pub async fn start(opts: Opts) -> Harness {
    let scenario = if opts.scenario.contains('=') {
        flywheel_sim::scenario::Scenario::from_toml_str(&opts.scenario).expect("inline scenario")
    } else {
        let p = repo()
            .join("scenarios")
            .join(format!("{}.toml", opts.scenario));
        flywheel_sim::scenario::Scenario::from_path(&p).expect("scenario file")
    };
    let mut so = flywheel_sim::SimOptions::new(scenario);
    so.seed = opts.seed;
    so.speed = opts.speed;
    so.now = Some(opts.now);
    if !opts.faults.is_empty() {
        so.faults = opts.faults.parse().expect("fault list");
    }
    let sim = flywheel_sim::spawn(so).await.expect("sim starts");
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("flywheel.toml");
    flywheel_sim::write_config::write_config(&config_path, &sim.world, &sim.base_url())
        .expect("write config");
    let cfg = Config::load(&config_path, &Env::default()).expect("the sim's config is valid");
    let (mut conn, _) = flywheel::store::open_and_migrate(&cfg.daemon.database).unwrap();
    let clock = Clock::from_source(&cfg.daemon.clock);
    let reading = clock.read().await.unwrap();
    flywheel::store::ops::sync_accounts(&mut conn, &cfg, reading.now).unwrap();
    let client = ApiClient::new(
        Duration::from_secs(15),
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(1),
        },
    )
    .unwrap();
    client.limiter.set_speed(reading.speed);
    Harness {
        sim,
        cfg,
        config_path,
        dir,
        client,
        db: std::sync::Mutex::new(conn),
        clock,
    }
}

impl Harness {
    /// One sync round of `jobs` (all scheduled jobs when empty) at sim now.
    pub async fn sync(&self, jobs: &[JobName]) -> Vec<JobResult> {
        let now = self.clock.now().await.unwrap();
        let selection = Selection {
            jobs: jobs.to_vec(),
            accounts: Vec::new(),
        };
        let results = sync::run_round(
            &self.cfg,
            &self.client,
            &self.db,
            now,
            &selection,
            &sync::Progress::default(),
        )
        .await;
        sync::flush_counters(&self.client, &self.db).unwrap();
        results
    }

    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap()
    }

    /// `SELECT COUNT(*)`-style single integer.
    pub fn int(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    pub async fn advance(&self, by: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/_sim/advance?by={by}", self.sim.base_url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    pub async fn now(&self) -> DateTime<Utc> {
        self.clock.now().await.unwrap()
    }

    pub fn database(&self) -> &Path {
        &self.cfg.daemon.database
    }
}

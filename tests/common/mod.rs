//! Test harness shared by the sync tests: a simulated marketplace on
//! 127.0.0.1, a flywheel config written by the sim's `--write-config`, a
//! migrated SQLite database in a temp dir, and an API client whose rate
//! limits follow the sim's clock. [`Harness::sync_daily`] syncs the way a
//! daemon does over days, for the end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
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
    /// The world's day 0 (the date the scenario's breaks are placed
    /// relative to, and `flywheel sim truth --at`'s default world); `None`:
    /// the date of `now` in the seller's zone, as `flywheel sim --now`.
    pub day0: Option<NaiveDate>,
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
            day0: None,
            faults: String::new(),
        }
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sim a harness talks to: `flywheel_sim::spawn` itself, or (with
/// [`Opts::day0`]) the same pieces assembled around a world whose day 0 is
/// not the clock's start date. Dropping it stops the server.
pub struct Sim {
    pub addr: std::net::SocketAddr,
    pub world: Arc<flywheel_sim::world::World>,
    pub clock: Arc<flywheel_sim::clock::Clock>,
    pub state: flywheel_sim::server::AppState,
    /// Keeps a spawned sim serving.
    _spawned: Option<flywheel_sim::RunningSim>,
    /// Stops an assembled sim.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sim {
    /// `http://ADDR`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn start(so: flywheel_sim::SimOptions, day0: Option<NaiveDate>) -> Sim {
        let Some(day0) = day0 else {
            let s = flywheel_sim::spawn(so).await.expect("sim starts");
            return Sim {
                addr: s.addr,
                world: s.world.clone(),
                clock: s.clock.clone(),
                state: s.state.clone(),
                _spawned: Some(s),
                stop: None,
            };
        };
        let start = so.now.expect("a start time with day0");
        let (scenario, seed) = (so.scenario, so.seed);
        let worlds = tokio::task::spawn_blocking(move || {
            flywheel_sim::world::Worlds::new(&scenario, seed, day0)
        })
        .await
        .expect("the world generates");
        let world = worlds.first().clone();
        let clock = Arc::new(flywheel_sim::clock::Clock::new(start, so.speed));
        let listener = tokio::net::TcpListener::bind(so.listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = flywheel_sim::server::AppState::new(
            worlds,
            clock.clone(),
            flywheel_sim::faults::Faults::new(so.faults, seed),
            &format!("http://{addr}"),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(flywheel_sim::server::serve(
            listener,
            state.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Sim {
            addr,
            world,
            clock,
            state,
            _spawned: None,
            stop: Some(stop),
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Harness {
    pub sim: Sim,
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
    let sim = Sim::start(so, opts.day0).await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("flywheel.toml");
    flywheel_sim::write_config::write_config(&config_path, &sim.state.worlds, &sim.base_url())
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
            &self.clock,
            now,
            &selection,
            &sync::Progress::default(),
            &|| false,
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

    /// A config of its own in `dir` (written there as `flywheel.toml`):
    /// a consistent copy of the synced database as it is now (take it
    /// before any evaluation), the `file` mail transport into `dir/mail`,
    /// `[alerts] language = lang`, and repeats due after an hour (so a
    /// repeat round needs no day to pass). Data counts as stale only after
    /// a day ([`QUIET_STALENESS`]): the sim's clock runs on while a test
    /// works, and a stale-data alert would be news in the repeat round.
    pub fn language_copy(&self, lang: &str, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        let db = dir.join("flywheel.db");
        self.conn()
            .execute("VACUUM INTO ?1", [db.to_str().unwrap()])
            .unwrap();
        let text = std::fs::read_to_string(&self.config_path).unwrap();
        let text = text
            .replace(
                &self.cfg.daemon.database.display().to_string(),
                &db.display().to_string(),
            )
            .replace(
                &self.cfg.email.dir.display().to_string(),
                &dir.join("mail").display().to_string(),
            );
        let p = dir.join("flywheel.toml");
        std::fs::write(
            &p,
            format!(
                "{text}\n[alerts]\nrepeat_interval = \"1h\"\nlanguage = \"{lang}\"\n{QUIET_STALENESS}"
            ),
        )
        .unwrap();
        p
    }

    /// Reports requested and not yet consumed (`pending_reports`), FATAL
    /// ones (waiting out their retry backoff) left out.
    pub fn pending_reports(&self) -> Vec<PendingReport> {
        self.report_rows("status <> 'FATAL'")
    }

    /// Reports that ended FATAL (or empty) and wait for a retry.
    pub fn failed_reports(&self) -> Vec<PendingReport> {
        self.report_rows("status = 'FATAL'")
    }

    fn report_rows(&self, filter: &str) -> Vec<PendingReport> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT job, api, report_type, status, report_id, created_at
                 FROM pending_reports WHERE {filter} ORDER BY id"
            ))
            .unwrap();
        stmt.query_map([], |r| {
            Ok(PendingReport {
                job: r.get(0)?,
                api: r.get(1)?,
                report_type: r.get(2)?,
                status: r.get(3)?,
                report_id: r.get(4)?,
                created_at: r.get(5)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// One round of `jobs` (all scheduled jobs when empty), then, as a
    /// daemon's next runs would over the day, the jobs that own reports
    /// still pending (in Amazon's queue past `max_report_wait`, left for
    /// the next run) again, until none is pending. Panics, naming them, if
    /// reports are still pending after [`MAX_EXTRA_ROUNDS`] extra rounds.
    pub async fn sync_settled(&self, jobs: &[JobName]) -> Settled {
        let results = self.sync(jobs).await;
        let mut extra = Vec::new();
        loop {
            // Jobs the report budget deferred run again once it has room,
            // as the daemon reschedules them (a seller in five marketplaces
            // needs more reports a day than one hour's budget).
            let last: &Vec<JobResult> = extra.last().unwrap_or(&results);
            let deferred: BTreeSet<JobName> = last
                .iter()
                .filter(|r| r.deferred_by_budget())
                .map(|r| r.job)
                .collect();
            if !deferred.is_empty() {
                assert!(
                    extra.len() < MAX_EXTRA_ROUNDS,
                    "jobs still deferred by the report budget after {MAX_EXTRA_ROUNDS} extra rounds: {deferred:?}"
                );
                self.sim
                    .clock
                    .advance(flywheel::daemon::BUDGET_RETRY.to_std().unwrap());
                let rerun: Vec<JobName> = deferred.into_iter().collect();
                extra.push(self.sync(&rerun).await);
                continue;
            }
            let pending = self.pending_reports();
            if pending.is_empty() {
                break;
            }
            assert!(
                extra.len() < MAX_EXTRA_ROUNDS,
                "{} report(s) still pending after {MAX_EXTRA_ROUNDS} extra sync rounds at {}:\n{}",
                pending.len(),
                self.now().await,
                pending
                    .iter()
                    .map(|p| format!("  {p}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            let rerun: BTreeSet<JobName> = pending
                .iter()
                .map(|p| {
                    JobName::parse(&p.job)
                        .unwrap_or_else(|| panic!("pending report of an unknown job: {p}"))
                })
                .collect();
            let rerun: Vec<JobName> = rerun.into_iter().collect();
            extra.push(self.sync(&rerun).await);
        }
        Settled { results, extra }
    }

    /// Syncs as a daemon would over the days `first..=last` (marketplace
    /// days in `tz`): on each day at `offset` past midnight (the clock is
    /// advanced there; a day whose time has already passed syncs at once),
    /// one [`Harness::sync_settled`] round of every scheduled job. Prints a
    /// line per day (every job's result on the last day, or on every day
    /// with `E2E_VERBOSE` set).
    pub async fn sync_daily(
        &self,
        tz: &chrono_tz::Tz,
        first: NaiveDate,
        last: NaiveDate,
        offset: chrono::Duration,
        label: &str,
    ) -> Vec<Settled> {
        let mut days = Vec::new();
        let mut day = first;
        while day <= last {
            let target = day_start(tz, day) + offset;
            let now = self.now().await;
            if target > now {
                self.sim.clock.advance((target - now).to_std().unwrap());
            }
            let wall = std::time::Instant::now();
            let settled = self.sync_settled(&[]).await;
            let took = self.now().await - target.max(now);
            let failed: Vec<String> = settled
                .all()
                .filter(|r| r.status == flywheel::store::jobs::RunStatus::Failed)
                .map(|r| format!("{}: {}", r.job, r.message))
                .collect();
            let deferred = settled.all().filter(|r| r.deferred_by_budget()).count();
            let fatal = self.failed_reports();
            eprintln!(
                "{label} day {day}: {} jobs, {} extra round(s), {} sim min, {:.1}s{}{}{}{}",
                settled.results.len(),
                settled.extra.len(),
                took.num_minutes(),
                wall.elapsed().as_secs_f64(),
                if now - target >= chrono::Duration::minutes(1) {
                    format!(" (late by {} sim min)", (now - target).num_minutes())
                } else {
                    String::new()
                },
                if failed.is_empty() {
                    String::new()
                } else {
                    format!("; failed: {failed:?}")
                },
                if deferred == 0 {
                    String::new()
                } else {
                    format!("; {deferred} job(s) deferred by the report budget")
                },
                if fatal.is_empty() {
                    String::new()
                } else {
                    format!("; {} FATAL report(s) awaiting retry", fatal.len())
                },
            );
            if day == last || std::env::var_os("E2E_VERBOSE").is_some() {
                for (round, results) in std::iter::once(&settled.results)
                    .chain(&settled.extra)
                    .enumerate()
                {
                    for r in results {
                        eprintln!(
                            "  [{round}] {} {:?} {} rows: {}",
                            r.job, r.status, r.rows, r.message
                        );
                    }
                }
                for p in &fatal {
                    eprintln!("  FATAL {p}");
                }
            }
            days.push(settled);
            day += chrono::Duration::days(1);
        }
        days
    }
}

/// How many extra rounds [`Harness::sync_settled`] runs for pending reports.
pub const MAX_EXTRA_ROUNDS: usize = 10;

/// A row of `pending_reports`.
#[derive(Debug, Clone)]
pub struct PendingReport {
    pub job: String,
    pub api: String,
    pub report_type: String,
    pub status: String,
    pub report_id: String,
    pub created_at: String,
}

impl std::fmt::Display for PendingReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} report {} {} (created {})",
            self.job, self.api, self.report_type, self.report_id, self.status, self.created_at
        )
    }
}

/// What [`Harness::sync_settled`] ran.
pub struct Settled {
    /// The first round (every selected job).
    pub results: Vec<JobResult>,
    /// The extra rounds for pending reports, in order.
    pub extra: Vec<Vec<JobResult>>,
}

impl Settled {
    pub fn all(&self) -> impl Iterator<Item = &JobResult> {
        self.results.iter().chain(self.extra.iter().flatten())
    }
}

/// The start of `day` in `tz` (as `flywheel kpis` computes it).
/// Config text that lets data age a day before `data_freshness` fires,
/// for tests of the alert emails on a synced world: the sim's clock runs
/// on (200 times wall time) while they work, so on a loaded machine the
/// last sync is hours old by their last round. Staleness is tested on its
/// own elsewhere.
pub const QUIET_STALENESS: &str = "\n[rules.data_freshness]\nmin_staleness = \"1d\"\n";

/// The emails in a mail folder (the `file` transport's), oldest first.
pub fn emails(dir: &Path) -> Vec<PathBuf> {
    let mut emls: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    emls.sort();
    emls
}

pub fn day_start(tz: &chrono_tz::Tz, day: NaiveDate) -> DateTime<Utc> {
    flywheel::kpis::day_start(tz, day)
}

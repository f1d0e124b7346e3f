//! `flywheel demo`: the product end to end before any credentials. Starts
//! the simulated marketplace on loopback with the embedded demo scenario
//! (15 SKUs, 180 days, a planted break for every rule), writes a config
//! wired to it with a demo schedule (every sync job once a simulated day,
//! orders three times), and runs the daemon's own loop over `--days`
//! simulated days up to today's daily round: the sync rounds, the
//! evaluation after each, alert emails with their resolutions threaded
//! under them, and the weekly digest, delivered by the `file` transport
//! into `mail/` (one `.eml` per message, open it in any mail client).
//!
//! The loop does not wait in wall time for simulated time: it runs with
//! [`daemon::Pace::Driven`], and whenever it is idle until its next tick
//! this module (after the outbox has been delivered) moves the simulated
//! marketplace's clock to that tick. So the daemon's scheduling and tick
//! code decides what runs when, and a day takes a few seconds.
//!
//! The world is built as the end-to-end tests build theirs: its day 0 (the
//! date the planted problems are placed around, and the truth is computed
//! for) is today in the seller's zone, and the clock starts `--days` days
//! earlier, so by the last round every planted problem is firing. At the
//! end the config's clock is frozen at the last round (`[daemon] clock =
//! "fixed:…"`), so `alerts`, `check`, `kpis`, `status` and `digest` work on
//! it after the simulated marketplace is gone.

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::Connection;

use crate::config::{Config, Env};
use crate::daemon::{self, Idle, Pace};
use crate::model::time::day_start;
use crate::store;
use crate::sync::JobName;

/// The demo scenario, compiled in so `demo` works from any directory.
pub const DEMO_SCENARIO: &str = include_str!("../../scenarios/demo.toml");

/// The sellers `demo --scenario` can show, each compiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoScenario {
    /// One US marketplace, every rule broken once (scenarios/demo.toml).
    Demo,
    /// A unified EU account: UK, DE, FR, IT and ES, pounds and euros
    /// (scenarios/eu.toml).
    Eu,
    /// A Japanese seller: yen, Asia/Tokyo, cp932 reports (scenarios/jp.toml).
    Jp,
}

impl DemoScenario {
    pub fn name(self) -> &'static str {
        match self {
            DemoScenario::Demo => "demo",
            DemoScenario::Eu => "eu",
            DemoScenario::Jp => "jp",
        }
    }

    /// The scenario's TOML, as compiled in.
    pub fn toml(self) -> &'static str {
        match self {
            DemoScenario::Demo => DEMO_SCENARIO,
            DemoScenario::Eu => include_str!("../../scenarios/eu.toml"),
            DemoScenario::Jp => include_str!("../../scenarios/jp.toml"),
        }
    }
}

/// Options of `flywheel demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where the demo's config, database and mail go.
    #[arg(long, value_name = "DIR", default_value = "demo-out")]
    pub dir: PathBuf,
    /// Simulated days the daemon runs, ending with today's daily round.
    #[arg(long, value_name = "N", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(1..=60))]
    pub days: u32,
    /// Sim seconds per wall second while a round runs (reports take
    /// minutes of sim time); between rounds the clock jumps to the next tick.
    #[arg(long, value_name = "F", default_value_t = 600.0)]
    pub speed: f64,
    /// Seed of the simulated seller's data.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Which simulated seller: the US demo, an EU seller in five
    /// marketplaces, or a seller in Japan.
    #[arg(long, value_enum, default_value_t = DemoScenario::Demo)]
    pub scenario: DemoScenario,
}

/// When the daily round runs (local time in the seller's zone): soon after
/// midnight, so it reads the day before complete.
const DAILY_AT: (u32, u32) = (1, 0);

/// The demo's schedule: every sync job once a day at [`DAILY_AT`], orders
/// every eight hours from then; the digest keeps its weekly default.
fn demo_schedule() -> String {
    let (h, m) = DAILY_AT;
    let mut out = String::from(
        "\n# The demo's schedule: every job once a simulated day, orders three times.\n[schedule]\n",
    );
    for job in JobName::ALL {
        let cron = if *job == JobName::Orders {
            format!("{m} {},{},{} * * *", h, h + 8, h + 16)
        } else {
            format!("{m} {h} * * *")
        };
        out.push_str(&format!("{} = \"{cron}\"\n", job.as_str()));
    }
    out
}

pub async fn run(args: &DemoArgs) -> anyhow::Result<bool> {
    let wall = Instant::now();
    let name = args.scenario.name();
    let scenario = flywheel_sim::scenario::Scenario::from_toml_str(args.scenario.toml())
        .with_context(|| format!("the embedded {name} scenario does not parse"))?;
    // Days, and the daily round, follow the first marketplace's zone (the
    // EU seller lists the UK, the latest of its zones, first).
    let tz: chrono_tz::Tz = scenario.markets()[0]
        .seller
        .timezone
        .parse()
        .map_err(|_| anyhow::anyhow!("the {name} scenario's time zone is not an IANA zone"))?;
    let day0 = Utc::now().with_timezone(&tz).date_naive();
    let first = day0 - Duration::days(i64::from(args.days));
    let daily = |d: NaiveDate| {
        day_start(&tz, d)
            + Duration::hours(i64::from(DAILY_AT.0))
            + Duration::minutes(i64::from(DAILY_AT.1))
    };
    let seed = args.seed;
    let worlds = tokio::task::spawn_blocking(move || {
        flywheel_sim::world::Worlds::new(&scenario, seed, day0)
    })
    .await
    .context("generating the demo world")?;
    let sim = SimThread::serve(worlds, daily(first), args.speed, seed)?;
    let markets: Vec<String> = sim
        .worlds
        .iter()
        .map(|w| w.scenario().seller.country.clone())
        .collect();
    println!(
        "simulated marketplace on {} ({name} scenario, {}, seed {}): {} days from {first} to today's round on {day0}",
        sim.base_url,
        markets.join(", "),
        args.seed,
        args.days
    );

    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    forget_previous_demo(&args.dir);
    let config_path = args.dir.join("flywheel.toml");
    flywheel_sim::write_config::write_config(&config_path, &sim.worlds, &sim.base_url)?;
    // Ticks on whole seconds (no per-account jitter): the sim's clock
    // reads in whole seconds, and each jump lands on the tick.
    let text = std::fs::read_to_string(&config_path)?.replacen(
        "[daemon]\n",
        "[daemon]\nschedule_jitter = \"0s\"\n",
        1,
    );
    std::fs::write(&config_path, text + &demo_schedule())
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let cfg = Config::load(&config_path, &Env::default())?;
    println!("config written to {}\n", config_path.display());

    let (driver, mut idles) = tokio::sync::mpsc::unbounded_channel::<Idle>();
    let handle = daemon::start_paced(config_path.clone(), Env::default(), Pace::Driven(driver));
    let end = daily(day0);
    let mut day = first;
    let mut conn: Option<Connection> = None;
    let mut last: Option<Idle> = None;
    println!("{}", DayLine::HEADER);
    while let Some(idle) = idles.recv().await {
        let db = match &conn {
            Some(c) => c,
            None => conn.insert(store::open(&cfg.daemon.database)?),
        };
        // What the round queued goes out before the clock moves on.
        settle_outbox(db).await?;
        // Done once today's daily round has run (its runs are recorded).
        let finished = idle.now >= end
            && db.query_row(
                "SELECT COUNT(*) > 0 FROM job_runs WHERE started_at >= ?1",
                [store::ops::ts(end)],
                |r| r.get::<_, bool>(0),
            )?;
        let upto = match idle.next {
            Some(next) if !finished => next.with_timezone(&tz).date_naive(),
            _ => day0 + Duration::days(1),
        };
        while day < upto {
            println!("{}", DayLine::of(db, &tz, day)?);
            day += Duration::days(1);
        }
        if finished {
            // Keep the loop parked (its go-ahead unanswered) until it stops.
            last = Some(idle);
            break;
        }
        if let Some(next) = idle.next {
            // To the tick, or just past it: the daemon reads the sim's
            // clock in whole seconds.
            let now = sim.clock.now();
            if next > now {
                let by = (next - now).to_std().unwrap_or_default();
                sim.clock.advance(by + StdDuration::from_millis(999));
            }
        }
        let _ = idle.resume.send(());
    }
    handle.shutdown().await?;
    drop(last);
    drop(conn);
    let frozen = sim.clock.now();
    let worlds = sim.worlds.clone();
    sim.stop();

    // The sim is gone: the config keeps the instant of the last round.
    freeze_clock(&config_path, frozen)?;
    let cfg = Config::load(&config_path, &Env::default())?;
    let conn = store::open(&cfg.daemon.database)?;
    let truth = flywheel_sim::truth::truth_of(&worlds, day0);
    let summary = Summary::of(&conn, &truth)?;
    drop(conn);
    let digest_path = args.dir.join("digest.html");
    super::digest::run(
        &cfg,
        &super::digest::DigestArgs {
            out: Some(digest_path.clone()),
            send: false,
            accounts: Vec::new(),
        },
    )
    .await?;
    print!("{summary}");
    println!(
        "{} email(s) in {}; this week's digest also in {}; done in {:.0} s",
        summary.emails,
        cfg.email.dir.display(),
        digest_path.display(),
        wall.elapsed().as_secs_f64()
    );
    let c = config_path.display();
    println!(
        "\nthe config's clock is frozen at the last round ({}), so these work on it now:\n  flywheel alerts --config {c}\n  flywheel check --config {c}\n  flywheel kpis --config {c}",
        frozen.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
    );
    Ok(summary.failing_jobs.is_empty())
}

/// A previous demo's database and mail belong to another sim's world.
fn forget_previous_demo(dir: &Path) {
    for f in [
        "flywheel.db",
        "flywheel.db-wal",
        "flywheel.db-shm",
        "flywheel.db.lock",
        "digest.html",
    ] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("mail")) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "eml") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Points the config's `[daemon] clock` at a fixed instant instead of the
/// simulated marketplace that is gone.
fn freeze_clock(path: &Path, at: DateTime<Utc>) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = String::with_capacity(text.len());
    let mut replaced = false;
    for line in text.lines() {
        if line.starts_with("# Follow the sim's clock") {
            out.push_str(
                "# The demo's simulated marketplace is gone: time stands still at its last round.\n",
            );
        } else if !replaced && line.starts_with("clock = ") {
            out.push_str(&format!(
                "clock = \"fixed:{}\"\n",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
            replaced = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    anyhow::ensure!(replaced, "no `clock` line in {}", path.display());
    std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))
}

/// Waits (a bounded while) until the daemon's sender has delivered every
/// email that is due.
async fn settle_outbox(conn: &Connection) -> anyhow::Result<()> {
    let deadline = Instant::now() + StdDuration::from_secs(30);
    while store::outbox::backlog(conn)?.pending > 0 && Instant::now() < deadline {
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    Ok(())
}

/// What happened on one simulated day (the seller's local day).
struct DayLine {
    day: NaiveDate,
    runs: i64,
    failed: i64,
    fired: i64,
    resolved: i64,
    emails: i64,
    digests: i64,
    firing: i64,
}

impl DayLine {
    const HEADER: &'static str =
        "day              sync runs  new alerts  resolved  emails sent  firing";

    fn of(conn: &Connection, tz: &chrono_tz::Tz, day: NaiveDate) -> anyhow::Result<DayLine> {
        let from = store::ops::ts(day_start(tz, day));
        let to = store::ops::ts(day_start(tz, day + Duration::days(1)));
        let count = |sql: &str| -> rusqlite::Result<i64> {
            conn.query_row(sql, [&from, &to], |r| r.get(0))
        };
        Ok(DayLine {
            day,
            runs: count("SELECT COUNT(*) FROM job_runs WHERE started_at >= ?1 AND started_at < ?2")?,
            failed: count(
                "SELECT COUNT(*) FROM job_runs WHERE started_at >= ?1 AND started_at < ?2 AND status = 'failed'",
            )?,
            fired: count("SELECT COUNT(*) FROM alerts WHERE firing_since >= ?1 AND firing_since < ?2")?,
            resolved: count("SELECT COUNT(*) FROM alerts WHERE resolved_at >= ?1 AND resolved_at < ?2")?,
            emails: count("SELECT COUNT(*) FROM outbox WHERE sent_at >= ?1 AND sent_at < ?2")?,
            digests: count(
                "SELECT COUNT(*) FROM outbox WHERE sent_at >= ?1 AND sent_at < ?2 AND kind = 'digest'",
            )?,
            firing: conn.query_row("SELECT COUNT(*) FROM alerts WHERE state = 'firing'", [], |r| {
                r.get(0)
            })?,
        })
    }
}

impl std::fmt::Display for DayLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = if self.failed > 0 {
            format!("{} ({} failed)", self.runs, self.failed)
        } else {
            self.runs.to_string()
        };
        let emails = if self.digests > 0 {
            format!("{} (digest)", self.emails)
        } else {
            self.emails.to_string()
        };
        write!(
            f,
            "{}   {runs:<9}  {:<10}  {:<8}  {emails:<11}  {}",
            self.day.format("%a %Y-%m-%d"),
            self.fired,
            self.resolved,
            self.firing
        )
    }
}

/// The demo's outcome beside what the simulator planted.
struct Summary {
    planted: usize,
    /// Planted problems with no firing alert ("rule subject").
    missing: Vec<String>,
    /// Firing alerts that are none of the planted problems ("rule subject").
    also_firing: Vec<String>,
    /// Alerts that fired and resolved during the demo ("rule subject").
    came_and_went: Vec<String>,
    emails: i64,
    digests: i64,
    /// Jobs whose newest run failed.
    failing_jobs: Vec<String>,
}

impl Summary {
    fn of(conn: &Connection, truth: &flywheel_sim::truth::TruthReport) -> anyhow::Result<Summary> {
        let alerts = store::alerts::list(conn, true)?;
        let label =
            |l: &serde_json::Value, k: &str| l.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let is_planted = |a: &crate::model::alert::Alert,
                          f: &flywheel_sim::truth::ExpectedFinding| {
            a.rule.as_str() == f.rule
                && label(&a.labels, "marketplace").as_deref() == Some(f.marketplace.as_str())
                && label(&a.labels, "asin") == f.asin
                && label(&a.labels, "sku") == f.sku
                && label(&a.labels, "campaign_id") == f.campaign_id
                && label(&a.labels, "search_term") == f.search_term
        };
        let firing: Vec<&crate::model::alert::Alert> = alerts
            .iter()
            .filter(|a| a.state == crate::alert::state::State::Firing)
            .collect();
        let missing = truth
            .findings
            .iter()
            .filter(|f| !firing.iter().any(|a| is_planted(a, f)))
            .map(|f| format!("{} {}", f.rule, subject_of(f)))
            .collect();
        // A seller in several marketplaces: each subject names its country.
        let several = truth
            .findings
            .iter()
            .map(|f| f.marketplace.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len()
            > 1;
        let subject = |a: &crate::model::alert::Alert| {
            let mut words: Vec<String> = ["asin", "sku", "campaign_id", "search_term"]
                .into_iter()
                .filter_map(|k| label(&a.labels, k))
                .collect();
            if several {
                let m = label(&a.labels, "marketplace").unwrap_or_default();
                let country = crate::model::marketplace::lookup(&m)
                    .map_or(m.clone(), |x| x.country.to_string());
                words.insert(0, format!("({country})"));
            }
            format!("{} {}", a.rule.as_str(), words.join(" "))
        };
        // An alert muted by inhibition (the conversion of an ASIN that is
        // out of stock) fires but was never emailed: say so, so it does
        // not read as a false alarm.
        let also_firing = firing
            .iter()
            .filter(|a| !truth.findings.iter().any(|f| is_planted(a, f)))
            .map(|a| match a.notify_count {
                0 => format!("{} (muted by another alert, never emailed)", subject(a)),
                _ => subject(a),
            })
            .collect();
        let came_and_went = alerts
            .iter()
            .filter(|a| a.state == crate::alert::state::State::Resolved)
            .map(subject)
            .collect();
        let count = |sql: &str| -> rusqlite::Result<i64> { conn.query_row(sql, [], |r| r.get(0)) };
        let failing_jobs = conn
            .prepare(
                "SELECT job FROM job_runs r WHERE id = (SELECT MAX(id) FROM job_runs
                   WHERE account IS r.account AND job = r.job) AND status = 'failed' ORDER BY job",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(Summary {
            planted: truth.findings.len(),
            missing,
            also_firing,
            came_and_went,
            emails: count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL")?,
            digests: count(
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL AND kind = 'digest'",
            )?,
            failing_jobs,
        })
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "\n{} of the {} planted problems are firing alerts after the last round",
            self.planted - self.missing.len(),
            self.planted
        )?;
        if !self.missing.is_empty() {
            writeln!(f, "  not firing: {}", self.missing.join(", "))?;
        }
        if !self.also_firing.is_empty() {
            writeln!(
                f,
                "also firing, not among the planted problems: {}",
                self.also_firing.join(", ")
            )?;
        }
        if !self.came_and_went.is_empty() {
            writeln!(
                f,
                "fired and resolved during the demo (its resolution email threads under the alert): {}",
                self.came_and_went.join(", ")
            )?;
        }
        writeln!(f, "weekly digests sent: {}", self.digests)?;
        if !self.failing_jobs.is_empty() {
            writeln!(
                f,
                "jobs whose last run failed: {}",
                self.failing_jobs.join(", ")
            )?;
        }
        Ok(())
    }
}

/// "asin sku campaign search term" of a planted finding, as far as it has them.
fn subject_of(f: &flywheel_sim::truth::ExpectedFinding) -> String {
    [&f.asin, &f.sku, &f.campaign_id, &f.search_term]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The simulated marketplace on its own thread and runtime, so flywheel's
/// work (parsing and storing large reports) never starves the server that
/// answers it: sim time runs on wall time whether or not it is served.
/// The benchmarks run it the same way (`examples/bench/`).
pub struct SimThread {
    pub base_url: String,
    /// Every marketplace's world (the first is the seller's first).
    pub worlds: flywheel_sim::world::Worlds,
    /// The sim's clock (the demo moves it between rounds).
    pub clock: std::sync::Arc<flywheel_sim::clock::Clock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type Ready = anyhow::Result<(
    String,
    flywheel_sim::world::Worlds,
    std::sync::Arc<flywheel_sim::clock::Clock>,
)>;

impl SimThread {
    /// Generates the scenario's world and serves it.
    pub fn start(opts: flywheel_sim::SimOptions) -> anyhow::Result<SimThread> {
        Self::on_thread(move |ready, stop| async move {
            match flywheel_sim::spawn(opts).await {
                Ok(sim) => {
                    let _ = ready.send(Ok((sim.base_url(), sim.worlds.clone(), sim.clock.clone())));
                    let _ = stop.await;
                    let _ = sim.shutdown().await;
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            }
        })
    }

    /// Serves an existing world on a clock starting at `now` and running
    /// `speed` times faster than wall time, without faults (the same world
    /// again at another time or speed), assembled as `flywheel_sim::spawn`
    /// does.
    pub fn serve(
        worlds: impl Into<flywheel_sim::world::Worlds>,
        now: chrono::DateTime<Utc>,
        speed: f64,
        seed: u64,
    ) -> anyhow::Result<SimThread> {
        use flywheel_sim::{clock, faults, server};
        let worlds: flywheel_sim::world::Worlds = worlds.into();
        Self::on_thread(move |ready, stop| async move {
            let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                Ok(l) => l,
                Err(e) => {
                    let _ = ready.send(Err(e.into()));
                    return;
                }
            };
            let base_url = match listener.local_addr() {
                Ok(a) => format!("http://{a}"),
                Err(e) => {
                    let _ = ready.send(Err(e.into()));
                    return;
                }
            };
            let clock = std::sync::Arc::new(clock::Clock::new(now, speed));
            let state = server::AppState::new(
                worlds.clone(),
                clock.clone(),
                faults::Faults::new(faults::FaultSet::none(), seed),
                &base_url,
            );
            let _ = ready.send(Ok((base_url, worlds, clock)));
            let _ = server::serve(listener, state, async move {
                let _ = stop.await;
            })
            .await;
        })
    }

    /// Runs `serve` on a thread of its own with a two-worker runtime; it
    /// says where it listens (or why it cannot) on its first argument and
    /// stops when the second resolves.
    fn on_thread<F, Fut>(serve: F) -> anyhow::Result<SimThread>
    where
        F: FnOnce(std::sync::mpsc::Sender<Ready>, tokio::sync::oneshot::Receiver<()>) -> Fut
            + Send
            + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Ready>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("flywheel-sim".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(serve(ready_tx, stop_rx)),
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::Error::from(e)));
                    }
                }
            })?;
        let (base_url, worlds, clock) = ready_rx
            .recv()
            .context("the simulated marketplace thread stopped")??;
        Ok(SimThread {
            base_url,
            worlds,
            clock,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

//! `flywheel sim ...`: the command line of the simulated marketplace and the
//! embedding API the tests, the demo and the benchmarks use.
//!
//! The `flywheel` binary flattens [`SimCommand`] into its `sim` subcommand and
//! calls [`run`]. In-process users call [`spawn`] with [`SimOptions`] and get a
//! [`RunningSim`] bound to a real loopback port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{rfc3339, Clock};
use crate::faults::{FaultSet, Faults};
use crate::scenario::Scenario;
use crate::server::{self, AppState};
use crate::world::{World, Worlds};

/// `flywheel sim`: serve a simulated marketplace, or print its truth.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SimCommand {
    #[command(subcommand)]
    pub command: Option<SimSubcommand>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands of `flywheel sim`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SimSubcommand {
    /// Print every KPI and the expected findings as of a date, as JSON (every
    /// market's, each record naming its marketplace).
    Truth(TruthArgs),
}

/// Options of `flywheel sim` (serving).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Scenario file (TOML); see docs/scenario.md.
    #[arg(long, value_name = "FILE", required = true)]
    pub scenario: Option<PathBuf>,
    /// Address to serve on, e.g. 127.0.0.1:8700 (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", required = true)]
    pub listen: Option<SocketAddr>,
    /// Seed of the synthetic data and of fault decisions.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Sim seconds per wall second (0 freezes time except POST /_sim/advance).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub speed: f64,
    /// Sim time at start (RFC 3339); default: the wall clock at start.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub now: Option<DateTime<Utc>>,
    /// The world's day 0 (YYYY-MM-DD): the date the scenario's days and
    /// breaks count from and its expected findings hold on. Default: the
    /// date of `--now` in the seller's time zone (the first market's zone
    /// for a seller in several marketplaces). Set it after `--now` to
    /// start the clock days before day 0 and sync up to it.
    #[arg(long, value_name = "DATE")]
    pub day0: Option<NaiveDate>,
    /// Faults to inject: comma list of name[=rate] (throttle, 5xx, slow,
    /// truncate, fatal, empty, revoke, bad_client, ads_401, ads_425,
    /// ads_pending, realworld).
    #[arg(long, value_name = "LIST")]
    pub faults: Option<FaultSet>,
    /// Write a flywheel config wired to this sim to PATH (plus costs.csv,
    /// ratings.csv and a mail/ folder beside it).
    #[arg(long, value_name = "PATH")]
    pub write_config: Option<PathBuf>,
}

/// Options of `flywheel sim truth`.
#[derive(Debug, Clone, clap::Args)]
pub struct TruthArgs {
    /// Scenario file (TOML).
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// Seed of the synthetic data.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// The date the truth is as of (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub at: NaiveDate,
    /// The world's day 0 (as `flywheel sim --day0`); default: DATE.
    #[arg(long, value_name = "DATE", conflicts_with = "now")]
    pub day0: Option<NaiveDate>,
    /// The sim's start time the world is generated for, when `flywheel sim`
    /// ran without `--day0`: day 0 is then the date of this time in the
    /// seller's zone.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub now: Option<DateTime<Utc>>,
}

fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-03-01T08:00:00Z: {e}"))
}

/// How to start a sim in-process.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub scenario: Scenario,
    /// Default `127.0.0.1:0` (a free loopback port).
    pub listen: SocketAddr,
    pub seed: u64,
    pub speed: f64,
    /// Sim time at start; `None` = the wall clock.
    pub now: Option<DateTime<Utc>>,
    /// The world's day 0; `None` = the date of the start in the seller's zone.
    pub day0: Option<NaiveDate>,
    pub faults: FaultSet,
}

impl SimOptions {
    /// Defaults: loopback port 0, seed 1, speed 1, now = wall clock, day 0
    /// = today by that clock, no faults.
    pub fn new(scenario: Scenario) -> SimOptions {
        SimOptions {
            scenario,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            speed: 1.0,
            now: None,
            day0: None,
            faults: FaultSet::none(),
        }
    }
}

/// A sim serving in this process. Dropping it also stops the server.
pub struct RunningSim {
    /// The bound address (the real port when asked for port 0).
    pub addr: SocketAddr,
    /// The first market's world (the only one of a single-marketplace scenario).
    pub world: Arc<World>,
    /// Every market's world, in scenario order.
    pub worlds: Worlds,
    pub clock: Arc<Clock>,
    /// The server's state, for tests that inspect or steer it.
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSim {
    /// `http://ADDR`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, let in-flight requests finish, and wait for the server.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("sim server task panicked")??;
        }
        Ok(())
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The seller's current day: the date of `now` in the seller's time zone. A seller in
/// several marketplaces counts days in its first market's zone (pass the first world).
pub fn seller_today(world: &World, now: DateTime<Utc>) -> anyhow::Result<NaiveDate> {
    day_in_zone(&world.scenario().seller.timezone, now)
}

/// The time zone "today" is read in: the seller's, or its first market's.
fn seller_zone(scenario: &Scenario) -> String {
    match scenario.markets().first() {
        Some(first) => first.seller.timezone.clone(),
        None => scenario.seller.timezone.clone(),
    }
}

fn day_in_zone(timezone: &str, now: DateTime<Utc>) -> anyhow::Result<NaiveDate> {
    let tz: chrono_tz::Tz = timezone.parse().map_err(|_| {
        anyhow::anyhow!("scenario seller timezone `{timezone}` is not an IANA zone")
    })?;
    Ok(now.with_timezone(&tz).date_naive())
}

/// Generate the world, bind `opts.listen` and serve in a background task.
pub async fn spawn(opts: SimOptions) -> anyhow::Result<RunningSim> {
    let start = opts.now.unwrap_or_else(Utc::now);
    let day0 = match opts.day0 {
        Some(day0) => day0,
        None => day_in_zone(&seller_zone(&opts.scenario), start)?,
    };
    let (scenario, seed) = (opts.scenario, opts.seed);
    let worlds = tokio::task::spawn_blocking(move || Worlds::new(&scenario, seed, day0))
        .await
        .context("generating the world panicked")?;
    let world = worlds.first().clone();
    let clock = Arc::new(Clock::new(start, opts.speed));
    let listener = TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let state = AppState::new(
        worlds.clone(),
        clock.clone(),
        Faults::new(opts.faults, opts.seed),
        &format!("http://{addr}"),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(RunningSim {
        addr,
        world,
        worlds,
        clock,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Run `flywheel sim ...` to completion (serving: until Ctrl-C or SIGTERM).
pub async fn run(cmd: SimCommand) -> anyhow::Result<()> {
    match cmd.command {
        Some(SimSubcommand::Truth(args)) => print_truth(args).await,
        None => serve(cmd.serve).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let path = args.scenario.context("--scenario is required")?;
    let listen = args.listen.context("--listen is required")?;
    let scenario = Scenario::from_path(&path)?;
    let mut opts = SimOptions::new(scenario);
    opts.listen = listen;
    opts.seed = args.seed;
    opts.speed = args.speed;
    opts.now = args.now;
    opts.day0 = args.day0;
    opts.faults = args.faults.unwrap_or_default();
    let faults = opts.faults.to_string();
    let sim = spawn(opts).await?;
    if let Some(config) = &args.write_config {
        crate::write_config::write_config(config, &sim.worlds, &sim.base_url())
            .with_context(|| format!("cannot write the config {}", config.display()))?;
        tracing::info!(path = %config.display(), "wrote a flywheel config for this sim");
    }
    tracing::info!(
        addr = %sim.addr,
        scenario = %sim.world.scenario().name,
        seed = args.seed,
        speed = sim.clock.speed(),
        now = %rfc3339(sim.clock.now()),
        day0 = %sim.world.day0(),
        faults = %faults,
        "flywheel sim listening on {}",
        sim.base_url()
    );
    shutdown_signal().await;
    tracing::info!("shutting down the sim");
    sim.shutdown().await
}

async fn print_truth(args: TruthArgs) -> anyhow::Result<()> {
    let scenario = Scenario::from_path(&args.scenario)?;
    let day0 = match (args.day0, args.now) {
        (Some(day0), _) => day0,
        (None, Some(now)) => day_in_zone(&seller_zone(&scenario), now)?,
        (None, None) => args.at,
    };
    let (seed, at) = (args.seed, args.at);
    let json = tokio::task::spawn_blocking(move || {
        let worlds = Worlds::new(&scenario, seed, day0);
        serde_json::to_string_pretty(&crate::truth::truth_of(&worlds, at))
    })
    .await
    .context("computing the truth panicked")??;
    println!("{json}");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Top {
        #[command(subcommand)]
        cmd: Cmd,
    }
    #[derive(clap::Subcommand)]
    enum Cmd {
        Sim(SimCommand),
    }

    fn parse(args: &[&str]) -> Result<SimCommand, clap::Error> {
        let mut full = vec!["flywheel", "sim"];
        full.extend_from_slice(args);
        Top::try_parse_from(full).map(|t| match t.cmd {
            Cmd::Sim(s) => s,
        })
    }

    #[test]
    fn serve_args() {
        let c = parse(&[
            "--scenario",
            "s.toml",
            "--listen",
            "127.0.0.1:8700",
            "--speed",
            "0",
            "--now",
            "2026-03-01T08:00:00Z",
            "--faults",
            "throttle=0.5,revoke",
        ])
        .unwrap();
        assert!(c.command.is_none());
        assert_eq!(c.serve.seed, 1);
        assert_eq!(c.serve.speed, 0.0);
        assert_eq!(c.serve.listen.unwrap().port(), 8700);
        assert_eq!(rfc3339(c.serve.now.unwrap()), "2026-03-01T08:00:00Z");
        assert_eq!(
            c.serve.faults.unwrap().rate(crate::faults::Fault::Throttle),
            Some(0.5)
        );
    }

    #[test]
    fn serve_requires_scenario_and_listen() {
        assert!(parse(&["--scenario", "s.toml"]).is_err());
        assert!(parse(&["--listen", "127.0.0.1:1"]).is_err());
    }

    #[test]
    fn bad_faults_are_usage_errors() {
        let e = parse(&[
            "--scenario",
            "s",
            "--listen",
            "127.0.0.1:1",
            "--faults",
            "nope",
        ])
        .err()
        .unwrap();
        assert!(e.to_string().contains("unknown fault `nope`"), "{e}");
    }

    #[test]
    fn truth_subcommand() {
        let c = parse(&[
            "truth",
            "--scenario",
            "s.toml",
            "--at",
            "2026-03-01",
            "--seed",
            "3",
        ])
        .unwrap();
        match c.command {
            Some(SimSubcommand::Truth(t)) => {
                assert_eq!(t.seed, 3);
                assert_eq!(t.at, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
            }
            None => panic!("expected truth"),
        }
        assert!(
            parse(&["truth", "--scenario", "s.toml"]).is_err(),
            "--at is required"
        );
    }

    #[test]
    fn day0_apart_from_now() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let c = parse(&[
            "--scenario",
            "s.toml",
            "--listen",
            "127.0.0.1:0",
            "--now",
            "2026-02-16T08:05:00Z",
            "--day0",
            "2026-03-02",
        ])
        .unwrap();
        assert_eq!(c.serve.day0, Some(d));
        let c = parse(&[
            "truth",
            "--scenario",
            "s.toml",
            "--at",
            "2026-02-20",
            "--day0",
            "2026-03-02",
        ])
        .unwrap();
        match c.command {
            Some(SimSubcommand::Truth(t)) => assert_eq!(t.day0, Some(d)),
            None => panic!("expected truth"),
        }
        let e = parse(&[
            "truth",
            "--scenario",
            "s.toml",
            "--at",
            "2026-03-02",
            "--day0",
            "2026-03-02",
            "--now",
            "2026-03-02T08:00:00Z",
        ])
        .expect_err("--day0 and --now both name the world");
        assert!(e.to_string().contains("cannot be used with"), "{e}");
        assert!(parse(&[
            "--scenario",
            "s",
            "--listen",
            "127.0.0.1:0",
            "--day0",
            "soon"
        ])
        .is_err());
    }

    #[test]
    fn day0_is_the_date_in_the_sellers_zone() {
        let t = parse_rfc3339("2026-03-01T05:00:00Z").unwrap();
        assert_eq!(
            day_in_zone("America/Los_Angeles", t).unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert!(day_in_zone("Mars/Base", t).is_err());
    }
}

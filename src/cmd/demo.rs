//! `flywheel demo`: the product end to end before any credentials. Starts
//! the simulated marketplace on loopback with the embedded demo scenario
//! (15 SKUs, 180 days, a planted break for every rule), writes a config
//! wired to it, creates the database, runs one full sync round as the
//! daemon would, and shows what was stored beside what the simulator knows
//! to be true (its KPIs and the findings the rules must produce).
//!
//! Then it runs an evaluation round as the daemon does after each sync:
//! the rules' findings become alerts, grouped into one email per account
//! with trend charts, delivered by the `file` transport into `mail/` (one
//! `.eml` per message, open it in any mail client), and writes the weekly
//! digest as `digest.html` and into `mail/` too.

use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;

use crate::config::{Config, Env};
use crate::store;
use crate::sync::{self, Selection};

/// The demo scenario, compiled in so `demo` works from any directory.
pub const DEMO_SCENARIO: &str = include_str!("../../scenarios/demo.toml");

/// Options of `flywheel demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where the demo's config, database and mail go.
    #[arg(long, value_name = "DIR", default_value = "demo-out")]
    pub dir: PathBuf,
    /// Sim seconds per wall second (reports take minutes of sim time).
    #[arg(long, value_name = "F", default_value_t = 600.0)]
    pub speed: f64,
    /// Seed of the simulated seller's data.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

/// Tables shown after the sync, with what they hold.
const TABLES: &[(&str, &str)] = &[
    ("orders", "orders"),
    ("order_items", "order items"),
    ("inventory_snapshots", "inventory snapshots"),
    ("inventory_planning", "planning rows"),
    ("sales_traffic_asin", "sales & traffic per-ASIN window rows"),
    ("sales_traffic_daily", "sales & traffic days"),
    ("returns", "returns"),
    ("seller_feedback", "seller feedback"),
    ("account_health_snapshots", "account health snapshots"),
    ("catalog_ranks", "rank snapshots"),
    ("pricing_snapshots", "pricing snapshots"),
    ("listings", "listings"),
    ("listing_issues", "listing issues"),
    ("review_topics", "review topics"),
    ("fee_estimates", "fee estimates"),
    ("search_query_performance", "search query rows"),
    ("ads_campaigns", "ad campaigns"),
    ("ads_campaign_daily", "campaign days"),
    ("ads_search_term_daily", "search term days"),
];

pub async fn run(args: &DemoArgs) -> anyhow::Result<bool> {
    let scenario = flywheel_sim::scenario::Scenario::from_toml_str(DEMO_SCENARIO)
        .context("the embedded demo scenario does not parse")?;
    let mut opts = flywheel_sim::SimOptions::new(scenario);
    opts.speed = args.speed;
    opts.seed = args.seed;
    opts.now = Some(Utc::now());
    let sim = SimThread::start(opts)?;
    println!(
        "simulated marketplace on {} (demo scenario, seed {}, {}x time)",
        sim.base_url, args.seed, args.speed
    );
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let config_path = args.dir.join("flywheel.toml");
    // A previous demo's database holds another sim's data: start afresh.
    for f in ["flywheel.db", "flywheel.db-wal", "flywheel.db-shm"] {
        let _ = std::fs::remove_file(args.dir.join(f));
    }
    flywheel_sim::write_config::write_config(&config_path, &sim.world, &sim.base_url)?;
    let cfg = Config::load(&config_path, &Env::default())?;
    println!("config written to {}", config_path.display());

    let super::Opened {
        conn,
        clock,
        now,
        speed,
    } = super::open(&cfg).await?;
    let client = super::sync::client(&cfg, &conn, speed)?;
    let db = std::sync::Mutex::new(conn);
    println!("syncing every job once ...");
    let progress = sync::Progress::for_terminal();
    let results = sync::run_round(
        &cfg,
        &client,
        &db,
        &clock,
        now,
        &Selection::default(),
        &progress,
        &|| false,
    )
    .await;
    sync::flush_counters(&client, &db)?;
    print!("\n{}", sync::summary_table(&results));
    let failed = results
        .iter()
        .filter(|r| r.status == store::jobs::RunStatus::Failed)
        .count();

    println!("\nstored in {}:", cfg.daemon.database.display());
    {
        let conn = db.lock().expect("database lock");
        for (table, what) in TABLES {
            let n: i64 = conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap_or(0);
            println!("  {n:>8}  {what}");
        }
    }

    let today = flywheel_sim::cli::seller_today(&sim.world, now)?;
    let truth = flywheel_sim::truth::truth(&sim.world, today);
    println!("\nwhat the simulator knows as of {today} (the rules must find these):");
    for f in &truth.findings {
        let subject = subject_of(f);
        println!(
            "  {:<24} {}",
            f.rule,
            if subject.is_empty() {
                f.marketplace.clone()
            } else {
                subject
            }
        );
    }
    let mut conn = db.into_inner().expect("database lock");
    println!("\nevaluation round (what the daemon runs after every sync round):");
    let round =
        tokio::task::block_in_place(|| crate::alert::evaluate::round(&mut conn, &cfg, now))?;
    print!("{round}");
    // How the alerts compare with what the simulator planted.
    let firing: Vec<(String, serde_json::Value)> = store::alerts::list(&conn, false)?
        .into_iter()
        .filter(|a| a.state == crate::alert::state::State::Firing)
        .map(|a| (a.rule.as_str().to_string(), a.labels))
        .collect();
    let missing: Vec<String> = truth
        .findings
        .iter()
        .filter(|f| {
            !firing.iter().any(|(rule, l)| {
                let key = |k: &str| l.get(k).and_then(|v| v.as_str()).map(str::to_string);
                *rule == f.rule
                    && key("marketplace").as_deref() == Some(f.marketplace.as_str())
                    && key("asin") == f.asin
                    && key("sku") == f.sku
                    && key("campaign_id") == f.campaign_id
                    && key("search_term") == f.search_term
            })
        })
        .map(|f| format!("{} {}", f.rule, subject_of(f)))
        .collect();
    println!(
        "{} of the {} planted problems are firing alerts after one sync round",
        truth.findings.len() - missing.len(),
        truth.findings.len()
    );
    if !missing.is_empty() {
        println!(
            "  not yet: {} (trend rules compare against history a daemon collects over the following days)",
            missing.join(", ")
        );
    }
    let delivery = crate::alert::sender::send_now(&cfg, &mut conn, now).await?;
    println!("{delivery}");
    drop(conn);
    let digest_path = args.dir.join("digest.html");
    let digest = super::digest::run(
        &cfg,
        &super::digest::DigestArgs {
            out: Some(digest_path),
            send: true,
            accounts: Vec::new(),
        },
    )
    .await?;
    print!("\nweekly digest:\n{digest}");
    let mut mails: Vec<_> = std::fs::read_dir(&cfg.email.dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    mails.sort();
    println!(
        "\n{} email(s) in {} (open the .eml files in a mail client):",
        mails.len(),
        cfg.email.dir.display()
    );
    for m in &mails {
        println!("  {}", m.display());
    }
    println!(
        "\nnext: `flywheel sim --scenario scenarios/demo.toml --listen 127.0.0.1:8700 --write-config fw.toml` keeps a marketplace running; `flywheel doctor --config fw.toml` and `flywheel sync --config fw.toml` work against it."
    );
    sim.stop();
    Ok(failed == 0)
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
    pub world: std::sync::Arc<flywheel_sim::world::World>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type Ready = anyhow::Result<(String, std::sync::Arc<flywheel_sim::world::World>)>;

impl SimThread {
    /// Generates the scenario's world and serves it.
    pub fn start(opts: flywheel_sim::SimOptions) -> anyhow::Result<SimThread> {
        Self::on_thread(move |ready, stop| async move {
            match flywheel_sim::spawn(opts).await {
                Ok(sim) => {
                    let _ = ready.send(Ok((sim.base_url(), sim.world.clone())));
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
        world: std::sync::Arc<flywheel_sim::world::World>,
        now: chrono::DateTime<Utc>,
        speed: f64,
        seed: u64,
    ) -> anyhow::Result<SimThread> {
        use flywheel_sim::{clock, faults, server};
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
            let state = server::AppState::new(
                world.clone(),
                std::sync::Arc::new(clock::Clock::new(now, speed)),
                faults::Faults::new(faults::FaultSet::none(), seed),
                &base_url,
            );
            let _ = ready.send(Ok((base_url, world)));
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
        let (base_url, world) = ready_rx
            .recv()
            .context("the simulated marketplace thread stopped")??;
        Ok(SimThread {
            base_url,
            world,
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

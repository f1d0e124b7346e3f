//! Benchmarks: `cargo run --release --example bench -- NAME [--size N] [OPTIONS]`,
//! each printing its figures as one JSON object per line (keys `seconds`,
//! `rows_per_sec`, `peak_rss_mib`, `ratio`, `calls`, `throttled` where they
//! apply). Speed and memory are measured here, never by timed tests
//! (CONTRIBUTING.md). README.md's "Performance" section holds the figures.
//!
//! | name | what |
//! |---|---|
//! | `backfill` | first sync of `scenarios/large.toml` from the sim, against the rate-limit minimum |
//! | `ingest` | parse and store 1,000,000-row report files, against decompression alone |
//! | `evaluate` (alias `rules`) | every rule over large-scenario data |
//! | `idle` | the daemon between ticks: RSS and CPU over a minute |
//! | `capacity` | CPU, API calls and database growth per account-day |
//! | `import` | `flywheel import` of a gzip bomb: peak memory of the child (bounded streaming) |

mod backfill;
mod capacity;
mod idle;
mod import;
mod ingest;
mod rules;

use std::collections::BTreeMap;

/// The command line after NAME: `--size N` and any other `--key value` or
/// bare `--flag` (value `"true"`).
#[derive(Debug, Default)]
pub struct Args {
    pub name: String,
    pub opts: BTreeMap<String, String>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut it = std::env::args().skip(1).peekable();
        let name = it.next().unwrap_or_default();
        let mut opts = BTreeMap::new();
        while let Some(a) = it.next() {
            let key = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument \"{a}\" (options are --key value)"))?;
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().unwrap_or_default(),
                _ => "true".to_string(),
            };
            opts.insert(key.to_string(), value);
        }
        Ok(Args { name, opts })
    }

    /// A string option.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.opts.get(key).map(String::as_str)
    }

    /// A numeric option with a default; a value that does not parse is a
    /// usage error (exit 2).
    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        match self.opts.get(key) {
            None => default,
            Some(v) => v.replace('_', "").parse().unwrap_or_else(|_| {
                eprintln!("bench {}: --{key} \"{v}\" is not a number", self.name);
                std::process::exit(2);
            }),
        }
    }

    /// `--size N`, the bench's main size knob.
    pub fn size(&self, default: u64) -> u64 {
        self.num("size", default)
    }
}

fn main() {
    let args = Args::parse().unwrap_or_else(|e| {
        eprintln!("bench: {e}");
        std::process::exit(2);
    });
    match args.name.as_str() {
        "backfill" => backfill::run(&args),
        "ingest" => ingest::run(&args),
        "evaluate" | "rules" => rules::run(&args),
        "idle" => idle::run(&args),
        "capacity" => capacity::run(&args),
        "import" => import::run(&args),
        other => {
            eprintln!(
                "unknown bench \"{other}\"; benches: backfill, ingest, evaluate, idle, capacity, import"
            );
            std::process::exit(2);
        }
    }
}

/// Peak resident set size of this process, MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:")
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Current resident set size of this process, MiB (Linux `VmRSS`).
pub fn rss_mib() -> f64 {
    status_kib("VmRSS:")
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn status_kib(key: &str) -> Option<f64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
}

/// Resets the peak RSS counter so a generator's memory is not counted
/// (Linux ≥ 4.0; ignored elsewhere).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Prints one figures line.
pub fn emit(v: serde_json::Value) {
    println!("{v}");
}

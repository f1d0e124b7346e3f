//! Logging set-up: `tracing` to stderr, level from `-v`/`-q` unless
//! `RUST_LOG` says otherwise. Under systemd (`JOURNAL_STREAM` set) lines
//! carry no timestamp of their own: journald adds one.
//!
//! Colour only where a person reads a terminal: stderr is a terminal and
//! `NO_COLOR` is unset (<https://no-color.org>); a file, a pipe or the
//! journal gets plain text.
//!
//! Log lines and progress bars share stderr through one writer: while
//! bars are drawn ([`show_progress`]), each log line is written with the
//! bars cleared and redrawn below it (indicatif's `suspend`), so a
//! terminal keeps one live line per job and no torn spinner lines.
//!
//! No filter, `RUST_LOG=trace` included, lets through the few targets that
//! log wire content: see [`wire_cap`].

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Level for a verbosity count: -q → error, default → info, -v → debug, -vv → trace.
pub fn level_for(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    }
}

/// A cap applied on top of `RUST_LOG`/`-v`, because these targets log the
/// bytes on the wire, credentials included: lettre (with its `tracing`
/// feature, which any crate in the graph could switch on) logs every SMTP
/// command at debug, `AUTH PLAIN <base64 of the password>` among them, and
/// reqwest's `connection_verbose` logs every request at trace, the
/// `Authorization` and `x-amz-access-token` headers among them. Neither is
/// on today (tests/security.rs proves trace logs hold no secret); the cap
/// keeps it so.
pub fn wire_cap() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("lettre", LevelFilter::INFO)
        .with_target("reqwest::connect::verbose", LevelFilter::OFF)
}

/// Installs the global subscriber (once, at the binary's edge).
pub fn init(verbose: u8, quiet: bool) {
    init_with(level_for(verbose, quiet))
}

/// [`init`] with the level given (`RUST_LOG` still wins).
pub fn init_with(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},hyper=warn,h2=warn,rustls=warn")));
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = !under_systemd
        && colour_wanted(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(|| LogLine(Vec::new()))
        .with_target(false)
        .with_ansi(ansi);
    let registry = tracing_subscriber::registry().with(filter).with(wire_cap());
    let result = if under_systemd {
        registry.with(fmt.without_time()).try_init()
    } else {
        registry.with(fmt).try_init()
    };
    // A second init (tests embedding the CLI) keeps the first subscriber.
    let _ = result;
}

/// Whether log lines carry colour: only on a terminal, and never when
/// `NO_COLOR` is set to anything but the empty string (no-color.org).
pub fn colour_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// The progress bars on stderr now, if any: log lines clear them first.
static BARS: Mutex<Option<indicatif::MultiProgress>> = Mutex::new(None);

/// Routes log lines around `bars` while they are drawn (`None`: the bars
/// are gone, lines go straight to stderr).
pub fn show_progress(bars: Option<indicatif::MultiProgress>) {
    if let Ok(mut b) = BARS.lock() {
        *b = bars;
    }
}

/// One log line, written whole when the formatter is done with it.
struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&self.0);
            let _ = err.flush();
        };
        let bars = BARS.lock().ok().and_then(|b| b.clone());
        match bars {
            Some(bars) => bars.suspend(write),
            None => write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        // (terminal, NO_COLOR) → colour
        let cases: [(bool, Option<&OsStr>, bool); 5] = [
            (true, None, true),
            (true, Some(OsStr::new("")), true),
            (true, Some(OsStr::new("1")), false),
            (false, None, false),
            (false, Some(OsStr::new("1")), false),
        ];
        for (terminal, no_color, want) in cases {
            assert_eq!(
                colour_wanted(terminal, no_color),
                want,
                "{terminal} {no_color:?}"
            );
        }
    }

    #[test]
    fn wire_logging_stays_off_at_any_level() {
        let cap = wire_cap();
        for target in [
            "lettre",
            "lettre::transport::smtp::client::async_connection",
        ] {
            assert!(!cap.would_enable(target, &Level::DEBUG), "{target}");
            assert!(cap.would_enable(target, &Level::INFO), "{target}");
        }
        assert!(!cap.would_enable("reqwest::connect::verbose", &Level::ERROR));
        for target in ["flywheel::amazon::lwa", "hyper_util::client", "reqwest"] {
            assert!(cap.would_enable(target, &Level::TRACE), "{target}");
        }
    }
}

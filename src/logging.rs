//! Logging set-up: `tracing` to stderr, level from `-v`/`-q` unless
//! `RUST_LOG` says otherwise. Under systemd (`JOURNAL_STREAM` set) lines
//! carry no timestamp of their own: journald adds one.
//!
//! No filter, `RUST_LOG=trace` included, lets through the few targets that
//! log wire content: see [`wire_cap`].

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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{},hyper=warn,h2=warn,rustls=warn",
            level_for(verbose, quiet)
        ))
    });
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let registry = tracing_subscriber::registry().with(filter).with(wire_cap());
    let result = if under_systemd {
        registry
            .with(fmt.without_time().with_ansi(false))
            .try_init()
    } else {
        registry.with(fmt).try_init()
    };
    // A second init (tests embedding the CLI) keeps the first subscriber.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

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

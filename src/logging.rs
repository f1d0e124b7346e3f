//! Logging set-up: `tracing` to stderr, level from `-v`/`-q` unless
//! `RUST_LOG` says otherwise. Under systemd (`JOURNAL_STREAM` set) lines
//! carry no timestamp of their own: journald adds one.

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

/// Installs the global subscriber (once, at the binary's edge).
pub fn init(verbose: u8, quiet: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{},hyper=warn,h2=warn,rustls=warn",
            level_for(verbose, quiet)
        ))
    });
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if under_systemd {
        builder.without_time().with_ansi(false).try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests embedding the CLI) keeps the first subscriber.
    let _ = result;
}

//! Where the tests find Amazon's models (`shared/amazon`: the SP-API and
//! Ads models, report schemas and their examples), which are never copied
//! into the repository. One file for both crates: `sim/tests/common`
//! includes it by path.
//!
//! - `FLYWHEEL_AMAZON_MODELS=DIR`, when set, is the only place looked at
//!   (a set but missing directory skips too: that is how a run without
//!   the models is tried on a machine that has them).
//! - Otherwise `shared/amazon` beside the repository (`../shared/amazon`
//!   from the workspace root).
//!
//! A test that reads the models starts with
//! `if amazon_models::missing() { return; }`: where they are not found it
//! prints one line naming the test and how to run it, and passes. With
//! `FLYWHEEL_REQUIRE_AMAZON_MODELS=1` (set by `.ci/run`) it fails instead.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory named by `FLYWHEEL_AMAZON_MODELS`, else `shared/amazon`
/// beside the workspace (resolved from this crate's manifest).
fn candidate() -> (PathBuf, &'static str) {
    match std::env::var_os("FLYWHEEL_AMAZON_MODELS") {
        Some(d) if !d.is_empty() => (PathBuf::from(d), "FLYWHEEL_AMAZON_MODELS"),
        _ => {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            // The workspace root: this crate's directory or its parent (sim/).
            let root = if manifest.join("sim").is_dir() {
                manifest
            } else {
                manifest.parent().unwrap_or(manifest)
            };
            (root.join("../shared/amazon"), "beside the repository")
        }
    }
}

/// Amazon's models, if they are there (`sp-api/` in them).
pub fn dir() -> Option<PathBuf> {
    let (d, _) = candidate();
    d.join("sp-api").is_dir().then_some(d)
}

/// Amazon's models; panics (naming where it looked) without them. Tests
/// call [`missing`] first.
pub fn path() -> PathBuf {
    dir().unwrap_or_else(|| {
        let (d, how) = candidate();
        panic!(
            "Amazon's models are not at {} ({how}); start the test with `if amazon_models::missing() {{ return; }}`",
            d.display()
        )
    })
}

/// True (after printing one line saying what was skipped and how to run
/// it) when Amazon's models are not found; the test then returns and
/// passes. Under `FLYWHEEL_REQUIRE_AMAZON_MODELS=1` it panics instead.
pub fn missing() -> bool {
    if dir().is_some() {
        return false;
    }
    let (d, how) = candidate();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!(
        "skipped {test}: Amazon's models not found at {} ({how}); run it with FLYWHEEL_AMAZON_MODELS=/path/to/shared/amazon",
        d.display()
    );
    if std::env::var_os("FLYWHEEL_REQUIRE_AMAZON_MODELS").is_some_and(|v| v != "0" && !v.is_empty())
    {
        panic!("{line} (FLYWHEEL_REQUIRE_AMAZON_MODELS forbids skipping)");
    }
    // Straight to stderr, past the test harness's capture, so the line is
    // seen in a passing run.
    let _ = writeln!(std::io::stderr(), "{line}");
    true
}

//! `flywheel doctor` (the real binary) against the simulated marketplace.

mod common;

use std::process::Command;

async fn doctor(opts: common::Opts) -> (i32, String) {
    let h = common::start(opts).await;
    let config = h.config_path.clone();
    // The binary talks to the sim served by this test's runtime.
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .args(["doctor", "--config", config.to_str().unwrap()])
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    drop(h);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_account_runs_every_job() {
    let (code, text) = doctor(common::Opts::new("demo")).await;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("jobs that will run (14)"), "{text}");
    assert!(text.contains("every enabled rule has its data"), "{text}");
    assert!(
        text.contains("Ads profiles             ok      matched US"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_are_named_with_what_to_do() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "bad_client".into();
    let (code, text) = doctor(opts).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("SP-API credentials       FAIL"), "{text}");
    assert!(text.contains("invalid_client"), "{text}");
    assert!(text.contains("check client_id and client_secret"), "{text}");
    // One line per cause, naming the probe above rather than repeating it.
    assert!(
        text.contains("13 jobs will not run (SP-API credentials failed, above): orders, "),
        "{text}"
    );
    // A rejected client is fixed in the config, not by authorizing again.
    assert_eq!(text.matches("invalid_client").count(), 2, "{text}");
    assert!(
        text.contains(
            "fix: correct client_id and client_secret (or their _file) in [accounts.sp_api] of "
        ),
        "{text}"
    );
    assert!(!text.contains("fix: flywheel auth"), "{text}");
    let rules = text
        .lines()
        .find(|l| l.contains("will report no_data (SP-API credentials failed, above)"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(rules.contains("conversion_rate"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_one_line_per_cause_with_the_command_that_fixes_it() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "revoke".into();
    let (code, text) = doctor(opts).await;
    assert_eq!(code, 1, "{text}");
    // LWA's answer once per API, each with the command that fixes it.
    assert_eq!(text.matches("invalid_grant").count(), 2, "{text}");
    assert_eq!(
        text.matches("fix: flywheel auth sp --account demo").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("fix: flywheel auth ads --account demo")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("jobs that will run (0): none"), "{text}");
    // Every job and rule line names a cause once: at most one line for
    // the jobs and one for the rules per combination of failed probes.
    let lines = |what: &str| text.lines().filter(|l| l.contains(what)).count();
    assert_eq!(lines("will not run"), 2, "{text}");
    assert_eq!(lines("will report no_data"), 3, "{text}");
    // Two lines per marketplace (what it is, what is stored) come on top.
    assert!(text.lines().count() <= 12 + 2, "{text}");
}

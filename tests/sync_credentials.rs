//! A revoked refresh token: `flywheel sync` (the real binary) fails its jobs
//! with a message that says what to do, never loops, and records the problem
//! for the credentials rule (clearing on success is a store unit test).

mod common;

use std::process::Command;

use flywheel::sync::JobName;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_one_clear_recorded_problem() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "revoke=1".into();
    let h = common::start(opts).await;
    let config = h.config_path.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .args([
                "sync",
                "--config",
                config.to_str().unwrap(),
                "--job",
                "inventory",
                "--job",
                "listings",
            ])
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("inventory") && stdout.contains("failed"),
        "{stdout}"
    );
    assert!(stdout.contains("invalid_grant"), "{stdout}");
    assert!(
        stdout.contains("re-authorize the app and update refresh_token"),
        "{stdout}"
    );
    assert!(stderr.contains("2 jobs failed"), "{stderr}");

    // Recorded once per (account, api, kind) for the credentials rule.
    let open = h.int("SELECT COUNT(*) FROM credential_problems WHERE api = 'sp' AND error_kind = 'invalid_grant' AND cleared_at IS NULL");
    assert_eq!(open, 1);
    // No retry storm: a refused grant is not retried.
    let token_calls = h.int("SELECT IFNULL(SUM(calls), 0) FROM api_call_counts WHERE api = 'sp'");
    assert_eq!(token_calls, 0, "no SP-API call can be made without a token");

    // The sim revokes every refresh token: the Ads job's refusal is its
    // own recorded problem, and a repeat keeps one row per (api, kind).
    for _ in 0..2 {
        let results = h.sync(&[JobName::Ads]).await;
        assert_eq!(results[0].status, flywheel::store::jobs::RunStatus::Failed);
        assert!(
            results[0].message.contains("invalid_grant"),
            "{:?}",
            results[0]
        );
    }
    assert_eq!(
        h.int("SELECT COUNT(*) FROM credential_problems WHERE cleared_at IS NULL"),
        2,
        "one open problem per API"
    );
}

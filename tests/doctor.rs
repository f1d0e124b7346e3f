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
    assert!(text.contains("job orders will not run"), "{text}");
    assert!(
        text.contains("rule conversion_rate will report no_data"),
        "{text}"
    );
}

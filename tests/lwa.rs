//! The LWA client against the simulated marketplace's real token endpoint.

use std::time::{Duration, Instant};

use flywheel::amazon::lwa::{LwaClient, LwaError};
use flywheel::config::{LwaCredentials, Secret};

const SCENARIO: &str = r#"
name = "lwa"
history_days = 7

[[products]]
sku = "LWA-1"
asin = "B0LWA00001"
title = "Token tester"
price = 10.0
cogs = 3.0
"#;

async fn sim() -> flywheel_sim::RunningSim {
    let scenario = flywheel_sim::scenario::Scenario::from_toml_str(SCENARIO).unwrap();
    let mut opts = flywheel_sim::SimOptions::new(scenario);
    opts.speed = 0.0;
    flywheel_sim::spawn(opts).await.unwrap()
}

fn creds(sim: &flywheel_sim::RunningSim) -> LwaCredentials {
    let sp = &sim.world.scenario().seller.sp;
    LwaCredentials {
        client_id: sp.client_id.clone(),
        client_secret: Secret::new(sp.client_secret.clone()),
        refresh_token: Secret::new(sp.refresh_token.clone()),
    }
}

fn client() -> LwaClient {
    LwaClient::new(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn fetches_caches_and_refreshes_tokens() {
    let sim = sim().await;
    let url = format!("{}/auth/o2/token", sim.base_url());
    let lwa = client();
    let c = creds(&sim);
    let t0 = Instant::now();
    let first = lwa.access_token(&url, &c, t0).await.unwrap();
    assert!(!first.expose().is_empty());
    // Cached until 60 s before the hour is up.
    let again = lwa
        .access_token(&url, &c, t0 + Duration::from_secs(3500))
        .await
        .unwrap();
    assert_eq!(first.expose(), again.expose());
    let renewed = lwa
        .access_token(&url, &c, t0 + Duration::from_secs(3541))
        .await
        .unwrap();
    assert_ne!(
        first.expose(),
        renewed.expose(),
        "refreshed 60 s before expiry"
    );
    // Invalidated after an API rejected it: the next call fetches a new one.
    lwa.invalidate(&url, &c).await;
    let fresh = lwa
        .access_token(&url, &c, t0 + Duration::from_secs(3542))
        .await
        .unwrap();
    assert_ne!(renewed.expose(), fresh.expose());
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_credentials_are_typed_and_say_what_to_do() {
    let sim = sim().await;
    let url = format!("{}/auth/o2/token", sim.base_url());
    let lwa = client();
    let mut bad_token = creds(&sim);
    bad_token.refresh_token = Secret::new("Atzr|not-a-real-token");
    let err = lwa
        .access_token(&url, &bad_token, Instant::now())
        .await
        .unwrap_err();
    assert!(matches!(err, LwaError::InvalidGrant { .. }), "{err:?}");
    assert!(err.is_credentials_problem());
    assert!(err.to_string().contains("re-authorize"), "{err}");
    assert!(
        !err.to_string().contains("not-a-real-token"),
        "secret in message: {err}"
    );

    let mut bad_secret = creds(&sim);
    bad_secret.client_secret = Secret::new("wrong-secret");
    let err = lwa
        .access_token(&url, &bad_secret, Instant::now())
        .await
        .unwrap_err();
    assert!(matches!(err, LwaError::InvalidClient { .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong-secret"));
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_network_error() {
    let lwa = client();
    let c = LwaCredentials {
        client_id: "id".into(),
        client_secret: Secret::new("s"),
        refresh_token: Secret::new("r"),
    };
    // Port 9 (discard) on loopback: nothing listens in the test sandbox.
    let err = lwa
        .access_token("http://127.0.0.1:9/auth/o2/token", &c, Instant::now())
        .await
        .unwrap_err();
    assert!(matches!(err, LwaError::Network(_)), "{err:?}");
}

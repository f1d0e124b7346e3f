//! The shared HTTP layer against the simulated marketplace: rate learning,
//! 429 storms, 5xx, expired tokens, and call counting.

use std::time::{Duration, Instant};

use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::{ApiClient, CallSpec, Endpoint};
use flywheel::amazon::http::{Api, ApiError};
use flywheel::config::{LwaCredentials, Secret};

const SCENARIO: &str = r#"
name = "client"
history_days = 7

[[products]]
sku = "C-1"
asin = "B0CLIENT01"
title = "Client tester"
price = 10.0
cogs = 3.0
"#;

async fn sim(faults: &str) -> flywheel_sim::RunningSim {
    let scenario = flywheel_sim::scenario::Scenario::from_toml_str(SCENARIO).unwrap();
    let mut opts = flywheel_sim::SimOptions::new(scenario);
    opts.speed = 0.0;
    opts.seed = 7;
    if !faults.is_empty() {
        opts.faults = faults.parse().unwrap();
    }
    flywheel_sim::spawn(opts).await.unwrap()
}

fn endpoint(sim: &flywheel_sim::RunningSim) -> Endpoint {
    let sp = &sim.world.scenario().seller.sp;
    Endpoint {
        account: "demo".into(),
        api: Api::SpApi,
        base_url: sim.base_url(),
        token_url: format!("{}/auth/o2/token", sim.base_url()),
        credentials: LwaCredentials {
            client_id: sp.client_id.clone(),
            client_secret: Secret::new(sp.client_secret.clone()),
            refresh_token: Secret::new(sp.refresh_token.clone()),
        },
    }
}

fn client(max_attempts: u32) -> ApiClient {
    ApiClient::new(
        Duration::from_secs(10),
        RetryPolicy {
            max_attempts,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
        },
    )
    .unwrap()
}

fn participations() -> CallSpec {
    CallSpec::get(
        "getMarketplaceParticipations",
        "/sellers/v1/marketplaceParticipations",
    )
}

#[tokio::test]
async fn a_call_succeeds_learns_the_rate_and_is_counted() {
    let sim = sim("").await;
    let c = client(3);
    let ep = endpoint(&sim);
    let resp = c.call(&ep, &participations()).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 1));
    let body: serde_json::Value = resp.json("getMarketplaceParticipations").unwrap();
    assert_eq!(
        body["payload"][0]["marketplace"]["id"],
        sim.world.scenario().seller.marketplace_id.as_str()
    );
    // The sim sends the documented 0.016 rps in x-amzn-RateLimit-Limit.
    let learned = c.limiter.rate("demo", "getMarketplaceParticipations");
    let header: f64 = resp.headers["x-amzn-ratelimit-limit"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(learned, header);
    assert_eq!(c.counter.totals(), (1, 0));
    let rows = c.counter.drain();
    assert_eq!(rows[0].0.status_class, "2xx");
    assert_eq!(rows[0].0.api, "sp");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_429_storm_is_retried_a_bounded_number_of_times() {
    let sim = sim("throttle=1.0").await;
    let c = client(3);
    let ep = endpoint(&sim);
    let spec = CallSpec::get("getInventorySummaries", "/fba/inventory/v1/summaries")
        .query("granularityType", "Marketplace");
    let started = Instant::now();
    let err = c.call(&ep, &spec).await.unwrap_err();
    assert!(matches!(err, ApiError::Throttled { .. }), "{err:?}");
    assert_eq!(c.counter.totals(), (3, 3), "three attempts, all throttled");
    // Bounded: two backoffs of at most 400 ms plus the bucket's 0.5 s refills.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried_until_an_answer_comes() {
    let sim = sim("5xx=0.5").await;
    let c = client(10);
    let ep = endpoint(&sim);
    for _ in 0..8 {
        let resp = c
            .call(
                &ep,
                &CallSpec::get("getInventorySummaries", "/_none").query("x", "y"),
            )
            .await;
        // The path does not exist: every answer that is not a 5xx is a 404,
        // which is permanent; a 5xx is retried first.
        match resp {
            Err(ApiError::Permanent { status: 404, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let (calls, _) = c.counter.totals();
    assert!(
        calls > 8,
        "with 5xx at 50% some calls must have been retried"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_call_retried_once() {
    let sim = sim("").await;
    let c = client(3);
    let ep = endpoint(&sim);
    assert_eq!(c.call(&ep, &participations()).await.unwrap().attempts, 1);
    // Two hours pass in the marketplace: the cached access token expires there.
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/advance?by=2h", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let resp = c.call(&ep, &participations()).await.unwrap();
    assert_eq!(resp.attempts, 2, "403 expired → fresh token → success");
    let classes: Vec<_> = c
        .counter
        .drain()
        .into_iter()
        .map(|(k, v)| (k.status_class, v.calls))
        .collect();
    assert!(classes.contains(&("4xx", 1)), "{classes:?}");
    sim.shutdown().await.unwrap();
}

fn ads_endpoint(sim: &flywheel_sim::RunningSim) -> Endpoint {
    let ads = &sim.world.scenario().seller.ads;
    Endpoint {
        account: "demo".into(),
        api: Api::Ads,
        base_url: sim.base_url(),
        token_url: format!("{}/auth/o2/token", sim.base_url()),
        credentials: LwaCredentials {
            client_id: ads.client_id.clone(),
            client_secret: Secret::new(ads.client_secret.clone()),
            refresh_token: Secret::new(ads.refresh_token.clone()),
        },
    }
}

#[tokio::test]
async fn an_ads_poll_with_an_expired_token_takes_a_fresh_one() {
    // Ads report polls retry a 401 as transient (Amazon sends spurious
    // ones there); when the token really expired, the retry must not go
    // out with the same dead token until the attempts run out.
    let sim = sim("").await;
    let c = client(4);
    let ep = ads_endpoint(&sim);
    let profile = sim.world.scenario().seller.ads_profile_id;
    let missing = flywheel::amazon::ads::get_report(&c, &ep, profile, "no-such-report").await;
    assert!(
        matches!(missing, Err(ApiError::Permanent { .. })),
        "{missing:?}"
    );
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/advance?by=2h", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    c.counter.drain();
    let again = flywheel::amazon::ads::get_report(&c, &ep, profile, "no-such-report").await;
    assert!(
        matches!(again, Err(ApiError::Permanent { .. })),
        "401 (dead token) → fresh token → the report's own answer: {again:?}"
    );
    assert_eq!(c.counter.totals().0, 2, "one 401, then the answer");
    sim.shutdown().await.unwrap();
}

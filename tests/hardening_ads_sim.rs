//! Hardening found by running flywheel against the unexpected (issue 14):
//! a persistent Ads 401 must end `sync` within `max_report_wait` of sim time
//! with a failure that says the credentials were refused; the pricing job
//! reads Amazon's 2025 reference price (`CompetitivePrice`) and `DEFAULT`
//! segments as the sim now serves them; customer feedback never stores an
//! impossible date such as Amazon's own example `2024-02-30`.

mod common;

use std::time::Duration;

use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use flywheel::store::jobs::RunStatus;
use flywheel::sync::ads::REFUSED_ROUNDS;
use flywheel::sync::JobName;
use serde_json::{json, Value};

/// Sim time the persistent-401 run may take.
const MAX_REPORT_WAIT: Duration = Duration::from_secs(20 * 60);
/// What the run may take beyond it: starting the process, the profile and
/// campaign calls and the report creations before the first poll (seconds
/// of wall time at 200x).
const SETUP: chrono::Duration = chrono::Duration::minutes(5);
/// A hung run is killed after this much wall time (the unfixed job took
/// 22 sim hours; it is not waited for).
const HANG: Duration = Duration::from_secs(180);

/// Every Ads report poll answers 401 (`ads_401=1`): `flywheel sync --job ads`
/// exits non-zero within `max_report_wait` of sim time, the run is recorded
/// failed, and the message says the Ads API refused the credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_ads_401_fails_the_job_within_max_report_wait() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "ads_401=1".into();
    let h = common::start(opts).await;
    let mut text = std::fs::read_to_string(&h.config_path).unwrap();
    // A short backoff cap keeps each refused poll's retries to seconds, so
    // the unfixed job finishes (and says "ok") instead of being killed.
    text.push_str(&format!(
        "\n[sync]\nmax_report_wait = \"{}\"\nmax_backoff = \"1s\"\n",
        humantime::format_duration(MAX_REPORT_WAIT)
    ));
    std::fs::write(&h.config_path, text).unwrap();

    let before = h.now().await;
    let config = h.config_path.clone();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(["sync", "--job", "ads", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .env_remove("FLYWHEEL_CONFIG")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        tokio::spawn(async move {
            let mut s = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut r, &mut s).await;
            s
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let status = match tokio::time::timeout(HANG, child.wait()).await {
        Ok(s) => s.unwrap(),
        Err(_) => {
            child.kill().await.unwrap();
            panic!(
                "flywheel sync --job ads still running after {} of sim time (max_report_wait {})",
                h.now().await - before,
                humantime::format_duration(MAX_REPORT_WAIT)
            );
        }
    };
    let took = h.now().await - before;
    let (out, err) = (out.await.unwrap(), err.await.unwrap());
    let all = format!("{status}\n{out}\n{err}");

    assert!(!status.success(), "the run must fail:\n{all}");
    assert!(
        took <= chrono::Duration::from_std(MAX_REPORT_WAIT).unwrap() + SETUP,
        "the run took {took} of sim time, max_report_wait is {}:\n{all}",
        humantime::format_duration(MAX_REPORT_WAIT)
    );
    let ads_line = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("ads"))
        .unwrap_or_else(|| panic!("no ads line in the summary:\n{all}"));
    assert_eq!(
        ads_line.split_whitespace().nth(2),
        Some("failed"),
        "{ads_line}"
    );

    let (run_status, error): (String, String) = h
        .conn()
        .query_row(
            "SELECT status, error FROM job_runs WHERE job = 'ads' ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    eprintln!("ads run ({took} of sim time): {error}");
    assert_eq!(run_status, "failed", "{error}");
    assert!(
        error.starts_with("the Ads API refused the credentials:"),
        "{error}"
    );
    assert!(
        error.contains("401 Unauthorized") && error.contains("nothing was written"),
        "{error}"
    );
    assert!(
        error.contains("check [accounts.ads]"),
        "what to do: {error}"
    );
    assert_eq!(
        h.int("SELECT COUNT(*) FROM ads_campaign_daily"),
        0,
        "nothing written"
    );
    assert!(
        !h.pending_reports().is_empty(),
        "the reports stay for the next run"
    );
}

/// With calls that give up at once, a persistent 401 is seen for what it
/// is after [`REFUSED_ROUNDS`] rounds of refused checks: the job stops
/// polling long before `max_report_wait` (6 h) instead of asking Amazon
/// every few minutes for hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_polls_stop_after_two_rounds() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "ads_401=1".into();
    let mut h = common::start(opts).await;
    h.client.policy = flywheel::amazon::backoff::RetryPolicy::new(1, Duration::from_secs(1));
    let before = h.now().await;
    let r = h.sync(&[JobName::Ads]).await;
    let took = h.now().await - before;
    assert_eq!(r[0].status, RunStatus::Failed, "{}", r[0].message);
    let reports = h.pending_reports().len();
    assert!(reports > 0);
    let checks = reports * REFUSED_ROUNDS as usize;
    assert!(
        r[0].message.starts_with(&format!(
            "the Ads API refused the credentials: {checks} status check(s) (getAsyncReport) answered 401 Unauthorized"
        )),
        "{}",
        r[0].message
    );
    assert!(took < chrono::Duration::minutes(30), "stopped after {took}");
}

/// The sim answers as Amazon has since 2025 (`CompetitivePrice` instead of
/// `CompetitivePriceThreshold` outside JP, `DEFAULT` memberships): the
/// stored rows carry the competitive price and our featured share counts
/// the `DEFAULT` segment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pricing_stores_the_competitive_price_and_counts_default_segments() {
    let h = common::start(common::Opts::new("demo")).await;
    for job in [JobName::Listings, JobName::Pricing] {
        let r = h.sync(&[job]).await;
        assert_eq!(r[0].status, RunStatus::Ok, "{}: {}", job, r[0].message);
    }
    let now = h.now().await;
    let rows: Vec<(String, Option<f64>, Option<f64>, String)> = h
        .conn()
        .prepare(
            "SELECT asin, competitive_price, our_featured_pct, raw_json FROM pricing_snapshots",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!rows.is_empty());
    let mut with_default = 0;
    for (asin, competitive, ours, raw) in &rows {
        let cs = h.sim.world.competitive_summary(asin, now).unwrap();
        assert_eq!(
            *competitive,
            Some(cs.competitive_price_threshold),
            "{asin}: CompetitivePrice"
        );
        let raw: Value = serde_json::from_str(raw).unwrap();
        let names: Vec<&str> = raw["referencePrices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            !names.contains(&"CompetitivePriceThreshold"),
            "{asin}: {names:?}"
        );
        if raw
            .to_string()
            .contains(r#""customerMembership":"DEFAULT""#)
        {
            with_default += 1;
        }
        if cs.offers.iter().any(|o| o.is_ours) && cs.featured_seller_id.is_some() {
            let want = cs.featured_share_pct.clamp(0.0, 100.0);
            let got = ours.unwrap();
            assert!(
                (got - want).abs() < 0.02,
                "{asin}: our share {got} vs {want}"
            );
        }
    }
    assert!(with_default > 0, "the sim sends DEFAULT segments");
}

/// `getItemReviewTrends` as Amazon's own model example answers it: one
/// month ends on 2024-02-30.
fn trends_example(asin: &str) -> Value {
    json!({
        "asin": asin,
        "itemName": "Example",
        "marketplaceId": "ATVPDKIKX0DER",
        "countryCode": "US",
        "dateRange": {"startDate": "2023-09-01T00:00:00.000Z", "endDate": "2024-03-30T00:00:00.000Z"},
        "reviewTrends": {
            "positiveTopics": [],
            "negativeTopics": [{
                "topic": "Poor quality",
                "trendMetrics": [
                    {"dateRange": {"startDate": "2024-03-01T00:00:00.000Z", "endDate": "2024-03-30T00:00:00.000Z"},
                     "asinMetrics": {"occurrencePercentage": 27.58},
                     "parentAsinMetrics": {"occurrencePercentage": 27.58},
                     "browseNodeMetrics": {"occurrencePercentage": {"allProducts": 13.6}}},
                    {"dateRange": {"startDate": "2024-02-01T00:00:00.000Z", "endDate": "2024-02-30T00:00:00.000Z"},
                     "asinMetrics": {"occurrencePercentage": 27.58},
                     "parentAsinMetrics": {"occurrencePercentage": 27.58},
                     "browseNodeMetrics": {"occurrencePercentage": {"allProducts": 13.6}}}
                ]
            }]
        }
    })
}

/// A Customer Feedback endpoint answering every item's trends with the
/// example above and everything else 404 (no data); returns its base URL.
async fn feedback_endpoint() -> String {
    async fn answer(uri: Uri) -> axum::response::Response {
        let path = uri.path();
        let asin = path
            .strip_prefix("/customerFeedback/2024-06-01/items/")
            .and_then(|rest| rest.strip_suffix("/reviews/trends"));
        match asin {
            Some(asin) => axum::Json(trends_example(asin)).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"errors": [{"code": "NotFound", "message": "no data"}]})),
            )
                .into_response(),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(answer);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Amazon's own example date `2024-02-30` is not stored; the month is
/// skipped with a note naming the field, the valid month is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_feedback_skips_an_impossible_date_and_names_the_field() {
    let mut h = common::start(common::Opts::new("demo")).await;
    // The ASINs come from the sim's listings; the feedback from the fake.
    let r = h.sync(&[JobName::Listings]).await;
    assert_eq!(r[0].status, RunStatus::Ok, "{}", r[0].message);
    let base = feedback_endpoint().await;
    h.cfg.accounts[0].sp_api.as_mut().unwrap().endpoint = Some(base);

    let r = h.sync(&[JobName::CustomerFeedback]).await;
    assert_eq!(r[0].status, RunStatus::Ok, "{}", r[0].message);
    assert!(
        r[0].message.contains(
            "getItemReviewTrends B0"
        ) && r[0].message.contains(
            "`reviewTrends.negativeTopics[].trendMetrics[].dateRange.endDate` \"2024-02-30T00:00:00.000Z\" is not a valid date"
        ),
        "the note names the operation, the field and the value: {}",
        r[0].message
    );
    let asins = h.int("SELECT COUNT(DISTINCT subject_id) FROM review_topic_trends");
    assert!(asins > 0);
    assert_eq!(
        h.int("SELECT COUNT(*) FROM review_topic_trends WHERE period_end = '2024-02-30' OR period_start = '2024-02-01'"),
        0,
        "the impossible month is not stored"
    );
    assert_eq!(
        h.int("SELECT COUNT(*) FROM review_topic_trends WHERE period_start = '2024-03-01' AND period_end = '2024-03-30'"),
        asins,
        "the valid month of every ASIN is"
    );
}

/// An SP-API whose report queue never moves, on a clock running 1000x from
/// the harness's start: LWA, `createReport`, `getReport` (always IN_QUEUE)
/// and `GET /_sim/now`. Returns its base URL.
async fn stuck_report_queue(start: chrono::DateTime<chrono::Utc>) -> String {
    use axum::routing::{get, post};
    const SPEED: f64 = 1000.0;
    let wall = std::time::Instant::now();
    let created = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/auth/o2/token",
            post(|| async {
                axum::Json(json!({"access_token": "Atza|stuck", "token_type": "bearer", "expires_in": 3600}))
            }),
        )
        .route(
            "/_sim/now",
            get(move || async move {
                let now = start
                    + chrono::Duration::milliseconds((wall.elapsed().as_secs_f64() * SPEED * 1000.0) as i64);
                axum::Json(json!({"now": now.to_rfc3339(), "speed": SPEED}))
            }),
        )
        .route(
            "/reports/2021-06-30/reports",
            post(move || {
                let n = created.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move { (StatusCode::ACCEPTED, axum::Json(json!({"reportId": format!("{}", 1000 + n)}))) }
            }),
        )
        .route(
            "/reports/2021-06-30/reports/{id}",
            get(|axum::extract::Path(id): axum::extract::Path<String>| async move {
                axum::Json(json!({"reportId": id, "reportType": "x", "processingStatus": "IN_QUEUE",
                    "createdTime": "2026-03-02T16:00:00Z"}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The reports a job queues together share one `max_report_wait`: with
/// Amazon's queue stuck, the returns job (two reports) waited the wait out
/// once per report; it now waits it once in all, and both reports stay for
/// the next run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_queued_together_share_one_max_report_wait() {
    let mut h = common::start(common::Opts::new("demo")).await;
    let base = stuck_report_queue(h.now().await).await;
    let clock = flywheel::config::ClockSource::Sim(format!("{base}/_sim/now"));
    h.clock = flywheel::clock::Clock::from_source(&clock);
    h.cfg.daemon.clock = clock;
    let sp = h.cfg.accounts[0].sp_api.as_mut().unwrap();
    sp.endpoint = Some(base.clone());
    sp.token_url = Some(format!("{base}/auth/o2/token"));
    let wait = Duration::from_secs(30 * 60);
    h.cfg.sync.max_report_wait = wait;

    let before = h.now().await;
    let r = h.sync(&[JobName::Returns]).await;
    let took = h.now().await - before;
    assert_eq!(r[0].status, RunStatus::Ok, "{}", r[0].message);
    assert_eq!(h.pending_reports().len(), 2, "{}", r[0].message);
    let wait = chrono::Duration::from_std(wait).unwrap();
    assert!(
        // The last poll comes up to one poll interval (2 min) before it.
        took > wait - chrono::Duration::minutes(3) && took < wait + chrono::Duration::minutes(10),
        "two stuck reports took {took} of clock time; max_report_wait is {wait}"
    );
}

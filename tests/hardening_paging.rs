//! Paged operations that never end, and 2xx bodies cut short (issue 14,
//! items 1 and 9).
//!
//! A fake SP-API on 127.0.0.1 answers `searchListingsItems` and
//! `getInventorySummaries` with one page, with the same token every time
//! (as Amazon's sandbox example for searchListingsItems does), or with a new
//! token forever; the real `flywheel sync` must end every such job failed,
//! naming the operation and the token problem, within a bounded number of
//! calls, and keep what earlier runs stored. A proxy in front of the
//! simulated marketplace cuts the first answer of every call in half: the
//! jobs must still complete.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::{ApiClient, CallSpec, Endpoint};
use flywheel::amazon::http::{Api, ApiError};
use flywheel::config::{LwaCredentials, Secret};
use flywheel::sync::JobName;
use rusqlite::Connection;
use serde_json::{json, Value};

const MARKETPLACE: &str = "ATVPDKIKX0DER";
/// The token of Amazon's sandbox example for searchListingsItems.
const SANDBOX_TOKEN: &str = "xsdflkj324lkjsdlkj3423klkjsdfkljlk2j34klj2l3k4jlksdjl234";
/// Longest a `flywheel sync` of these tests may take; the loops they guard
/// against never end.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// How the fake pages.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// One page, no token.
    Finite,
    /// Every page names the same token.
    Repeat,
    /// Every page names a new token.
    Endless,
}

struct FakeState {
    mode: Mutex<Mode>,
    /// Calls per operation.
    calls: Mutex<HashMap<&'static str, u64>>,
}

struct Fake {
    state: Arc<FakeState>,
    base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Fake {
    async fn start(mode: Mode) -> Fake {
        let state = Arc::new(FakeState {
            mode: Mutex::new(mode),
            calls: Mutex::new(HashMap::new()),
        });
        let app = axum::Router::new()
            .fallback(fake_sp_api)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Fake {
            state,
            base,
            _stop: stop,
        }
    }

    fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
        self.state.calls.lock().unwrap().clear();
    }

    fn calls(&self, operation: &str) -> u64 {
        self.state
            .calls
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }
}

fn query_value(req: &Request, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

/// LWA, searchListingsItems and getInventorySummaries; every answer says
/// the operation allows 1000 calls a second, so a loop runs at full speed.
async fn fake_sp_api(State(state): State<Arc<FakeState>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path == "/auth/o2/token" {
        return axum::Json(json!({
            "access_token": "Atza|fake-access-token",
            "refresh_token": "Atzr|fake",
            "token_type": "bearer",
            "expires_in": 3600
        }))
        .into_response();
    }
    let operation = if path.starts_with("/listings/2021-08-01/items/") {
        "searchListingsItems"
    } else if path == "/fba/inventory/v1/summaries" {
        "getInventorySummaries"
    } else {
        return (StatusCode::NOT_FOUND, "not faked").into_response();
    };
    let n = {
        let mut calls = state.calls.lock().unwrap();
        let c = calls.entry(operation).or_default();
        *c += 1;
        *c
    };
    let mode = *state.mode.lock().unwrap();
    let next = match mode {
        Mode::Finite => None,
        Mode::Repeat => Some(SANDBOX_TOKEN.to_string()),
        Mode::Endless => Some(format!("page-{}", n + 1)),
    };
    let skus: Vec<String> = match mode {
        Mode::Finite => vec!["SKU-A".into(), "SKU-B".into()],
        _ => vec![format!("SKU-P{}", n % 3)],
    };
    // The token the client sent is never needed: the sandbox ignores it.
    let _ = query_value(&req, "pageToken").or_else(|| query_value(&req, "nextToken"));
    let pagination = match &next {
        Some(t) => json!({ "nextToken": t }),
        None => json!({}),
    };
    let body = if operation == "searchListingsItems" {
        let items: Vec<Value> = skus
            .iter()
            .enumerate()
            .map(|(i, sku)| {
                json!({
                    "sku": sku,
                    "summaries": [{
                        "marketplaceId": MARKETPLACE,
                        "asin": format!("B0FAKE000{i}"),
                        "productType": "PRODUCT",
                        "conditionType": "new_new",
                        "status": ["BUYABLE", "DISCOVERABLE"],
                        "itemName": format!("Item {sku}"),
                        "createdDate": "2025-01-01T00:00:00Z",
                        "lastUpdatedDate": "2026-01-01T00:00:00Z"
                    }],
                    "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 4}],
                    "offers": [{"marketplaceId": MARKETPLACE, "offerType": "B2C",
                                "price": {"currencyCode": "USD", "amount": "12.00"}}],
                    "issues": []
                })
            })
            .collect();
        json!({ "numberOfResults": items.len(), "pagination": pagination, "items": items })
    } else {
        let summaries: Vec<Value> = skus
            .iter()
            .enumerate()
            .map(|(i, sku)| {
                json!({
                    "asin": format!("B0FAKE000{i}"),
                    "fnSku": format!("X0FAKE000{i}"),
                    "sellerSku": sku,
                    "condition": "NewItem",
                    "inventoryDetails": {"fulfillableQuantity": 10},
                    "totalQuantity": 10
                })
            })
            .collect();
        json!({ "payload": { "inventorySummaries": summaries }, "pagination": pagination })
    };
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert("x-amzn-RateLimit-Limit", HeaderValue::from_static("1000"));
    resp
}

/// A config for one account on the fake, `sync` lines appended.
fn write_config(dir: &Path, base: &str, sync: &str) -> PathBuf {
    let text = format!(
        r#"
[daemon]
database = "{db}"
timezone = "America/Los_Angeles"

[[accounts]]
name = "acme"
region = "na"
marketplaces = ["{MARKETPLACE}"]
seller_id = "A1FAKESELLER01"

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.fake00000000000000000000000000001"
client_secret = "amzn1.oa2-cs.v1.fakesecret0000000000000000000000000000000001"
refresh_token = "Atzr|IwEBIFAKEREFRESHTOKEN000000000000000000000001"
endpoint = "{base}"
token_url = "{base}/auth/o2/token"

[email]
transport = "file"
dir = "{mail}"
from = "flywheel <flywheel@localhost>"
to = ["seller@example.com"]

[sync]
{sync}
"#,
        db = dir.join("flywheel.db").display(),
        mail = dir.join("mail").display(),
    );
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let path = dir.join("flywheel.toml");
    std::fs::write(&path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// `flywheel sync --job …`: (exit code, stdout + stderr). Fails the test
/// when the run does not end within [`RUN_LIMIT`] (the loop never ended).
async fn sync(config: &Path, jobs: &[&str], fake: &Fake) -> (i32, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"));
    cmd.arg("--config").arg(config).arg("sync");
    for j in jobs {
        cmd.arg("--job").arg(j);
    }
    cmd.kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .env_remove("FLYWHEEL_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY");
    let run = cmd.output();
    let out = match tokio::time::timeout(RUN_LIMIT, run).await {
        Ok(out) => out.unwrap(),
        Err(_) => panic!(
            "`flywheel sync {jobs:?}` still running after {RUN_LIMIT:?}: searchListingsItems \
             called {} times, getInventorySummaries {} times",
            fake.calls("searchListingsItems"),
            fake.calls("getInventorySummaries")
        ),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn db(dir: &Path) -> Connection {
    Connection::open(dir.join("flywheel.db")).unwrap()
}

/// The newest run of a job: (status, error).
fn last_run(conn: &Connection, job: &str) -> (String, String) {
    conn.query_row(
        "SELECT status, COALESCE(error, '') FROM job_runs WHERE job = ?1 ORDER BY id DESC LIMIT 1",
        [job],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or_else(|e| panic!("no run of {job}: {e}"))
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_page_token_fails_the_job_and_keeps_what_it_stored() {
    let fake = Fake::start(Mode::Finite).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake.base, "");
    let (code, out) = sync(&config, &["listings", "inventory"], &fake).await;
    assert_eq!(code, 0, "{out}");
    let conn = db(dir.path());
    let listings =
        "SELECT COUNT(*) FROM listings WHERE account = 'acme' AND sku IN ('SKU-A', 'SKU-B')";
    let stock = "SELECT COUNT(*) FROM inventory_snapshots WHERE source = 'fba_inventory' AND sku IN ('SKU-A', 'SKU-B')";
    assert_eq!(count(&conn, listings), 2);
    assert_eq!(count(&conn, stock), 2);

    // Amazon's sandbox: every page names the same token.
    fake.set_mode(Mode::Repeat);
    let (code, out) = sync(&config, &["listings", "inventory"], &fake).await;
    assert_eq!(code, 1, "the failed jobs make the run fail: {out}");
    // The first page names the token, the second sends it and gets it back.
    assert_eq!(fake.calls("searchListingsItems"), 2);
    assert_eq!(fake.calls("getInventorySummaries"), 2);
    for (job, operation) in [
        ("listings", "searchListingsItems"),
        ("inventory", "getInventorySummaries"),
    ] {
        let (status, error) = last_run(&conn, job);
        assert_eq!(status, "failed", "{job}: {error}");
        assert!(
            error.starts_with(&format!("{operation}: ")) && error.contains("already sent"),
            "{job}: {error}"
        );
        assert!(
            error.contains("(`xsdflkj324lkjsdlkj3423kl…`)"),
            "{job}: {error}"
        );
    }
    assert_eq!(count(&conn, listings), 2, "the stored listings are kept");
    assert_eq!(count(&conn, stock), 2, "the stored stock is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_token_stops_every_job_that_pages_the_listings() {
    // A fresh database knows no ASIN: catalog_ranks, pricing and
    // customer_feedback page searchListingsItems for them.
    let fake = Fake::start(Mode::Repeat).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake.base, "");
    let jobs = ["catalog_ranks", "pricing", "customer_feedback"];
    let (code, out) = sync(&config, &jobs, &fake).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(fake.calls("searchListingsItems"), 2 * jobs.len() as u64);
    let conn = db(dir.path());
    for job in jobs {
        let (status, error) = last_run(&conn, job);
        assert_eq!(status, "failed", "{job}: {error}");
        assert!(
            error.starts_with("searchListingsItems: ") && error.contains("already sent"),
            "{job}: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_page_tokens_stop_at_the_default_page_cap() {
    let fake = Fake::start(Mode::Endless).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake.base, "");
    let (code, out) = sync(&config, &["listings", "inventory"], &fake).await;
    assert_eq!(code, 1, "{out}");
    // `[sync] max_pages` defaults to 1000 pages per operation and run.
    assert_eq!(fake.calls("searchListingsItems"), 1000);
    assert_eq!(fake.calls("getInventorySummaries"), 1000);
    let conn = db(dir.path());
    for (job, operation) in [
        ("listings", "searchListingsItems"),
        ("inventory", "getInventorySummaries"),
    ] {
        let (status, error) = last_run(&conn, job);
        assert_eq!(status, "failed", "{job}: {error}");
        assert!(
            error.starts_with(&format!("{operation}: "))
                && error.contains("after 1000 pages")
                && error.contains("[sync] max_pages"),
            "{job}: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_pages_and_the_run_time_budget_bound_the_calls_of_a_run() {
    let fake = Fake::start(Mode::Endless).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake.base, "max_pages = 7");
    let (code, out) = sync(&config, &["listings"], &fake).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(fake.calls("searchListingsItems"), 7);
    let (status, error) = last_run(&db(dir.path()), "listings");
    assert_eq!(status, "failed");
    assert!(error.contains("after 7 pages"), "{error}");

    // A 2 s budget: searchListingsItems (burst 5, 5 a second) may be
    // called 5 + 5 × 2 = 15 times in a run, whatever rate the endpoint
    // claims (the fake says 1000 a second).
    fake.set_mode(Mode::Endless);
    let config = write_config(
        dir.path(),
        &fake.base,
        "max_pages = 1000\nmax_run_time = \"2s\"",
    );
    let (code, out) = sync(&config, &["listings"], &fake).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(fake.calls("searchListingsItems"), 15);
    let (status, error) = last_run(&db(dir.path()), "listings");
    assert_eq!(status, "failed");
    assert!(
        error.starts_with("searchListingsItems: this job run already made 15 calls")
            && error.contains("[sync] max_run_time (2s)"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------
// Bodies cut short.

/// Forwards to `upstream`; cuts the first 2xx answer of every API call
/// (method, path, query and body) in half, and passes its repeat whole.
/// LWA, the sim's clock and document downloads pass untouched.
struct Cutter {
    upstream: String,
    http: reqwest::Client,
    seen: Mutex<HashMap<String, u64>>,
    cut: Mutex<HashMap<String, u64>>,
}

async fn cutter(State(c): State<Arc<Cutter>>, req: Request) -> Response {
    let method = req.method().clone();
    let path_q = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    let mut headers = req.headers().clone();
    headers.remove(axum::http::header::HOST);
    headers.remove(axum::http::header::ACCEPT_ENCODING);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap();
    let upstream = c
        .http
        .request(method.clone(), format!("{}{}", c.upstream, path_q))
        .headers(headers)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let status = upstream.status();
    let mut resp_headers = upstream.headers().clone();
    let bytes = upstream.bytes().await.unwrap();
    let api = !(path.starts_with("/auth/")
        || path.starts_with("/_sim")
        || path.starts_with("/download/"));
    let key = format!("{method} {path_q} {}", String::from_utf8_lossy(&body));
    let nth = {
        let mut seen = c.seen.lock().unwrap();
        let n = seen.entry(key).or_default();
        *n += 1;
        *n
    };
    let bytes = if api && status.is_success() && nth % 2 == 1 && bytes.len() > 1 {
        *c.cut
            .lock()
            .unwrap()
            .entry(path.split('/').take(3).collect::<Vec<_>>().join("/"))
            .or_default() += 1;
        bytes.slice(..bytes.len() / 2)
    } else {
        bytes
    };
    resp_headers.remove(axum::http::header::CONTENT_LENGTH);
    resp_headers.remove(axum::http::header::TRANSFER_ENCODING);
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = resp_headers;
    resp
}

async fn start_cutter(upstream: String) -> (String, Arc<Cutter>) {
    let c = Arc::new(Cutter {
        upstream,
        http: reqwest::Client::new(),
        seen: Mutex::new(HashMap::new()),
        cut: Mutex::new(HashMap::new()),
    });
    let app = axum::Router::new().fallback(cutter).with_state(c.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_is_asked_for_again() {
    // The client alone: a createReport answer cut in half is asked for
    // again, with the policy's backoff, and the whole one is returned.
    let fake = Fake::start(Mode::Finite).await;
    let (base, cut) = start_cutter(fake.base.clone()).await;
    let client = ApiClient::new(
        Duration::from_secs(10),
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(20),
            cap: Duration::from_millis(100),
        },
    )
    .unwrap();
    let ep = Endpoint {
        account: "acme".into(),
        api: Api::SpApi,
        base_url: base.clone(),
        token_url: format!("{base}/auth/o2/token"),
        credentials: LwaCredentials {
            client_id: "amzn1.application-oa2-client.fake".into(),
            client_secret: Secret::new("secret".to_string()),
            refresh_token: Secret::new("Atzr|fake".to_string()),
        },
    };
    let spec = CallSpec::get("getInventorySummaries", "/fba/inventory/v1/summaries")
        .query("marketplaceIds", MARKETPLACE);
    let page: Value = client.call_json(&ep, &spec).await.unwrap();
    assert_eq!(
        page.pointer("/payload/inventorySummaries/0/sellerSku"),
        Some(&json!("SKU-A"))
    );
    assert_eq!(fake.calls("getInventorySummaries"), 2, "asked twice");
    assert_eq!(cut.cut.lock().unwrap().values().sum::<u64>(), 1);
    // A body of the wrong shape is not cut short: asking again is useless.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        reports: Vec<String>,
    }
    let err = client.call_json::<Wrong>(&ep, &spec).await.unwrap_err();
    assert!(matches!(err, ApiError::Decode { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_when_the_first_answer_of_every_call_is_cut_short() {
    let mut h = common::start(common::Opts::new("demo")).await;
    let (base, cut) = start_cutter(h.sim.base_url()).await;
    for a in &mut h.cfg.accounts {
        if let Some(sp) = a.sp_api.as_mut() {
            sp.endpoint = Some(base.clone());
        }
        if let Some(ads) = a.ads.as_mut() {
            ads.endpoint = Some(base.clone());
        }
    }
    // Report jobs start with createReport, Ads with listProfiles: neither
    // was asked again when its answer was cut short.
    let jobs = [
        JobName::SellerFeedback,
        JobName::AccountHealth,
        JobName::Inventory,
        JobName::Listings,
        JobName::Ads,
    ];
    let results = h.sync(&jobs).await;
    assert_eq!(results.len(), jobs.len(), "{results:?}");
    for r in &results {
        assert_eq!(r.status.as_str(), "ok", "{}: {}", r.job, r.message);
        assert!(r.rows > 0, "{}: wrote nothing ({})", r.job, r.message);
    }
    let cut = cut.cut.lock().unwrap().clone();
    for api in [
        "/reports/2021-06-30",
        "/v2/profiles",
        "/fba/inventory",
        "/listings/2021-08-01",
    ] {
        assert!(
            cut.get(api).copied().unwrap_or(0) > 0,
            "{api} never cut: {cut:?}"
        );
    }
    let failed = h.int("SELECT COUNT(*) FROM job_runs WHERE status != 'ok'");
    assert_eq!(failed, 0);
}

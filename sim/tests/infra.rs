//! The sim's infrastructure end to end over real HTTP on 127.0.0.1: LWA,
//! auth, rate limits, the clock, faults, 404s, `--write-config`, and the
//! strict schema helper itself.

mod common;

use common::{access_token, http, sp_get, spawn_frozen, tiny_scenario, Api, Spec};
use flywheel_sim::faults::{Fault, FaultSet};
use flywheel_sim::ratelimit::OPERATION_LIMITS;
use serde_json::{json, Value};

const PARTICIPATIONS: &str = "/sellers/v1/marketplaceParticipations";

// ---------------------------------------------------------------------------
// The schema helper

fn valid_participations() -> Value {
    json!({"payload": [{
        "marketplace": {"id": "ATVPDKIKX0DER", "name": "Amazon.com", "countryCode": "US",
                        "defaultCurrencyCode": "USD", "defaultLanguageCode": "en_US",
                        "domainName": "www.amazon.com"},
        "participation": {"isParticipating": true, "hasSuspendedListings": false},
        "storeName": "Store"
    }]})
}

#[test]
fn helper_accepts_a_valid_sellers_response() {
    if common::amazon_models::missing() {
        return;
    }
    let spec = Spec::sp("sellers.json");
    spec.assert_valid("getMarketplaceParticipations", 200, &valid_participations());
}

#[test]
fn helper_rejects_an_invented_field_anywhere() {
    if common::amazon_models::missing() {
        return;
    }
    let spec = Spec::sp("sellers.json");
    let mut body = valid_participations();
    body["payload"][0]["marketplace"]["inventedField"] = json!(1);
    let errors = spec.validate("getMarketplaceParticipations", 200, &body);
    assert!(!errors.is_empty(), "an invented nested field must fail");
    let mut body = valid_participations();
    body["extra"] = json!("x");
    assert!(!spec
        .validate("getMarketplaceParticipations", 200, &body)
        .is_empty());
}

#[test]
fn helper_rejects_missing_required_and_wrong_types() {
    if common::amazon_models::missing() {
        return;
    }
    let spec = Spec::sp("sellers.json");
    let mut body = valid_participations();
    body["payload"][0]
        .as_object_mut()
        .unwrap()
        .remove("storeName");
    assert!(!spec
        .validate("getMarketplaceParticipations", 200, &body)
        .is_empty());
    let mut body = valid_participations();
    body["payload"][0]["participation"]["isParticipating"] = json!("yes");
    assert!(!spec
        .validate("getMarketplaceParticipations", 200, &body)
        .is_empty());
}

#[test]
fn helper_reads_openapi3_yaml_and_handles_nullable() {
    if common::amazon_models::missing() {
        return;
    }
    let profiles = Spec::ads("Profiles_prod_3p.yaml");
    let good = json!([{"profileId": 1, "countryCode": "US", "currencyCode": "USD", "timezone": "America/Los_Angeles",
                       "accountInfo": {"marketplaceStringId": "ATVPDKIKX0DER", "id": "A1", "type": "seller", "name": "S"}}]);
    profiles.assert_valid("listProfiles", 200, &good);
    let mut bad = good.clone();
    bad[0]["accountInfo"]["nickname"] = json!("x");
    assert!(!profiles.validate("listProfiles", 200, &bad).is_empty());

    let reports = Spec::ads("OfflineReport_prod_3p.json");
    let schema = reports.response_schema("getAsyncReport", 200);
    let report = |failure: Value| {
        json!({"reportId": "r1", "status": "PENDING", "startDate": "2026-01-01", "endDate": "2026-01-31",
               "createdAt": "2026-02-01T00:00:00Z", "updatedAt": "2026-02-01T00:00:00Z",
               "failureReason": failure, "url": null, "fileSize": null, "generatedAt": null, "urlExpiresAt": null,
               "configuration": {"adProduct": "SPONSORED_PRODUCTS", "groupBy": ["campaign"], "columns": ["date"],
                                 "reportTypeId": "spCampaigns", "timeUnit": "DAILY", "format": "GZIP_JSON"}})
    };
    assert!(
        schema.to_string().contains("null"),
        "nullable became a null type"
    );
    reports.assert_valid("getAsyncReport", 200, &report(Value::Null));
    assert!(!reports
        .validate("getAsyncReport", 200, &report(json!(5)))
        .is_empty());
}

#[test]
fn helper_merges_all_of() {
    if common::amazon_models::missing() {
        return;
    }
    let defs = json!({
        "Base": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
    });
    let root = json!({"allOf": [{"$ref": "#/definitions/Base"}, {"properties": {"b": {"type": "integer"}}}]});
    let schema = common::strict_document(&root, defs.as_object().unwrap());
    let v = jsonschema::draft4::new(&schema).unwrap();
    assert!(v.is_valid(&json!({"a": "x", "b": 1})));
    assert!(
        !v.is_valid(&json!({"a": "x", "c": 1})),
        "merged allOf is closed"
    );
    assert!(!v.is_valid(&json!({"b": 1})), "required survives the merge");
}

#[test]
fn helper_lists_sandbox_requests() {
    if common::amazon_models::missing() {
        return;
    }
    let spec = Spec::sp("sellers.json");
    let cases = spec.sandbox_cases("getMarketplaceParticipations");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].status, 200);
    let req = cases[0].request(&spec);
    assert_eq!(
        (req.method.as_str(), req.path_and_query.as_str()),
        ("GET", PARTICIPATIONS)
    );

    let catalog = Spec::sp("catalogItems_2022-04-01.json");
    let cases = catalog.sandbox_cases("getCatalogItem");
    assert!(!cases.is_empty());
    let req = cases[0].request(&catalog);
    assert!(
        req.path_and_query.starts_with("/catalog/2022-04-01/items/"),
        "{}",
        req.path_and_query
    );
    assert!(
        !req.path_and_query.contains('{'),
        "path parameters filled: {}",
        req.path_and_query
    );
}

#[test]
fn rate_table_matches_the_models_usage_plans() {
    if common::amazon_models::missing() {
        return;
    }
    let dir = common::amazon_dir().join("sp-api/models");
    let mut documented = std::collections::HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let model: Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for item in model["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let (Some(id), Some(desc)) =
                    (op["operationId"].as_str(), op["description"].as_str())
                else {
                    continue;
                };
                if let Some(plan) = usage_plan(desc) {
                    documented.insert(id.to_owned(), plan);
                }
            }
        }
    }
    for (op, limit) in OPERATION_LIMITS {
        match documented.get(*op) {
            Some(&(rate, burst)) => {
                assert!(
                    !limit.assumed,
                    "{op} has a documented plan; do not mark it assumed"
                );
                assert_eq!((limit.rate, limit.burst), (rate, burst), "{op}");
            }
            None => assert!(
                limit.assumed,
                "{op}: no usage plan in the models, so it must be marked assumed"
            ),
        }
    }
}

/// The "| Rate | Burst |" row under "Usage Plan" in an operation description.
fn usage_plan(desc: &str) -> Option<(f64, u32)> {
    let after = &desc[desc.find("Rate (requests per second)")?..];
    after.lines().skip(2).find_map(|line| {
        let cells: Vec<&str> = line
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        match cells.as_slice() {
            [rate, burst, ..] => Some((rate.parse().ok()?, burst.parse().ok()?)),
            _ => None,
        }
    })
}

// ---------------------------------------------------------------------------
// SP-API: sellers, auth, rate limits

#[tokio::test]
async fn marketplace_participations_validate_strictly_and_carry_the_rate() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let (status, headers, body) = sp_get(&sim, &token, PARTICIPATIONS).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-amzn-ratelimit-limit"], "0.016");
    assert!(headers.contains_key("x-amzn-requestid"));
    Spec::sp("sellers.json").assert_valid("getMarketplaceParticipations", 200, &body);
    let payload = body["payload"].as_array().unwrap();
    assert!(!payload.is_empty());
    assert_eq!(
        payload[0]["marketplace"]["id"],
        sim.world.scenario().seller.marketplace_id
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn sandbox_examples_of_served_sellers_operations_get_valid_answers() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp("sellers.json");
    for case in spec.sandbox_cases("getMarketplaceParticipations") {
        let req = case.request(&spec);
        let (status, _, body) = sp_get(&sim, &token, &req.path_and_query).await;
        assert_eq!(status, case.status, "{req:?}: {body}");
        spec.assert_valid("getMarketplaceParticipations", status, &body);
    }
}

#[tokio::test]
async fn a_burst_past_the_documented_burst_gets_429_without_rate_header() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let limit = flywheel_sim::ratelimit::limit_for("getMarketplaceParticipations").unwrap();
    for i in 0..limit.burst {
        let (status, _, _) = sp_get(&sim, &token, PARTICIPATIONS).await;
        assert_eq!(status, 200, "call {i} is within the burst");
    }
    let (status, headers, body) = sp_get(&sim, &token, PARTICIPATIONS).await;
    assert_eq!(status, 429);
    assert!(
        !headers.contains_key("x-amzn-ratelimit-limit"),
        "no rate header on 429"
    );
    assert!(headers.contains_key("x-amzn-requestid"));
    assert_eq!(body["errors"][0]["code"], "QuotaExceeded");
    Spec::sp("sellers.json").assert_valid("getMarketplaceParticipations", 429, &body);

    // One token refills in 1 / 0.016 = 62.5 s of sim time.
    advance(&sim, "60s").await;
    assert_eq!(sp_get(&sim, &token, PARTICIPATIONS).await.0, 429);
    advance(&sim, "3s").await;
    assert_eq!(sp_get(&sim, &token, PARTICIPATIONS).await.0, 200);
    assert_eq!(sp_get(&sim, &token, PARTICIPATIONS).await.0, 429);
}

#[tokio::test]
async fn missing_invalid_and_expired_tokens_get_403() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let spec = Spec::sp("sellers.json");

    let resp = http()
        .get(format!("{}{PARTICIPATIONS}", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "Unauthorized");
    assert_eq!(
        body["errors"][0]["message"],
        "Access to requested resource is denied."
    );
    spec.assert_valid("getMarketplaceParticipations", 403, &body);

    let (status, _, body) = sp_get(&sim, "Atza|forged", PARTICIPATIONS).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["errors"][0]["details"],
        "The access token you provided is revoked, malformed or invalid."
    );

    let ads_token = access_token(&sim, Api::Ads).await;
    assert_eq!(
        sp_get(&sim, &ads_token, PARTICIPATIONS).await.0,
        403,
        "an Ads token is not an SP-API token"
    );

    let token = access_token(&sim, Api::Sp).await;
    advance(&sim, "59m").await;
    assert_eq!(
        sp_get(&sim, &token, PARTICIPATIONS).await.0,
        200,
        "still valid before expires_in"
    );
    advance(&sim, "1m").await;
    let (status, headers, body) = sp_get(&sim, &token, PARTICIPATIONS).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["errors"][0]["details"],
        "The access token you provided has expired."
    );
    assert!(!headers.contains_key("x-amzn-ratelimit-limit"));
}

// ---------------------------------------------------------------------------
// LWA

async fn token_request(sim: &flywheel_sim::RunningSim, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/auth/o2/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn lwa_refresh_grant_answers_and_errors_like_amazon() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let sp = sim.world.scenario().seller.sp.clone();
    let ok = [
        ("grant_type", "refresh_token"),
        ("refresh_token", sp.refresh_token.as_str()),
        ("client_id", sp.client_id.as_str()),
        ("client_secret", sp.client_secret.as_str()),
    ];
    let (status, body) = token_request(&sim, &ok).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["refresh_token"], sp.refresh_token.as_str());
    assert!(body["access_token"].as_str().unwrap().starts_with("Atza|"));

    let with = |k: &'static str, v: &'static str| {
        ok.iter()
            .map(|&(a, b)| if a == k { (a, v) } else { (a, b) })
            .collect::<Vec<_>>()
    };
    let (status, body) = token_request(&sim, &with("refresh_token", "Atzr|wrong")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(body["error_description"].is_string());
    let (status, body) = token_request(&sim, &with("client_secret", "wrong")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_request(
        &sim,
        &with("client_id", "amzn1.application-oa2-client.unknown"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_request(&sim, &with("grant_type", "password")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token_request(&sim, &ok[..3]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn authorization_code_works_once_and_expires() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let ads = sim.world.scenario().seller.ads.clone();
    let redirect = "https://localhost:8080/callback";
    let client = http();

    let consent = format!(
        "{}/_sim/consent?client_id={}&redirect_uri={}&state=xyz&scope=advertising%3A%3Acampaign_management",
        sim.base_url(),
        common::encode(&ads.client_id),
        common::encode(redirect)
    );
    let page = client.get(&consent).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let href = html
        .split("id=\"allow\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an Allow link")
        .replace("&amp;", "&");

    let get_code = || async {
        let allow = client
            .get(format!("{}{href}", sim.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(allow.status(), 302);
        let location = allow.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(redirect), "{location}");
        assert!(location.contains("state=xyz"), "{location}");
        location
            .split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned()
    };
    let exchange = |code: String| {
        let ads = ads.clone();
        let sim = &sim;
        async move {
            token_request(
                sim,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect),
                    ("client_id", ads.client_id.as_str()),
                    ("client_secret", ads.client_secret.as_str()),
                ],
            )
            .await
        }
    };

    let code = get_code().await;
    let (status, body) = exchange(code.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["refresh_token"], ads.refresh_token.as_str());
    let (status, body) = exchange(code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code is usable once"
    );

    let code = get_code().await;
    advance(&sim, "301s").await;
    let (status, body) = exchange(code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "codes live 5 minutes"
    );

    let bad = client
        .get(format!(
            "{}/_sim/consent?client_id=nobody&redirect_uri=x",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

// ---------------------------------------------------------------------------
// Ads auth (exercised through a probe route on the real state)

#[tokio::test]
async fn ads_headers_are_checked() {
    use axum::routing::get;
    use flywheel_sim::auth::{AdsCaller, AdsClient};

    let sim = spawn_frozen(tiny_scenario()).await;
    let app = axum::Router::new()
        .route(
            "/v2/profiles",
            get(|c: AdsClient| async move { c.client_id }),
        )
        .route(
            "/reporting/reports/x",
            get(|c: AdsCaller| async move { c.profile_id.to_string() }),
        )
        .with_state(sim.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let seller = sim.world.scenario().seller.clone();
    let token = access_token(&sim, Api::Ads).await;
    let sp_token = access_token(&sim, Api::Sp).await;
    let profile = seller.ads_profile_id.to_string();
    let call = |path: &'static str, headers: Vec<(&'static str, String)>| {
        let base = base.clone();
        async move {
            let mut req = http().get(format!("{base}{path}"));
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let bearer = |t: &str| ("Authorization", format!("Bearer {t}"));
    let client_id = (
        "Amazon-Advertising-API-ClientId",
        seller.ads.client_id.clone(),
    );
    let scope = |s: &str| ("Amazon-Advertising-API-Scope", s.to_owned());

    let (s, b) = call("/v2/profiles", vec![bearer(&token), client_id.clone()]).await;
    assert_eq!((s, b.as_str()), (200, seller.ads.client_id.as_str()));
    let (s, b) = call("/v2/profiles", vec![bearer(&token)]).await;
    assert_eq!(s, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["code"],
        "UNAUTHORIZED"
    );
    assert_eq!(
        call("/v2/profiles", vec![bearer(&sp_token), client_id.clone()])
            .await
            .0,
        401
    );
    assert_eq!(call("/v2/profiles", vec![client_id.clone()]).await.0, 401);

    let (s, b) = call(
        "/reporting/reports/x",
        vec![bearer(&token), client_id.clone(), scope(&profile)],
    )
    .await;
    assert_eq!((s, b.as_str()), (200, profile.as_str()));
    let (s, b) = call(
        "/reporting/reports/x",
        vec![bearer(&token), client_id.clone()],
    )
    .await;
    assert_eq!(s, 401);
    let body: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        body,
        json!({"code": "401", "detail": "Scope header is missing"}),
        "reporting error shape"
    );
    let (s, _) = call(
        "/reporting/reports/x",
        vec![bearer(&token), client_id.clone(), scope("42")],
    )
    .await;
    assert_eq!(s, 401);

    advance(&sim, "1h").await;
    assert_eq!(
        call("/v2/profiles", vec![bearer(&token), client_id])
            .await
            .0,
        401,
        "expired"
    );
    server.abort();
}

// ---------------------------------------------------------------------------
// Clock, 404s, faults, write-config

async fn advance(sim: &flywheel_sim::RunningSim, by: &str) -> Value {
    let resp = http()
        .post(format!("{}/_sim/advance?by={by}", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn sim_now_and_advance() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let now: Value = http()
        .get(format!("{}/_sim/now", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // `speed` lets a client pace its own waits in sim time (0 = frozen).
    assert_eq!(now, json!({"now": "2026-03-02T16:00:00Z", "speed": 0.0}));
    assert_eq!(
        advance(&sim, "24h").await,
        json!({"now": "2026-03-03T16:00:00Z"})
    );
    assert_eq!(
        advance(&sim, "7d").await,
        json!({"now": "2026-03-10T16:00:00Z"})
    );
    let bad = http()
        .post(format!("{}/_sim/advance?by=soon", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        sim.world.day0(),
        chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    );
}

/// `--day0` places the world apart from the clock: a harness starts the
/// clock days before day 0 and syncs up to it; the truth's world is the same.
#[tokio::test]
async fn day0_is_given_apart_from_the_clock() {
    let mut opts = flywheel_sim::SimOptions::new(tiny_scenario());
    opts.now = Some(common::test_now() - chrono::Duration::days(14));
    opts.day0 = Some(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    opts.speed = 0.0;
    let sim = flywheel_sim::spawn(opts).await.unwrap();
    assert_eq!(
        sim.world.day0(),
        chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    );
    assert_eq!(
        sim.clock.now(),
        common::test_now() - chrono::Duration::days(14)
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn running_clock_follows_speed() {
    let mut opts = flywheel_sim::SimOptions::new(tiny_scenario());
    opts.now = Some(common::test_now());
    opts.speed = 3600.0;
    let sim = flywheel_sim::spawn(opts).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let elapsed = sim.clock.now() - common::test_now();
    assert!(
        elapsed >= chrono::Duration::seconds(600),
        "200 ms at 3600x is at least 10 sim minutes: {elapsed}"
    );
    sim.shutdown().await.unwrap();
}

/// A client times `expires_in` on its own (wall) clock: at a high
/// `--speed` a token must still live the hour the sim says it does
/// (python-amazon-sp-api broke at `--speed 100` after 36 wall seconds).
/// At 36,000x, 300 ms of wall time is three hours of sim time.
#[tokio::test]
async fn access_tokens_live_their_expires_in_in_wall_time_at_any_speed() {
    let mut opts = flywheel_sim::SimOptions::new(tiny_scenario());
    opts.now = Some(common::test_now());
    opts.speed = 36_000.0;
    let sim = flywheel_sim::spawn(opts).await.unwrap();
    let (status, body) = token_request(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                &sim.world.scenario().seller.sp.refresh_token,
            ),
            ("client_id", &sim.world.scenario().seller.sp.client_id),
            (
                "client_secret",
                &sim.world.scenario().seller.sp.client_secret,
            ),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3600);
    let sp = body["access_token"].as_str().unwrap().to_owned();
    let ads = access_token(&sim, Api::Ads).await;
    let before = sim.clock.now();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        sim.clock.now() - before >= chrono::Duration::hours(2),
        "more than the token's hour of sim time passed"
    );
    let (status, _, body) = sp_get(&sim, &sp, PARTICIPATIONS).await;
    assert_eq!(
        status, 200,
        "an SP-API token well inside expires_in: {body}"
    );
    let ads_client = &sim.world.scenario().seller.ads.client_id;
    let resp = http()
        .get(format!("{}/v2/profiles", sim.base_url()))
        .header("Authorization", format!("Bearer {ads}"))
        .header("Amazon-Advertising-API-ClientId", ads_client)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "an Ads token well inside expires_in");
    // An advance still ages it: tests can jump past a token's life.
    advance(&sim, "1h").await;
    let (status, _, body) = sp_get(&sim, &sp, PARTICIPATIONS).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["errors"][0]["details"],
        "The access token you provided has expired."
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_routes_are_404_in_amazons_shape() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let (status, headers, body) = sp_get(&sim, "x", "/nope/v1/things").await;
    assert_eq!(status, 404);
    assert!(headers.contains_key("x-amzn-requestid"));
    assert_eq!(body["errors"][0]["code"], "NotFound");
    let (status, _, body) = sp_get(&sim, "x", "/reporting/nothing-here").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "404");
}

async fn spawn_with_faults(faults: FaultSet) -> flywheel_sim::RunningSim {
    let mut opts = flywheel_sim::SimOptions::new(tiny_scenario());
    opts.speed = 0.0;
    opts.now = Some(common::test_now());
    opts.faults = faults;
    flywheel_sim::spawn(opts).await.unwrap()
}

#[tokio::test]
async fn throttle_and_5xx_faults_hit_api_routes_only() {
    let sim = spawn_with_faults(FaultSet::none().with(Fault::Throttle, 1.0)).await;
    let token = access_token(&sim, Api::Sp).await;
    let (status, headers, body) = sp_get(&sim, &token, PARTICIPATIONS).await;
    assert_eq!(status, 429);
    assert!(!headers.contains_key("x-amzn-ratelimit-limit"));
    assert_eq!(body["errors"][0]["code"], "QuotaExceeded");
    let now = http()
        .get(format!("{}/_sim/now", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(now.status(), 200, "/_sim is never faulted");

    let sim = spawn_with_faults(FaultSet::parse("5xx=1").unwrap()).await;
    let status = http()
        .get(format!("{}{PARTICIPATIONS}", sim.base_url()))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert!(status == 500 || status == 503, "{status}");
}

#[tokio::test]
async fn truncate_fault_cuts_bodies() {
    let sim = spawn_with_faults(FaultSet::parse("truncate=1").unwrap()).await;
    let token = access_token(&sim, Api::Sp).await;
    let resp = http()
        .get(format!("{}{PARTICIPATIONS}", sim.base_url()))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    assert!(
        serde_json::from_slice::<Value>(&bytes).is_err(),
        "the body is cut short"
    );
}

#[tokio::test]
async fn credential_faults_break_lwa_for_good() {
    let sim = spawn_with_faults(FaultSet::parse("revoke").unwrap()).await;
    let sp = sim.world.scenario().seller.sp.clone();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", sp.refresh_token.as_str()),
        ("client_id", sp.client_id.as_str()),
        ("client_secret", sp.client_secret.as_str()),
    ];
    for _ in 0..2 {
        let (status, body) = token_request(&sim, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
    let sim = spawn_with_faults(FaultSet::parse("bad_client").unwrap()).await;
    let (status, body) = token_request(&sim, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn write_config_wires_flywheel_to_the_sim() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let dir = std::env::temp_dir().join(format!("flywheel-sim-infra-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("fw.toml");
    flywheel_sim::write_config::write_config(&path, &sim.worlds, &sim.base_url()).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let cfg: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let base = sim.base_url();
    assert_eq!(
        cfg["daemon"]["clock"].as_str(),
        Some(format!("{base}/_sim/now").as_str())
    );
    assert_eq!(
        cfg["daemon"]["database"].as_str(),
        Some(dir.join("flywheel.db").to_str().unwrap())
    );
    let account = &cfg["accounts"][0];
    let seller = &sim.world.scenario().seller;
    assert_eq!(
        account["seller_id"].as_str(),
        Some(seller.seller_id.as_str())
    );
    assert_eq!(account["sp_api"]["endpoint"].as_str(), Some(base.as_str()));
    assert_eq!(
        account["sp_api"]["token_url"].as_str(),
        Some(format!("{base}/auth/o2/token").as_str())
    );
    assert_eq!(
        account["ads"]["client_id"].as_str(),
        Some(seller.ads.client_id.as_str())
    );
    assert_eq!(cfg["email"]["transport"].as_str(), Some("file"));
    assert!(dir.join("mail").is_dir());
    let costs = std::fs::read_to_string(dir.join("costs.csv")).unwrap();
    assert!(costs.starts_with("sku,unit_cost,inbound_freight\n"));
    assert!(costs.contains("TINY-1,5.00,0.00"), "{costs}");
    let ratings = std::fs::read_to_string(dir.join("ratings.csv")).unwrap();
    assert!(
        ratings.starts_with("asin,rating,rating_count,date\n"),
        "{ratings}"
    );
    assert!(ratings.contains("B0TINY0001,4.4,"), "{ratings}");
    assert_eq!(
        cfg["ratings_file"].as_str(),
        Some(dir.join("ratings.csv").to_str().unwrap())
    );
    let overrides = cfg["overrides"].as_array().unwrap();
    assert!(overrides.iter().any(
        |o| o["sku"].as_str() == Some("TINY-2") && o["lead_time_days"].as_integer() == Some(12)
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sim_truth_endpoint_serves_the_truth_report() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let resp = http()
        .get(format!("{}/_sim/truth?at=2026-03-02", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body.is_object(), "{body}");
}

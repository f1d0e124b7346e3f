//! Login with Amazon: the token endpoint, the consent page that issues
//! authorization codes, and the store of issued access tokens.
//!
//! `POST /auth/o2/token` takes a form body (JSON is accepted too: Amazon's
//! official Java `LWAClient` posts JSON) and answers
//! `{"access_token","refresh_token","token_type":"bearer","expires_in":3600}`.
//! Grants:
//! - `refresh_token`: `client_id` + `client_secret` + `refresh_token` must be
//!   the scenario's SP-API or Ads credentials.
//! - `authorization_code`: `code` from `GET /_sim/consent` (valid 5 minutes,
//!   usable once, bound to its client and `redirect_uri`); the answer
//!   carries the scenario's refresh token for that client.
//!
//! Errors are LWA's `{"error","error_description"}`: `invalid_request` (400,
//! a missing parameter), `invalid_client` (401, unknown client or wrong
//! secret), `invalid_grant` (400, bad/revoked refresh token or bad code),
//! `unsupported_grant_type` (400). Faults `revoke` and `bad_client` break the
//! credentials for good once rolled; `5xx` answers `server_error`.
//!
//! Access tokens are opaque random strings that expire `expires_in` seconds
//! after issue on [`Clock::credential_now`](crate::clock::Clock::credential_now)
//! (wall time plus `/_sim/advance` jumps, not sped-up sim time: a client times
//! `expires_in` on its own clock, so at `--speed 100` a token dying on sim
//! time broke an unmodified client after 36 s). Authorization codes age on
//! the same clock. The store remembers which account and API each token
//! belongs to (an SP-API token is not an Ads token, and the other way round).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::json;

use crate::errors::{self, LwaError};
use crate::faults::Fault;
use crate::scenario::Credentials;
use crate::server::AppState;

/// Access-token lifetime (seconds of wall time plus advances), as LWA answers.
pub const EXPIRES_IN: i64 = 3600;
/// Authorization-code lifetime (seconds of wall time plus advances).
pub const CODE_LIFETIME: i64 = 300;

/// Which API a credential set or token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    SpApi,
    Ads,
}

/// What the store knows about an issued access token.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// The scenario's account name.
    pub account: String,
    pub api: Api,
    /// The LWA client the token was issued to.
    pub client_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct AuthCode {
    api: Api,
    client_id: String,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Inner {
    access: HashMap<String, AccessToken>,
    codes: HashMap<String, AuthCode>,
    /// APIs whose refresh token the `revoke` fault has revoked.
    revoked: HashSet<Api>,
    /// APIs whose client the `bad_client` fault has invalidated.
    bad_client: HashSet<Api>,
}

/// Issued access tokens and authorization codes.
#[derive(Debug, Default)]
pub struct TokenStore {
    inner: Mutex<Inner>,
}

impl TokenStore {
    /// An empty store.
    pub fn new() -> TokenStore {
        TokenStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Issue an access token valid [`EXPIRES_IN`] seconds from `now`.
    pub fn issue(&self, account: &str, api: Api, client_id: &str, now: DateTime<Utc>) -> String {
        let token = format!("Atza|{}", random_string(96));
        self.lock().access.insert(
            token.clone(),
            AccessToken {
                account: account.to_owned(),
                api,
                client_id: client_id.to_owned(),
                expires_at: now + chrono::Duration::seconds(EXPIRES_IN),
            },
        );
        token
    }

    /// Every access token issued so far (for tests that check a client
    /// never shows one).
    pub fn issued(&self) -> Vec<String> {
        self.lock().access.keys().cloned().collect()
    }

    /// What the store knows about a token (expired ones included: callers
    /// compare `expires_at` with [`crate::clock::Clock::credential_now`] to
    /// tell "expired" from "invalid").
    pub fn lookup(&self, token: &str) -> Option<AccessToken> {
        self.lock().access.get(token).cloned()
    }

    fn issue_code(
        &self,
        api: Api,
        client_id: &str,
        redirect_uri: &str,
        now: DateTime<Utc>,
    ) -> String {
        let code = format!("AN{}", random_string(18));
        self.lock().codes.insert(
            code.clone(),
            AuthCode {
                api,
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                expires_at: now + chrono::Duration::seconds(CODE_LIFETIME),
            },
        );
        code
    }

    /// Redeem a code: it is gone afterwards whether or not it was valid for
    /// this request (a code is usable once).
    fn redeem_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<Api> {
        let c = self.lock().codes.remove(code)?;
        let redirect_ok = redirect_uri.is_none_or(|r| r == c.redirect_uri);
        (c.client_id == client_id && redirect_ok && now < c.expires_at).then_some(c.api)
    }

    /// Mends credentials broken by `revoke` / `bad_client` when `set` no
    /// longer has that fault (`POST /_sim/faults`: the seller re-authorised).
    pub fn mend(&self, set: &crate::faults::FaultSet) {
        let mut inner = self.lock();
        if set.rate(Fault::Revoke).is_none() {
            inner.revoked.clear();
        }
        if set.rate(Fault::BadClient).is_none() {
            inner.bad_client.clear();
        }
    }

    /// Whether a sticky credential fault has hit this API; rolls the fault
    /// while it has not.
    fn broken(&self, state: &AppState, api: Api, fault: Fault) -> bool {
        let mut inner = self.lock();
        let set = match fault {
            Fault::Revoke => &mut inner.revoked,
            _ => &mut inner.bad_client,
        };
        if set.contains(&api) {
            return true;
        }
        if state.faults.roll(fault) {
            tracing::info!(?api, fault = %fault, "fault: credentials broken from now on");
            set.insert(api);
            return true;
        }
        false
    }
}

fn random_string(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// `POST /auth/o2/token`, `GET /_sim/consent`, `GET /_sim/consent/allow`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/o2/token", post(token))
        .route("/_sim/consent", get(consent_page))
        .route("/_sim/consent/allow", get(consent_allow))
}

/// The scenario's credentials for a client id.
fn credentials_for<'a>(state: &'a AppState, client_id: &str) -> Option<(Api, &'a Credentials)> {
    let seller = &state.seller_world().scenario().seller;
    [(Api::SpApi, &seller.sp), (Api::Ads, &seller.ads)]
        .into_iter()
        .find(|(_, c)| c.client_id == client_id)
}

async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let params = if is_json {
        match serde_json::from_slice::<HashMap<String, serde_json::Value>>(&body) {
            Ok(m) => m
                .into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect(),
            Err(_) => {
                return errors::lwa(
                    LwaError::InvalidRequest,
                    "The request body is not valid JSON",
                )
            }
        }
    } else {
        parse_form(&body)
    };
    if state.faults.roll(Fault::ServerError) {
        return errors::lwa(LwaError::ServerError, "Internal server error");
    }
    let now = state.clock.credential_now();
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    };
    let missing = |name: &str| {
        errors::lwa(
            LwaError::InvalidRequest,
            &format!("The request is missing a required parameter : {name}"),
        )
    };

    let Some(grant_type) = param("grant_type") else {
        return missing("grant_type");
    };
    if grant_type != "refresh_token" && grant_type != "authorization_code" {
        return errors::lwa(
            LwaError::UnsupportedGrantType,
            "The authorization grant type is not supported by the authorization server",
        );
    }
    let Some(client_id) = param("client_id") else {
        return missing("client_id");
    };
    let Some(client_secret) = param("client_secret") else {
        return missing("client_secret");
    };
    let client_failed = || errors::lwa(LwaError::InvalidClient, "Client authentication failed");
    let Some((api, creds)) = credentials_for(&state, client_id) else {
        return client_failed();
    };
    if creds.client_secret != client_secret || state.tokens.broken(&state, api, Fault::BadClient) {
        return client_failed();
    }

    match grant_type {
        "refresh_token" => {
            let Some(refresh_token) = param("refresh_token") else {
                return missing("refresh_token");
            };
            if refresh_token != creds.refresh_token
                || state.tokens.broken(&state, api, Fault::Revoke)
            {
                return errors::lwa(
                    LwaError::InvalidGrant,
                    "The request has an invalid grant parameter : refresh_token",
                );
            }
        }
        _ => {
            let Some(code) = param("code") else {
                return missing("code");
            };
            if state
                .tokens
                .redeem_code(code, client_id, param("redirect_uri"), now)
                != Some(api)
            {
                return errors::lwa(
                    LwaError::InvalidGrant,
                    "The request has an invalid parameter : code",
                );
            }
        }
    }

    let account = state.seller_world().scenario().seller.account.clone();
    let access_token = state.tokens.issue(&account, api, client_id, now);
    tracing::debug!(?api, grant_type, "lwa: token issued");
    Json(json!({
        "access_token": access_token,
        "refresh_token": creds.refresh_token,
        "token_type": "bearer",
        "expires_in": EXPIRES_IN,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct ConsentQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
}

/// The consent page a user would see at Amazon: names the app and the
/// seller, with an "Allow" link.
async fn consent_page(State(state): State<AppState>, Query(q): Query<ConsentQuery>) -> Response {
    let (client_id, redirect_uri) = match consent_params(&state, &q) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let seller = &state.seller_world().scenario().seller;
    let mut allow = format!(
        "/_sim/consent/allow?client_id={}&redirect_uri={}",
        encode(client_id),
        encode(redirect_uri)
    );
    if let Some(s) = &q.state {
        allow.push_str(&format!("&state={}", encode(s)));
    }
    if let Some(s) = &q.scope {
        allow.push_str(&format!("&scope={}", encode(s)));
    }
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Amazon (simulated): authorize app</title></head>\n\
         <body><h1>Authorize application</h1>\n\
         <p>Application <code>{}</code> asks to access the seller account <b>{}</b> ({}).</p>\n\
         <p><a id=\"allow\" href=\"{}\">Allow</a></p>\n</body></html>\n",
        escape_html(client_id),
        escape_html(&seller.account),
        escape_html(&seller.seller_id),
        escape_html(&allow),
    ))
    .into_response()
}

/// "Allow": issue a code and redirect to `redirect_uri` with it. Ads clients
/// get `code` + `scope` (the Ads flow); SP-API clients get `spapi_oauth_code`
/// + `selling_partner_id` (SP-API website authorization).
async fn consent_allow(State(state): State<AppState>, Query(q): Query<ConsentQuery>) -> Response {
    let (client_id, redirect_uri) = match consent_params(&state, &q) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let Some((api, _)) = credentials_for(&state, client_id) else {
        return consent_error("unknown client_id");
    };
    let code = state
        .tokens
        .issue_code(api, client_id, redirect_uri, state.clock.credential_now());
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut location = match api {
        Api::Ads => format!("{redirect_uri}{sep}code={}", encode(&code)),
        Api::SpApi => format!(
            "{redirect_uri}{sep}spapi_oauth_code={}&selling_partner_id={}",
            encode(&code),
            encode(&state.seller_world().scenario().seller.seller_id)
        ),
    };
    if let Some(s) = &q.scope {
        location.push_str(&format!("&scope={}", encode(s)));
    }
    if let Some(s) = &q.state {
        location.push_str(&format!("&state={}", encode(s)));
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn consent_params<'q>(
    state: &AppState,
    q: &'q ConsentQuery,
) -> Result<(&'q str, &'q str), Response> {
    let client_id = q.client_id.as_deref().unwrap_or_default();
    if credentials_for(state, client_id).is_none() {
        return Err(consent_error("unknown client_id"));
    }
    match q.redirect_uri.as_deref() {
        Some(r) if !r.is_empty() => Ok((client_id, r)),
        _ => Err(consent_error("missing redirect_uri")),
    }
}

fn consent_error(why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html>\n<html><body><h1>Authorization error</h1><p>{}</p></body></html>\n",
            escape_html(why)
        )),
    )
        .into_response()
}

/// Parse an `application/x-www-form-urlencoded` body (`+` is a space).
pub fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode a query value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trip() {
        let f = parse_form(
            b"grant_type=refresh_token&refresh_token=Atzr%7Cabc%2B1&client_id=a+b&x=%zz&empty=",
        );
        assert_eq!(f["grant_type"], "refresh_token");
        assert_eq!(f["refresh_token"], "Atzr|abc+1");
        assert_eq!(f["client_id"], "a b");
        assert_eq!(f["x"], "%zz");
        assert_eq!(f["empty"], "");
        assert_eq!(
            decode(&encode("https://x/cb?a=1&b=é")),
            "https://x/cb?a=1&b=é"
        );
        assert_eq!(decode("%4"), "%4");
    }

    #[test]
    fn tokens_remember_owner_and_expiry() {
        let store = TokenStore::new();
        let now = Utc::now();
        let t = store.issue("acme", Api::SpApi, "cid", now);
        assert!(t.starts_with("Atza|"));
        let info = store.lookup(&t).unwrap();
        assert_eq!(info.account, "acme");
        assert_eq!(info.api, Api::SpApi);
        assert_eq!(info.expires_at, now + chrono::Duration::seconds(3600));
        assert!(store.lookup("Atza|nope").is_none());
    }

    #[test]
    fn codes_are_single_use_bound_and_expire() {
        let store = TokenStore::new();
        let now = Utc::now();
        let c = store.issue_code(Api::Ads, "cid", "https://cb", now);
        assert_eq!(
            store.redeem_code(&c, "cid", Some("https://cb"), now),
            Some(Api::Ads)
        );
        assert_eq!(
            store.redeem_code(&c, "cid", Some("https://cb"), now),
            None,
            "second use"
        );
        let c = store.issue_code(Api::Ads, "cid", "https://cb", now);
        assert_eq!(
            store.redeem_code(&c, "other", Some("https://cb"), now),
            None,
            "other client"
        );
        let c = store.issue_code(Api::Ads, "cid", "https://cb", now);
        assert_eq!(
            store.redeem_code(&c, "cid", Some("https://evil"), now),
            None,
            "other redirect"
        );
        let c = store.issue_code(Api::Ads, "cid", "https://cb", now);
        let late = now + chrono::Duration::seconds(CODE_LIFETIME);
        assert_eq!(store.redeem_code(&c, "cid", None, late), None, "expired");
    }
}

//! Login with Amazon (LWA): the refresh-token grant that turns a seller's
//! long-lived refresh token into a one-hour access token, for the SP-API
//! and the Ads API alike.
//!
//! One cache entry per (client id, refresh token); a token is refreshed 60 s
//! before it expires (as Amazon's own client does) and dropped when an API
//! rejects it, so the next call fetches a fresh one. `invalid_grant` and
//! `invalid_client` are typed and never retried: they mean a person must
//! act (re-authorize, or rotate the client secret).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::{LwaCredentials, Secret};

/// Refresh this long before the token's stated expiry.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LwaError {
    #[error("LWA refused the refresh token (invalid_grant: {description}): it was revoked or is wrong; re-authorize the app and update refresh_token")]
    InvalidGrant { description: String },
    #[error("LWA refused the client (invalid_client: {description}): check client_id and client_secret (Amazon rotates client secrets every 180 days)")]
    InvalidClient { description: String },
    #[error("LWA refused the request ({status} {code}: {description})")]
    Rejected {
        status: u16,
        code: String,
        description: String,
    },
    #[error("LWA answered {status}; retrying later")]
    Transient { status: u16 },
    #[error("LWA token endpoint unreachable: {0}")]
    Network(String),
    #[error("LWA answer unreadable: {0}")]
    Decode(String),
}

impl LwaError {
    /// Credentials problems a person must fix (the `credentials` rule alerts on them).
    pub fn is_credentials_problem(&self) -> bool {
        matches!(
            self,
            LwaError::InvalidGrant { .. } | LwaError::InvalidClient { .. }
        )
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Classifies the token endpoint's answer (pure).
fn parse_answer(status: u16, body: &[u8]) -> Result<(Secret, Duration), LwaError> {
    if (200..300).contains(&status) {
        let t: TokenResponse =
            serde_json::from_slice(body).map_err(|e| LwaError::Decode(e.to_string()))?;
        return Ok((
            Secret::new(t.access_token),
            Duration::from_secs(t.expires_in),
        ));
    }
    if status >= 500 || status == 429 || status == 408 {
        return Err(LwaError::Transient { status });
    }
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(e) if e.error == "invalid_grant" => Err(LwaError::InvalidGrant {
            description: e.error_description,
        }),
        Ok(e) if e.error == "invalid_client" => Err(LwaError::InvalidClient {
            description: e.error_description,
        }),
        Ok(e) if e.error == "server_error" || e.error == "temporarily_unavailable" => {
            Err(LwaError::Transient { status })
        }
        Ok(e) => Err(LwaError::Rejected {
            status,
            code: e.error,
            description: e.error_description,
        }),
        Err(_) => Err(LwaError::Rejected {
            status,
            code: "unknown".into(),
            description: String::from_utf8_lossy(body).chars().take(200).collect(),
        }),
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    token_url: String,
    client_id: String,
    /// A hash, so the map's keys hold no second copy of the refresh token.
    refresh_token: u64,
}

impl CacheKey {
    fn new(token_url: &str, creds: &LwaCredentials) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        creds.refresh_token.expose().hash(&mut h);
        CacheKey {
            token_url: token_url.to_string(),
            client_id: creds.client_id.clone(),
            refresh_token: h.finish(),
        }
    }
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// The LWA client with its token cache. Share one per process.
pub struct LwaClient {
    http: reqwest::Client,
    cache: Mutex<HashMap<CacheKey, Cached>>,
}

impl LwaClient {
    pub fn new(http: reqwest::Client) -> Self {
        LwaClient {
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A valid access token for `creds`, from the cache or freshly fetched.
    /// The cache lock is held across the refresh so concurrent callers wait
    /// for one refresh instead of each making their own.
    pub async fn access_token(
        &self,
        token_url: &str,
        creds: &LwaCredentials,
        now: Instant,
    ) -> Result<Secret, LwaError> {
        let key = CacheKey::new(token_url, creds);
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(&key) {
            if now < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        let (token, expires_in) = self.fetch(token_url, creds).await?;
        cache.insert(
            key,
            Cached {
                token: token.clone(),
                refresh_at: now + expires_in.saturating_sub(EXPIRY_MARGIN),
            },
        );
        Ok(token)
    }

    /// Forgets the cached token (an API said it expired or is invalid).
    pub async fn invalidate(&self, token_url: &str, creds: &LwaCredentials) {
        self.cache
            .lock()
            .await
            .remove(&CacheKey::new(token_url, creds));
    }

    async fn fetch(
        &self,
        token_url: &str,
        creds: &LwaCredentials,
    ) -> Result<(Secret, Duration), LwaError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", creds.refresh_token.expose()),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose()),
        ];
        let resp = self
            .http
            .post(token_url)
            .form(&form)
            .send()
            .await
            // Without the URL: reqwest errors can echo it, and the form is never shown.
            .map_err(|e| LwaError::Network(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| LwaError::Network(e.without_url().to_string()))?;
        tracing::debug!(status, "LWA token endpoint answered");
        parse_answer(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        let ok = parse_answer(
            200,
            br#"{"access_token":"Atza|abc","refresh_token":"Atzr|x","token_type":"bearer","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(ok.0.expose(), "Atza|abc");
        assert_eq!(ok.1, Duration::from_secs(3600));
        let cases: &[(u16, &str, LwaError)] = &[
            (
                400,
                r#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}"#,
                LwaError::InvalidGrant {
                    description: "The request has an invalid grant parameter : refresh_token"
                        .into(),
                },
            ),
            (
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
                LwaError::InvalidClient {
                    description: "Client authentication failed".into(),
                },
            ),
            (500, "", LwaError::Transient { status: 500 }),
            (
                400,
                r#"{"error":"server_error","error_description":"x"}"#,
                LwaError::Transient { status: 400 },
            ),
            (
                400,
                r#"{"error":"unsupported_grant_type","error_description":"nope"}"#,
                LwaError::Rejected {
                    status: 400,
                    code: "unsupported_grant_type".into(),
                    description: "nope".into(),
                },
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(&parse_answer(*status, body.as_bytes()).unwrap_err(), want);
        }
        assert!(LwaError::InvalidGrant {
            description: String::new()
        }
        .is_credentials_problem());
        assert!(!LwaError::Transient { status: 500 }.is_credentials_problem());
    }
}

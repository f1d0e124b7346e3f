//! The Ads API's authorization-code grant: the Login with Amazon consent
//! URL, the code the browser comes back with, and its exchange for a
//! refresh token at the account's LWA token URL.

use std::io::{BufRead, Write};

use rand::distr::{Alphanumeric, SampleString};

use super::{prompt, refusal_hint, write_out, AuthError, ADS_SCOPE, CODE_LIFETIME_MINUTES};
use crate::amazon::http::Api;
use crate::config::{LwaCredentials, Secret};
use crate::model::marketplace::Region;

/// Amazon's consent ("authorization grant") page of a region (Ads
/// REFERENCE §2), or a simulated marketplace's when the token URL is not
/// one of Amazon's.
pub fn default_consent_url(region: Region, token_url: Option<&str>) -> String {
    let amazon = [
        "https://api.amazon.com",
        "https://api.amazon.co.uk",
        "https://api.amazon.co.jp",
    ];
    if let Some(u) = token_url {
        if !amazon.iter().any(|a| u.starts_with(a)) {
            if let Ok(mut url) = reqwest::Url::parse(u) {
                url.set_path("/_sim/consent");
                url.set_query(None);
                return url.to_string();
            }
        }
    }
    match region {
        Region::Na => "https://www.amazon.com/ap/oa",
        Region::Eu => "https://eu.account.amazon.com/ap/oa",
        Region::Fe => "https://apac.account.amazon.com/ap/oa",
    }
    .to_string()
}

/// The consent URL with the Ads grant's query (pure).
pub fn consent_url(
    base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
) -> Result<String, String> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| format!("--consent-url \"{base}\" is not a URL: {e}"))?;
    reqwest::Url::parse(redirect_uri)
        .map_err(|e| format!("--redirect-uri \"{redirect_uri}\" is not a URL: {e}"))?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("scope", ADS_SCOPE)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state);
    Ok(url.to_string())
}

fn ads_instructions(account: &str, url: &str, redirect_uri: &str, consent: &str) -> String {
    let sim_note = if consent.contains("/_sim/consent") {
        "   (token_url is not Amazon's, so this is a simulated marketplace's consent page;\n    pass --consent-url to use another.)\n"
    } else {
        ""
    };
    format!(
        "Connecting account \"{account}\" to the Amazon Ads API.\n\n\
         1. Open this address in a browser, signed in as a user of the advertising account:\n\n   {url}\n\n{sim_note}\
         2. Choose Allow. Amazon sends the browser to {redirect_uri}?code=...: copy the code\n   \
            (or the whole address) from the address bar. That return URL must be one of the\n   \
            \"Allowed Return URLs\" of your Login with Amazon security profile (see --redirect-uri).\n\
         3. Paste it here and press Enter. The code is valid for {CODE_LIFETIME_MINUTES} minutes and works once.\n\n"
    )
}

/// The authorization code from what the user pasted: the code itself, or
/// the address the browser was sent to (pure). `state` is this run's: an
/// address carrying another state came from another run.
pub fn parse_ads_code(pasted: &str, state: &str) -> Result<String, String> {
    let pasted = pasted.trim().trim_matches(['"', '\'']);
    let code = if pasted.contains("://") || pasted.contains('=') {
        let url = if pasted.contains("://") {
            reqwest::Url::parse(pasted)
        } else {
            reqwest::Url::parse(&format!("http://x/?{}", pasted.trim_start_matches('?')))
        }
        .map_err(|_| "that is neither an authorization code nor the address the browser was sent to: paste the code after `code=` in the address bar".to_string())?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(e) = param("error") {
            return Err(format!(
                "Amazon sent the browser back with an error ({e}: {}): {}",
                param("error_description").unwrap_or_default(),
                refusal_hint(Api::Ads, &e)
            ));
        }
        if param("spapi_oauth_code").is_some() {
            return Err("that address carries an SP-API authorization (spapi_oauth_code), not an Ads one: use the Ads app's consent URL printed above".into());
        }
        if let Some(s) = param("state") {
            if s != state {
                return Err("that address comes from another `flywheel auth ads` run (its state does not match this one's): open the URL printed above and paste the new address".into());
            }
        }
        param("code").ok_or_else(|| {
            "that address has no `code=`: after choosing Allow, paste the address the browser went to".to_string()
        })?
    } else {
        pasted.to_string()
    };
    check_ads_code(&code)?;
    Ok(code)
}

/// LWA authorization codes are short alphanumeric strings starting `AN`
/// (Amazon's own example is `ANdNAVhyhqirUelHGEHA`; the simulated
/// marketplace issues the same shape). Tokens pasted by mistake are named.
fn check_ads_code(code: &str) -> Result<(), String> {
    if code.is_empty() {
        return Err("the authorization code is empty: paste the value after `code=`".into());
    }
    if code.starts_with("Atzr|") {
        return Err("that is a refresh token (Atzr|...), not an authorization code: if it is the Ads API's, put it in the config as refresh_token_file and run `flywheel doctor`".into());
    }
    if code.starts_with("Atza|") {
        return Err("that is an access token (Atza|...), not an authorization code: paste the value after `code=` in the address the browser was sent to".into());
    }
    if !code.starts_with("AN")
        || code.len() < 10
        || code.len() > 128
        || !code.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err("that does not look like an authorization code (letters and digits, starting with `AN`): paste the value after `code=` in the address the browser was sent to".into());
    }
    Ok(())
}

/// What the Ads authorization-code grant needs.
pub(super) struct AdsGrant<'a> {
    pub(super) account: &'a str,
    /// The consent page (without the query).
    pub(super) consent: &'a str,
    pub(super) redirect_uri: &'a str,
    pub(super) token_url: &'a str,
    pub(super) creds: &'a LwaCredentials,
}

/// Prints the consent URL, reads the code (or the address the browser was
/// sent to), and exchanges it for the refresh token.
pub(super) async fn obtain_ads_token(
    grant: &AdsGrant<'_>,
    http: &reqwest::Client,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Secret, AuthError> {
    // Ties the pasted address to this run (OAuth's CSRF guard).
    let state = Alphanumeric.sample_string(&mut rand::rng(), 16);
    let url = consent_url(
        grant.consent,
        &grant.creds.client_id,
        grant.redirect_uri,
        &state,
    )
    .map_err(AuthError::Usage)?;
    write_out(
        out,
        &ads_instructions(grant.account, &url, grant.redirect_uri, grant.consent),
    )?;
    let pasted = prompt(input, out, "authorization code: ", "the authorization code")?;
    let code = parse_ads_code(&pasted, &state).map_err(AuthError::Input)?;
    write_out(
        out,
        &format!("exchanging the code at {} ...\n", grant.token_url),
    )?;
    exchange_code(
        http,
        grant.token_url,
        grant.creds,
        &code,
        grant.redirect_uri,
    )
    .await
}

/// The LWA answer to a token request, classified (pure).
fn classify_token_answer(
    operation: &'static str,
    api: Api,
    status: u16,
    body: &[u8],
) -> Result<Secret, AuthError> {
    #[derive(serde::Deserialize)]
    struct Tokens {
        refresh_token: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    if (200..300).contains(&status) {
        let t: Tokens = serde_json::from_slice(body).map_err(|e| AuthError::Decode {
            operation,
            message: e.to_string(),
        })?;
        return match t.refresh_token {
            Some(r) if r.starts_with("Atzr|") => Ok(Secret::new(r)),
            _ => Err(AuthError::Decode {
                operation,
                message: "no refresh_token (Atzr|...) in the answer".into(),
            }),
        };
    }
    match serde_json::from_slice::<Refusal>(body) {
        Ok(r) if r.error == "server_error" || r.error == "temporarily_unavailable" => {
            Err(AuthError::Transient {
                operation,
                api,
                status,
            })
        }
        Ok(r) => Err(AuthError::Refused {
            operation,
            api,
            error: r.error,
            description: r.error_description,
        }),
        Err(_) if status >= 500 || status == 429 || status == 408 => Err(AuthError::Transient {
            operation,
            api,
            status,
        }),
        Err(_) => Err(AuthError::Refused {
            operation,
            api,
            error: format!("HTTP {status}"),
            description: String::from_utf8_lossy(body).chars().take(200).collect(),
        }),
    }
}

/// `grant_type=authorization_code` at the token URL: the Ads refresh token.
/// Not retried: a code works once, so a retry after a lost answer would
/// only turn a server error into a confusing `invalid_grant`.
async fn exchange_code(
    http: &reqwest::Client,
    token_url: &str,
    creds: &LwaCredentials,
    code: &str,
    redirect_uri: &str,
) -> Result<Secret, AuthError> {
    const OP: &str = "exchanging the authorization code";
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", creds.client_id.as_str()),
        ("client_secret", creds.client_secret.expose()),
    ];
    let unreachable = |e: reqwest::Error| AuthError::Unreachable {
        operation: OP,
        // Without the URL: the form is never shown.
        message: e.without_url().to_string(),
    };
    let resp = http
        .post(token_url)
        .form(&form)
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(unreachable)?;
    tracing::debug!(status, "LWA token endpoint answered the code exchange");
    classify_token_answer(OP, Api::Ads, status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_url_carries_the_ads_grant() {
        let u = consent_url(
            "https://www.amazon.com/ap/oa",
            "amzn1.application-oa2-client.abc",
            "https://amazon.com",
            "st4te",
        )
        .unwrap();
        assert_eq!(
            u,
            "https://www.amazon.com/ap/oa?client_id=amzn1.application-oa2-client.abc&scope=advertising%3A%3Acampaign_management&response_type=code&redirect_uri=https%3A%2F%2Famazon.com&state=st4te"
        );
        assert!(consent_url("nope", "c", "https://amazon.com", "s").is_err());
        assert!(consent_url("https://x/ap/oa", "c", "amazon.com", "s").is_err());
    }

    #[test]
    fn consent_page_follows_region_and_token_url() {
        let cases: &[(Region, Option<&str>, &str)] = &[
            (Region::Na, None, "https://www.amazon.com/ap/oa"),
            (Region::Eu, None, "https://eu.account.amazon.com/ap/oa"),
            (Region::Fe, None, "https://apac.account.amazon.com/ap/oa"),
            (
                Region::Eu,
                Some("https://api.amazon.co.uk/auth/o2/token"),
                "https://eu.account.amazon.com/ap/oa",
            ),
            (
                Region::Na,
                Some("http://127.0.0.1:8700/auth/o2/token"),
                "http://127.0.0.1:8700/_sim/consent",
            ),
        ];
        for (region, token_url, want) in cases {
            assert_eq!(default_consent_url(*region, *token_url), *want);
        }
    }

    #[test]
    fn pasted_codes_are_checked() {
        let ok = "ANdNAVhyhqirUelHGEHA";
        let cases: &[(&str, Result<&str, &str>)] = &[
            (ok, Ok(ok)),
            ("  ANdNAVhyhqirUelHGEHA \n", Ok(ok)),
            (
                "https://amazon.com/?code=ANdNAVhyhqirUelHGEHA&scope=advertising%3A%3Acampaign_management&state=S",
                Ok(ok),
            ),
            ("code=ANdNAVhyhqirUelHGEHA&state=S", Ok(ok)),
            ("https://amazon.com/?code=ANdNAVhyhqirUelHGEHA", Ok(ok)),
            ("", Err("empty")),
            ("Atzr|IwEBIabc", Err("refresh token")),
            ("Atza|IwEBIabc", Err("access token")),
            ("hello world", Err("does not look like an authorization code")),
            ("XYdNAVhyhqirUelHGEHA", Err("starting with `AN`")),
            (
                "https://amazon.com/?code=ANdNAVhyhqirUelHGEHA&state=OTHER",
                Err("another `flywheel auth ads` run"),
            ),
            (
                "https://amazon.com/?error=access_denied&error_description=User+denied&state=S",
                Err("consent was declined"),
            ),
            ("https://amazon.com/?scope=x&state=S", Err("no `code=`")),
            (
                "https://x/cb?spapi_oauth_code=RHxsy&selling_partner_id=A1&state=S",
                Err("SP-API authorization"),
            ),
        ];
        for (pasted, want) in cases {
            match (parse_ads_code(pasted, "S"), want) {
                (Ok(got), Ok(w)) => assert_eq!(&got, w, "{pasted:?}"),
                (Err(got), Err(w)) => assert!(got.contains(w), "{pasted:?}: {got}"),
                (got, want) => panic!("{pasted:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn token_answers_are_classified_with_what_to_do() {
        const OP: &str = "exchanging the authorization code";
        let ok = classify_token_answer(
            OP,
            Api::Ads,
            200,
            br#"{"access_token":"Atza|a","refresh_token":"Atzr|r","token_type":"bearer","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(ok.expose(), "Atzr|r");
        let err = classify_token_answer(
            OP,
            Api::Ads,
            400,
            br#"{"error":"invalid_grant","error_description":"The request has an invalid parameter : code"}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "exchanging the authorization code: LWA refused it (invalid_grant: The request has an invalid parameter : code): the code expired or was already used — codes are valid 5 minutes; run auth again (the --redirect-uri must also be the one the consent URL used)"
        );
        let err = classify_token_answer(
            OP,
            Api::Ads,
            401,
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("check client_id and client_secret in [accounts.ads]"),
            "{err}"
        );
        for (status, body) in [(500, &b""[..]), (503, br#"{"error":"server_error"}"#)] {
            let e = classify_token_answer(OP, Api::Ads, status, body).unwrap_err();
            assert!(matches!(e, AuthError::Transient { .. }), "{e:?}");
        }
        let e =
            classify_token_answer(OP, Api::Ads, 200, br#"{"access_token":"Atza|a"}"#).unwrap_err();
        assert!(matches!(e, AuthError::Decode { .. }), "{e:?}");
    }
}

//! `flywheel auth ads|sp` against the simulated marketplace: the Ads
//! authorization-code exchange (with a code obtained from the sim's consent
//! page as a browser would), the SP-API refresh-token check, where the
//! token is stored and with which mode, and the doctor run that follows.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use flywheel::amazon::lwa::LwaClient;
use flywheel::cmd::auth::{self, AdsArgs, AuthArgs, AuthCommand, AuthError, CommonArgs, SpArgs};
use flywheel::config::{Config, Env, LwaCredentials, Secret};

const SCENARIO: &str = r#"
name = "auth"
history_days = 7

[[products]]
sku = "AUTH-1"
asin = "B0AUTH0001"
title = "Token tester"
price = 10.0
cogs = 3.0
"#;

/// Where the consent page sends the browser (any URL: the sim only checks
/// that the exchange names the same one).
const REDIRECT: &str = "https://localhost/flywheel-callback";

/// A sim at real speed (codes live 5 minutes of sim time) and its config.
async fn start() -> common::Harness {
    let mut opts = common::Opts::new(SCENARIO);
    opts.speed = 1.0;
    common::start(opts).await
}

/// Rewrites one API table of the harness's config: `refresh_token` out,
/// `with` in (`None`: no refresh token key at all).
fn rewrite_token_key(h: &common::Harness, table: &str, with: Option<(&str, &str)>) {
    let text = std::fs::read_to_string(&h.config_path).unwrap();
    let mut doc: toml::Table = toml::from_str(&text).unwrap();
    let t = doc["accounts"].as_array_mut().unwrap()[0]
        .get_mut(table)
        .unwrap()
        .as_table_mut()
        .unwrap();
    t.remove("refresh_token");
    if let Some((k, v)) = with {
        t.insert(k.into(), toml::Value::String(v.into()));
    }
    std::fs::write(&h.config_path, toml::to_string(&doc).unwrap()).unwrap();
}

fn account(h: &common::Harness) -> String {
    h.cfg.accounts[0].name.clone()
}

fn ads_args(h: &common::Harness, print_token: bool) -> AuthArgs {
    AuthArgs {
        api: AuthCommand::Ads(AdsArgs {
            common: CommonArgs {
                account: Some(account(h)),
                print_token,
                no_doctor: false,
            },
            redirect_uri: REDIRECT.into(),
            consent_url: None,
        }),
    }
}

fn sp_args(h: &common::Harness) -> AuthArgs {
    AuthArgs {
        api: AuthCommand::Sp(SpArgs {
            common: CommonArgs {
                account: Some(account(h)),
                print_token: false,
                no_doctor: false,
            },
        }),
    }
}

/// Runs auth with `stdin` piped in; returns the outcome and what it printed.
async fn run_auth(
    h: &common::Harness,
    args: &AuthArgs,
    stdin: &str,
) -> (Result<auth::Outcome, AuthError>, String) {
    run_auth_in(h, &Env::default(), args, stdin).await
}

async fn run_auth_in(
    h: &common::Harness,
    env: &Env,
    args: &AuthArgs,
    stdin: &str,
) -> (Result<auth::Outcome, AuthError>, String) {
    let mut out = Vec::new();
    let mut input = stdin.as_bytes();
    let r = auth::run(&h.config_path, env, args, &mut input, &mut out).await;
    (r, String::from_utf8(out).unwrap())
}

/// What a browser does: open the consent page, follow "Allow", and return
/// the address it is redirected to (`REDIRECT?code=...`).
async fn browser_consent(h: &common::Harness, url: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200, "{url}");
    let html = page.text().await.unwrap();
    let allow = html
        .split("id=\"allow\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an Allow link")
        .replace("&amp;", "&");
    let answer = browser
        .get(format!("{}{allow}", h.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    location
}

/// A code from the sim's consent page, for the Ads client of the config.
async fn code_from_consent_page(h: &common::Harness) -> String {
    let ads = &h.sim.world.scenario().seller.ads;
    let base = auth::default_consent_url(
        h.cfg.accounts[0].region(),
        h.cfg.accounts[0].ads.as_ref().unwrap().token_url.as_deref(),
    );
    let url = auth::consent_url(&base, &ads.client_id, REDIRECT, "st4te").unwrap();
    let location = browser_consent(h, &url).await;
    reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect")
}

/// Whether the sim's LWA accepts `refresh_token` for the API's client.
async fn sim_accepts(h: &common::Harness, table: &str, refresh_token: &str) -> bool {
    let a = &h.cfg.accounts[0];
    let (creds, token_url) = match table {
        "ads" => {
            let s = a.ads.as_ref().unwrap();
            (s.credentials.clone().unwrap(), s.token_url.clone().unwrap())
        }
        _ => {
            let s = a.sp_api.as_ref().unwrap();
            (s.credentials.clone().unwrap(), s.token_url.clone().unwrap())
        }
    };
    let creds = LwaCredentials {
        refresh_token: Secret::new(refresh_token),
        ..creds
    };
    let lwa = LwaClient::new(reqwest::Client::new());
    lwa.access_token(&token_url, &creds, Instant::now())
        .await
        .is_ok()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ads_code_is_exchanged_and_the_token_stored_where_the_config_reads_it() {
    let h = start().await;
    // The config names a token file that does not exist yet (relative to the
    // config's directory, in a directory that does not exist either).
    rewrite_token_key(&h, "ads", Some(("refresh_token_file", "secrets/ads.token")));
    assert!(Config::load(&h.config_path, &Env::default()).is_err());
    let token_file = h.dir.path().join("secrets/ads.token");

    let code = code_from_consent_page(&h).await;
    let (r, out) = run_auth(&h, &ads_args(&h, false), &format!("  {code}  \n")).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{out}"));

    // The consent URL it printed is the Ads grant on the sim's consent page.
    assert!(
        out.contains("/_sim/consent?client_id=amzn1.application-oa2-client."),
        "{out}"
    );
    assert!(
        out.contains("scope=advertising%3A%3Acampaign_management"),
        "{out}"
    );
    assert!(out.contains("response_type=code"), "{out}");
    assert!(out.contains("valid for 5 minutes"), "{out}");

    assert_eq!(outcome.token_file, token_file);
    assert_eq!(
        outcome.config_line, None,
        "the config already reads the file"
    );
    assert_eq!(mode(&token_file), 0o600);
    let stored = std::fs::read_to_string(&token_file).unwrap();
    let stored = stored.trim_end();
    assert!(stored.starts_with("Atzr|"), "a refresh token");
    assert!(sim_accepts(&h, "ads", stored).await, "the sim accepts it");
    assert!(
        !out.contains(stored),
        "token printed without --print-token:\n{out}"
    );

    let cfg = Config::load(&h.config_path, &Env::default()).expect("the config now loads");
    let creds = cfg.accounts[0]
        .ads
        .as_ref()
        .unwrap()
        .credentials
        .as_ref()
        .unwrap();
    assert_eq!(creds.refresh_token.expose(), stored);

    // Doctor ran, with the new token.
    let (report, healthy) = outcome.doctor.expect("doctor ran");
    assert!(
        out.contains(&format!(
            "doctor (account {}, with the new token):",
            account(&h)
        )),
        "{out}"
    );
    assert!(report.contains("Ads API credentials      ok"), "{report}");
    assert!(healthy, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_reused_code_is_refused_and_nothing_is_written() {
    let h = start().await;
    rewrite_token_key(&h, "ads", Some(("refresh_token_file", "ads.token")));
    let token_file = h.dir.path().join("ads.token");

    // Expired: 6 minutes pass between consent and exchange.
    let code = code_from_consent_page(&h).await;
    h.advance("6m").await;
    let (r, out) = run_auth(&h, &ads_args(&h, false), &code).await;
    let err = r.expect_err("an expired code").to_string();
    assert!(
        err.starts_with("exchanging the authorization code: LWA refused it (invalid_grant"),
        "{err}"
    );
    assert!(
        err.contains(
            "the code expired or was already used — codes are valid 5 minutes; run auth again"
        ),
        "{err}"
    );
    assert!(!err.contains(&code), "the code in the message: {err}");
    assert!(!token_file.exists(), "{out}");

    // Reused: the address pasted a second time.
    let code = code_from_consent_page(&h).await;
    let pasted = format!("{REDIRECT}?code={code}&scope=advertising%3A%3Acampaign_management");
    let (r, out) = run_auth(&h, &ads_args(&h, true), &pasted).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    let stored = std::fs::read_to_string(&outcome.token_file).unwrap();
    assert!(
        out.contains(&format!("refresh token: {}", stored.trim_end())),
        "--print-token shows it:\n{out}"
    );
    std::fs::remove_file(&token_file).unwrap();
    let (r, _) = run_auth(&h, &ads_args(&h, false), &pasted).await;
    let err = r.expect_err("a used code").to_string();
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(err.contains("already used"), "{err}");
    assert!(!token_file.exists());

    // Not a code at all: refused before LWA is asked, nothing written.
    for (pasted, says) in [
        ("", "nothing on stdin: paste the authorization code"),
        ("Atzr|IwEBIabc", "that is a refresh token"),
        ("hello", "does not look like an authorization code"),
    ] {
        let (r, _) = run_auth(&h, &ads_args(&h, false), pasted).await;
        let err = r.expect_err(pasted);
        assert!(err.is_usage(), "{err:?}");
        assert!(err.to_string().contains(says), "{err}");
        assert!(!token_file.exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_token_is_verified_then_stored_beside_the_config() {
    let h = start().await;
    // The config has no refresh token for the SP-API at all.
    rewrite_token_key(&h, "sp_api", None);
    let good = h.sim.world.scenario().seller.sp.refresh_token.clone();
    let name = account(&h);
    let expected_file = h
        .dir
        .path()
        .join("credentials")
        .join(format!("{name}.sp_api.refresh_token"));

    // A wrong token: LWA refuses it, nothing is written.
    let (r, out) = run_auth(&h, &sp_args(&h), "Atzr|IwEBIwrongtoken\n").await;
    let err = r.expect_err("a wrong token").to_string();
    assert!(
        err.starts_with("verifying the refresh token: LWA refused it (invalid_grant"),
        "{err}"
    );
    assert!(
        err.contains("authorize the app again in Seller Central"),
        "{err}"
    );
    assert!(!err.contains("wrongtoken") && !out.contains("wrongtoken"));
    assert!(!expected_file.exists());
    assert!(out.contains("Apps and Services > Develop Apps"), "{out}");

    // An access token pasted by mistake: named, LWA not asked.
    let (r, _) = run_auth(&h, &sp_args(&h), "Atza|IwEBIaccess\n").await;
    assert!(r.unwrap_err().to_string().contains("access token"));

    // The right one.
    let (r, out) = run_auth(&h, &sp_args(&h), &format!("\n\n {good}\t\n")).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(outcome.token_file, expected_file);
    assert_eq!(outcome.placement, auth::Placement::BesideConfig);
    assert_eq!(mode(&expected_file), 0o600);
    assert_eq!(
        std::fs::read_to_string(&expected_file).unwrap().trim_end(),
        good
    );
    assert!(!out.contains(&good), "token printed:\n{out}");
    let line = outcome.config_line.expect("the line to add");
    assert_eq!(
        line,
        format!(
            "refresh_token_file = {}",
            toml::Value::String(expected_file.display().to_string())
        )
    );
    assert!(out.contains(&line), "{out}");
    assert!(
        out.contains(&format!(
            "LoadCredential={name}.sp_api.refresh_token:{}",
            expected_file.display()
        )),
        "{out}"
    );
    let (report, healthy) = outcome.doctor.expect("doctor ran");
    assert!(report.contains("SP-API credentials       ok"), "{report}");
    assert!(healthy, "{report}");

    // With the line added, the config loads and reads the token.
    let text = std::fs::read_to_string(&h.config_path).unwrap();
    let text = text.replacen(
        "[accounts.sp_api]\n",
        &format!("[accounts.sp_api]\n{line}\n"),
        1,
    );
    std::fs::write(&h.config_path, text).unwrap();
    let cfg = Config::load(&h.config_path, &Env::default()).expect("loads");
    let sp = cfg.accounts[0].sp_api.as_ref().unwrap();
    assert_eq!(
        sp.credentials.as_ref().unwrap().refresh_token.expose(),
        good
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_credentials_directory_the_token_goes_there() {
    let h = start().await;
    // systemd-style: the config names no refresh token; the credentials
    // directory holds the secrets under the loader's names.
    rewrite_token_key(&h, "ads", None);
    let creds = h.dir.path().join("credstore");
    let env = Env {
        credentials_directory: Some(creds.clone()),
    };
    let code = code_from_consent_page(&h).await;
    let (r, out) = run_auth_in(&h, &env, &ads_args(&h, false), &code).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    let file = creds.join(format!("{}.ads.refresh_token", account(&h)));
    assert_eq!(outcome.token_file, file);
    assert_eq!(outcome.placement, auth::Placement::CredentialsDirectory);
    assert_eq!(outcome.config_line, None);
    assert_eq!(mode(&file), 0o600);
    assert!(
        out.contains(&format!(
            "LoadCredential={}.ads.refresh_token:",
            account(&h)
        )),
        "{out}"
    );
    let cfg = Config::load(&h.config_path, &env).expect("loads with the credential");
    let ads = cfg.accounts[0].ads.as_ref().unwrap();
    let stored = ads
        .credentials
        .as_ref()
        .unwrap()
        .refresh_token
        .expose()
        .to_string();
    assert!(sim_accepts(&h, "ads", &stored).await);
    assert!(outcome.doctor.expect("doctor ran").1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_config_gets_both_tokens_one_after_the_other() {
    let h = start().await;
    // Onboarding: both APIs name token files that do not exist yet.
    rewrite_token_key(&h, "ads", Some(("refresh_token_file", "tokens/ads")));
    rewrite_token_key(&h, "sp_api", Some(("refresh_token_file", "tokens/sp")));

    let code = code_from_consent_page(&h).await;
    let (r, out) = run_auth(&h, &ads_args(&h, false), &code).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(
        out.contains("(the SP-API is not authorized yet: run `flywheel auth sp` for it)"),
        "{out}"
    );
    let (report, _) = outcome.doctor.expect("doctor ran");
    assert!(report.contains("Ads API credentials      ok"), "{report}");
    // Left out, not probed with the placeholder.
    assert!(!report.contains("FAIL"), "{report}");
    assert!(
        report.contains("SP-API credentials: not configured"),
        "{report}"
    );
    assert!(
        Config::load(&h.config_path, &Env::default()).is_err(),
        "sp missing"
    );

    let good = h.sim.world.scenario().seller.sp.refresh_token.clone();
    let (r, out) = run_auth(&h, &sp_args(&h), &good).await;
    let outcome = r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(!out.contains("not authorized yet"), "{out}");
    assert!(outcome.doctor.expect("doctor ran").1, "{out}");
    Config::load(&h.config_path, &Env::default()).expect("both tokens in place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_config_problems_are_still_reported() {
    let h = start().await;
    rewrite_token_key(&h, "ads", Some(("refresh_token_file", "ads.token")));
    let text = std::fs::read_to_string(&h.config_path).unwrap();
    std::fs::write(
        &h.config_path,
        text.replacen("[daemon]\n", "[daemon]\nretention_dayz = 3\n", 1),
    )
    .unwrap();
    let (r, _) = run_auth(&h, &ads_args(&h, false), "ANdNAVhyhqirUelHGEHA").await;
    let err = r.expect_err("a config error");
    assert!(matches!(err, AuthError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("retention_dayz"), "{err}");

    let mut args = ads_args(&h, false);
    if let AuthCommand::Ads(a) = &mut args.api {
        a.common.account = Some("nobody".into());
    }
    std::fs::write(&h.config_path, text).unwrap();
    let (r, _) = run_auth(&h, &args, "ANdNAVhyhqirUelHGEHA").await;
    let err = r.expect_err("an unknown account").to_string();
    assert!(err.contains("no account \"nobody\""), "{err}");
}

// ---------------------------------------------------------------------------
// The real binary.

/// `flywheel auth <api> --config <the harness's> --account <its account>`,
/// with pipes for stdin and stdout.
fn spawn_binary(h: &common::Harness, api: &str, extra: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .arg("auth")
        .arg(api)
        .arg("--config")
        .arg(&h.config_path)
        .args(["--account", &account(h)])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Writes `stdin` to the child, closes it, and waits: (exit code, stdout + stderr).
async fn finish(mut child: tokio::process::Child, stdin: &str) -> (i32, String) {
    use tokio::io::AsyncWriteExt;
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).await.unwrap();
    drop(pipe);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("auth finishes")
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_the_consent_url_and_takes_the_address_pasted_back() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let h = start().await;
    rewrite_token_key(&h, "ads", Some(("refresh_token_file", "ads.token")));
    let token_file = h.dir.path().join("ads.token");
    let mut child = spawn_binary(&h, "ads", &["--redirect-uri", REDIRECT]);
    // Read what it prints up to the consent URL, as a person would.
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the consent URL in time")
            .unwrap()
            .unwrap_or_else(|| panic!("no consent URL in:\n{printed}"));
        printed.push_str(&line);
        printed.push('\n');
        let line = line.trim();
        if line.starts_with("http") && line.contains("/_sim/consent?") {
            break line.to_string();
        }
    };
    assert!(
        url.contains("scope=advertising%3A%3Acampaign_management"),
        "{url}"
    );
    // The browser lands on REDIRECT?code=...&state=...: paste that address.
    let location = browser_consent(&h, &url).await;
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{location}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    while let Some(line) = stdout.next_line().await.unwrap() {
        printed.push_str(&line);
        printed.push('\n');
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{printed}");
    assert_eq!(mode(&token_file), 0o600);
    let stored = std::fs::read_to_string(&token_file).unwrap();
    assert!(sim_accepts(&h, "ads", stored.trim_end()).await);
    assert!(
        !printed.contains(stored.trim_end()),
        "token printed:\n{printed}"
    );
    assert!(printed.contains("valid for 5 minutes"), "{printed}");
    assert!(printed.contains("doctor: every check passed"), "{printed}");
    Config::load(&h.config_path, &Env::default()).expect("the config now loads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_a_used_code_and_a_bad_token_with_exit_codes() {
    let h = start().await;
    rewrite_token_key(&h, "ads", Some(("refresh_token_file", "ads.token")));
    let token_file = h.dir.path().join("ads.token");
    // A code LWA never issued (or already used: the sim answers the same).
    let (code, text) = finish(spawn_binary(&h, "ads", &[]), "ANnotissuedbythesim00\n").await;
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("error: exchanging the authorization code: LWA refused it (invalid_grant"),
        "{text}"
    );
    assert!(
        text.contains("codes are valid 5 minutes; run auth again"),
        "{text}"
    );
    assert!(!token_file.exists());
    // Nothing on stdin: bad usage.
    let (code, text) = finish(spawn_binary(&h, "ads", &[]), "").await;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("nothing on stdin"), "{text}");

    // SP-API: a wrong token fails, the right one is stored, with --print-token shown.
    let (code, text) = finish(spawn_binary(&h, "sp", &[]), "Atzr|IwEBIwrong\n").await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("invalid_grant"), "{text}");
    let good = h.sim.world.scenario().seller.sp.refresh_token.clone();
    let (code, text) = finish(
        spawn_binary(&h, "sp", &["--print-token"]),
        &format!("{good}\n"),
    )
    .await;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("refresh token: {good}")), "{text}");
    assert!(text.contains("refresh_token_file = "), "{text}");
}

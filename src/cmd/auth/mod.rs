//! `flywheel auth`: onboarding, i.e. getting the long-lived LWA refresh
//! tokens into the place the config reads them from (DESIGN §6).
//!
//! - `auth ads`: the Ads API's authorization-code grant. Print the Login
//!   with Amazon consent URL (scope `advertising::campaign_management`,
//!   `response_type=code`), read the code the browser was redirected with
//!   from stdin, exchange it at the account's LWA token URL
//!   (`grant_type=authorization_code`) for a refresh token.
//! - `auth sp`: the SP-API's self-authorization. Explain where Seller
//!   Central shows the refresh token, read it from stdin, verify it with one
//!   refresh-token grant (the [`crate::amazon::lwa::LwaClient`] the sync
//!   jobs use).
//!
//! Both then store the token, mode 0600 and atomically (temp file + rename),
//! at the account's `refresh_token_file`; when the config names no file, in
//! `$CREDENTIALS_DIRECTORY` if auth runs with one, else at
//! `<config dir>/credentials/<account>.<api>.refresh_token` with the TOML line
//! to add (`<account>.<api>.refresh_token` is the name the config loader
//! looks for in `$CREDENTIALS_DIRECTORY`, so the file can also be handed to
//! systemd's `LoadCredential=` as is). Finally they run the account's doctor
//! checks with the new token.
//!
//! This module must not print or log a token: only `--print-token` shows it.
//! It never touches the daemon's database either (auth usually runs as an
//! administrator before the daemon's first start, and a database created
//! then would belong to the wrong user): its doctor run keeps its
//! bookkeeping in an in-memory database.
//!
//! The checks of what the user pasted, the consent URL and the LWA answer
//! classification are pure functions; [`run`] does the I/O around them.

mod ads;
mod sp;
mod token_file;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::{ApiClient, USER_AGENT};
use crate::amazon::http::Api;
use crate::config::{Account, Config, ConfigError, Env, LwaCredentials, Secret};

pub use ads::{consent_url, default_consent_url, parse_ads_code};
use ads::{obtain_ads_token, AdsGrant};
pub use sp::check_refresh_token;
use sp::{from_lwa, sp_instructions};
use token_file::{display_path, load_for_auth, pick_account, token_target, Loaded, TokenTarget};
pub use token_file::{store_secret, Placement};

/// The Ads API's OAuth scope.
pub const ADS_SCOPE: &str = "advertising::campaign_management";

/// How long an LWA authorization code lives (Ads docs `access-tokens.md`).
pub const CODE_LIFETIME_MINUTES: u32 = 5;

/// Where the browser goes after consent unless `--redirect-uri` says
/// otherwise. It must be one of the security profile's "Allowed Return
/// URLs"; amazon.com loads, so the code is easy to copy from the address bar.
pub const DEFAULT_REDIRECT_URI: &str = "https://amazon.com";

/// `flywheel auth`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub api: AuthCommand,
}

/// Which API to authorize.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuthCommand {
    /// Amazon Ads API: print the Login with Amazon consent URL, read the
    /// authorization code from stdin (valid 5 minutes), exchange it for a
    /// refresh token, store it, run doctor.
    Ads(AdsArgs),
    /// Selling Partner API: explain self-authorization in Seller Central,
    /// read the refresh token from stdin, verify it with LWA, store it, run
    /// doctor.
    Sp(SpArgs),
}

/// Options of both `auth ads` and `auth sp`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// The config's account (may be left out when the config has one).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Also print the refresh token (it is a password: it ends up in your
    /// terminal's scrollback).
    #[arg(long)]
    pub print_token: bool,
    /// Store the token but skip the doctor checks.
    #[arg(long)]
    pub no_doctor: bool,
}

/// `flywheel auth ads`.
#[derive(Debug, Clone, clap::Args)]
pub struct AdsArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Where Amazon sends the browser with the code: one of the "Allowed
    /// Return URLs" of the LWA security profile.
    #[arg(long, value_name = "URL", default_value = DEFAULT_REDIRECT_URI)]
    pub redirect_uri: String,
    /// The consent page (default: Amazon's for the account's region, or
    /// `/_sim/consent` when token_url points at a simulated marketplace).
    #[arg(long, value_name = "URL")]
    pub consent_url: Option<String>,
}

/// `flywheel auth sp`.
#[derive(Debug, Clone, clap::Args)]
pub struct SpArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Why auth failed. Messages name the step and say what to do; none holds
/// a token, a code or a client secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Bad usage: unknown account, no table for the API.
    #[error("{0}")]
    Usage(String),
    /// What was pasted on stdin is missing or is not what was asked for.
    #[error("{0}")]
    Input(String),
    #[error("{operation}: LWA refused it ({error}: {description}): {}", refusal_hint(*.api, .error))]
    Refused {
        operation: &'static str,
        api: Api,
        error: String,
        description: String,
    },
    #[error("{operation}: LWA answered {status} (a server-side problem): {}", match .api { Api::Ads => "run auth again in a minute (a code works once: get a new one)", Api::SpApi => "run auth again in a minute" })]
    Transient {
        operation: &'static str,
        api: Api,
        status: u16,
    },
    #[error("{operation}: the LWA token endpoint is unreachable ({message}): check the network and the account's token_url")]
    Unreachable {
        operation: &'static str,
        message: String,
    },
    #[error("{operation}: LWA's answer is unreadable ({message})")]
    Decode {
        operation: &'static str,
        message: String,
    },
    #[error("storing the refresh token: cannot write `{}`: {error}", .path.display())]
    Store {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Io(String),
}

/// What to do about an LWA error code (`error` of the JSON body).
fn refusal_hint(api: Api, error: &str) -> String {
    let table = api_table(api);
    match (api, error) {
        (Api::Ads, "invalid_grant") => format!(
            "the code expired or was already used — codes are valid {CODE_LIFETIME_MINUTES} minutes; run auth again (the --redirect-uri must also be the one the consent URL used)"
        ),
        (Api::SpApi, "invalid_grant") => "the refresh token is wrong, revoked, or was issued for another app: authorize the app again in Seller Central (Apps and Services > Develop Apps > Authorize) and paste the new token".to_string(),
        (_, "invalid_client") => format!(
            "check client_id and client_secret in [accounts.{table}] (Amazon rotates LWA client secrets every 180 days)"
        ),
        (_, "unauthorized_client") => format!(
            "this LWA app may not use that grant: check the app behind client_id in [accounts.{table}]{}",
            if api == Api::Ads { " (its security profile must be approved for the Amazon Ads API)" } else { "" }
        ),
        (_, "access_denied") => "consent was declined: run auth again and choose Allow".to_string(),
        _ => "check the account's credentials and token_url".to_string(),
    }
}

impl AuthError {
    /// Bad usage or bad config (exit 2), as opposed to a runtime failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            AuthError::Config(_) | AuthError::Usage(_) | AuthError::Input(_)
        )
    }
}

impl From<AuthError> for super::CliError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Config(c) => super::CliError::Config(c),
            e if e.is_usage() => super::CliError::Usage(e.to_string()),
            e => super::CliError::Runtime(anyhow::Error::new(e)),
        }
    }
}

/// What a successful auth did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub account: String,
    pub api: Api,
    /// Where the refresh token was written.
    pub token_file: PathBuf,
    pub placement: Placement,
    /// When the config does not read `token_file` yet: the line to add.
    pub config_line: Option<String>,
    /// The doctor report and whether every check passed; `None` when
    /// skipped or when it could not run (the reason is in the output).
    pub doctor: Option<(String, bool)>,
}

/// The config's name of an API's table and credentials.
fn api_table(api: Api) -> &'static str {
    match api {
        Api::SpApi => "sp_api",
        Api::Ads => "ads",
    }
}

/// Runs `flywheel auth ads|sp`: prompts and results go to `out`, the code
/// or token is read from `input` (a terminal or a pipe).
pub async fn run(
    config_path: &Path,
    env: &Env,
    args: &AuthArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Outcome, AuthError> {
    let (api, common) = match &args.api {
        AuthCommand::Ads(a) => (Api::Ads, &a.common),
        AuthCommand::Sp(a) => (Api::SpApi, &a.common),
    };
    let loaded = load_for_auth(config_path, env)?;
    let index = pick_account(&loaded.config, common.account.as_deref())?;
    let account = &loaded.config.accounts[index];
    let table = api_table(api);
    let settings = ApiView::of(account, api).ok_or_else(|| {
        AuthError::Usage(format!(
            "account \"{}\" has no [accounts.{table}] table in {}: add one with client_id and client_secret first",
            account.name,
            config_path.display()
        ))
    })?;
    let creds = settings.credentials.clone().ok_or_else(|| {
        AuthError::Usage(format!(
            "account \"{}\": [accounts.{table}] has no usable client_id and client_secret",
            account.name
        ))
    })?;
    let token_url = settings
        .token_url
        .clone()
        .unwrap_or_else(|| account.region().token_url(api == Api::Ads).to_string());
    let timeout = loaded.config.sync.request_timeout;
    let client = ApiClient::new(timeout, RetryPolicy::new(2, Duration::from_secs(5)))
        .map_err(|e| AuthError::Io(format!("cannot set up the HTTP client: {e}")))?;

    let refresh_token = match &args.api {
        AuthCommand::Ads(a) => {
            let consent = match &a.consent_url {
                Some(u) => u.clone(),
                None => default_consent_url(account.region(), settings.token_url.as_deref()),
            };
            let http = reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .timeout(timeout)
                .build()
                .map_err(|e| AuthError::Io(format!("cannot set up the HTTP client: {e}")))?;
            let grant = AdsGrant {
                account: &account.name,
                consent: &consent,
                redirect_uri: &a.redirect_uri,
                token_url: &token_url,
                creds: &creds,
            };
            obtain_ads_token(&grant, &http, input, out).await?
        }
        AuthCommand::Sp(_) => {
            write_out(
                out,
                &sp_instructions(&account.name, account.region(), &creds.client_id),
            )?;
            let pasted = prompt(input, out, "refresh token: ", "the refresh token")?;
            let token = check_refresh_token(&pasted).map_err(AuthError::Input)?;
            write_out(out, &format!("verifying the token at {token_url} ...\n"))?;
            let candidate = LwaCredentials {
                refresh_token: token.clone(),
                ..creds.clone()
            };
            client
                .lwa
                .access_token(&token_url, &candidate, Instant::now())
                .await
                .map_err(|e| from_lwa("verifying the refresh token", Api::SpApi, e))?;
            token
        }
    };

    let target = token_target(config_path, env, &loaded, index, &account.name, api);
    store_secret(&target.path, refresh_token.expose()).map_err(|error| AuthError::Store {
        path: target.path.clone(),
        error,
    })?;
    tracing::info!(account = %account.name, api = table, path = %target.path.display(), "refresh token stored");
    let config_line = explain_placement(config_path, &account.name, api, &target, out)?;
    if common.print_token {
        write_out(out, &format!("refresh token: {}\n", refresh_token.expose()))?;
    }
    let doctor = if common.no_doctor {
        None
    } else {
        doctor_with(
            &loaded,
            config_path,
            index,
            api,
            refresh_token,
            &client,
            out,
        )
        .await?
    };
    Ok(Outcome {
        account: account.name.clone(),
        api,
        token_file: target.path,
        placement: target.placement,
        config_line,
        doctor,
    })
}

/// Says where the token went and what, if anything, must change for the
/// config (or systemd) to read it; returns the TOML line to add, if any.
fn explain_placement(
    config_path: &Path,
    account: &str,
    api: Api,
    target: &TokenTarget,
    out: &mut dyn Write,
) -> Result<Option<String>, AuthError> {
    let table = api_table(api);
    let shown = display_path(&target.path);
    write_out(
        out,
        &format!("ok: LWA accepted it; stored the refresh token in {shown} (mode 0600)\n"),
    )?;
    let credential = format!("{account}.{table}.refresh_token");
    let config = display_path(config_path);
    match target.placement {
        Placement::ConfigFile => Ok(None),
        Placement::CredentialsDirectory => {
            let remove = if target.has_inline {
                format!(
                    "Remove the `refresh_token = ...` line from [accounts.{table}] of account \"{account}\" in {config}:\n\
                     an inline token wins over the credential.\n"
                )
            } else {
                String::new()
            };
            write_out(
                out,
                &format!(
                    "\nThat is $CREDENTIALS_DIRECTORY/{credential}, where the config looks for it.\n{remove}\
                     Under systemd the unit must load it (a drop-in made with `systemctl edit flywheel`):\n\n    \
                     LoadCredential={credential}:{shown}\n\n"
                ),
            )?;
            Ok(None)
        }
        Placement::BesideConfig => {
            let line = format!(
                "refresh_token_file = {}",
                toml::Value::String(shown.clone())
            );
            write_out(
                out,
                &format!(
                    "\nThe config does not read that file yet. In {config}, in the [accounts.{table}] table of account \"{account}\",\n\
                     remove any `refresh_token = ...` line and add:\n\n    {line}\n\n\
                     Or, under systemd, leave both keys out and load the file as a credential\n\
                     (a drop-in made with `systemctl edit flywheel`):\n\n    LoadCredential={credential}:{shown}\n\n"
                ),
            )?;
            Ok(Some(line))
        }
    }
}

/// Runs the account's doctor checks with the new token (in memory: the
/// config may not read the stored file yet) and prints the report. A doctor
/// that cannot run is reported, not an error: the token is stored.
async fn doctor_with(
    loaded: &Loaded,
    config_path: &Path,
    index: usize,
    api: Api,
    refresh_token: Secret,
    client: &ApiClient,
    out: &mut dyn Write,
) -> Result<Option<(String, bool)>, AuthError> {
    let mut cfg = loaded.config.clone();
    let account = &mut cfg.accounts[index];
    set_refresh_token(account, api, refresh_token);
    write_out(
        out,
        &format!("\ndoctor (account {}, with the new token):\n", account.name),
    )?;
    // The account's other API still waiting for its token: leave it out
    // rather than report LWA refusing the placeholder.
    let other = match api {
        Api::SpApi => Api::Ads,
        Api::Ads => Api::SpApi,
    };
    if loaded.pending.contains(&(index, api_table(other))) {
        let (name, command) = match other {
            Api::SpApi => {
                account.sp_api = None;
                ("SP-API", "sp")
            }
            Api::Ads => {
                account.ads = None;
                ("Ads API", "ads")
            }
        };
        write_out(
            out,
            &format!("(the {name} is not authorized yet: run `flywheel auth {command}` for it)\n"),
        )?;
    }
    match run_doctor(&cfg, index, client, config_path).await {
        Ok((text, healthy)) => {
            write_out(out, &text)?;
            write_out(
                out,
                if healthy {
                    "doctor: every check passed\n"
                } else {
                    "doctor: some checks failed (see above); the token is stored, fix the rest and run `flywheel doctor` again\n"
                },
            )?;
            Ok(Some((text, healthy)))
        }
        Err(e) => {
            write_out(
                out,
                &format!(
                    "doctor could not run: {e:#}; the token is stored, run `flywheel doctor` later\n"
                ),
            )?;
            Ok(None)
        }
    }
}

/// The parts of `[accounts.sp_api]` / `[accounts.ads]` auth needs.
struct ApiView {
    credentials: Option<LwaCredentials>,
    token_url: Option<String>,
}

impl ApiView {
    fn of(account: &Account, api: Api) -> Option<ApiView> {
        match api {
            Api::SpApi => account.sp_api.as_ref().map(|s| ApiView {
                credentials: s.credentials.clone(),
                token_url: s.token_url.clone(),
            }),
            Api::Ads => account.ads.as_ref().map(|s| ApiView {
                credentials: s.credentials.clone(),
                token_url: s.token_url.clone(),
            }),
        }
    }
}

fn set_refresh_token(account: &mut Account, api: Api, token: Secret) {
    let creds = match api {
        Api::SpApi => account.sp_api.as_mut().and_then(|s| s.credentials.as_mut()),
        Api::Ads => account.ads.as_mut().and_then(|s| s.credentials.as_mut()),
    };
    if let Some(c) = creds {
        c.refresh_token = token;
    }
}

fn write_out(out: &mut dyn Write, text: &str) -> Result<(), AuthError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| AuthError::Io(format!("cannot write to the terminal: {e}")))
}

/// Prints `label` and reads the first non-blank line of `input`, trimmed.
fn prompt(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    label: &str,
    what: &str,
) -> Result<String, AuthError> {
    write_out(out, label)?;
    let mut line = String::new();
    loop {
        line.clear();
        let n = input
            .read_line(&mut line)
            .map_err(|e| AuthError::Input(format!("cannot read {what} from stdin: {e}")))?;
        if n == 0 {
            write_out(out, "\n")?;
            return Err(AuthError::Input(format!(
                "nothing on stdin: paste {what} and press Enter (or pipe it in)"
            )));
        }
        let value = line.trim();
        if !value.is_empty() {
            // A pipe does not echo: end the prompt's line ourselves.
            write_out(out, "\n")?;
            return Ok(value.to_string());
        }
    }
}

/// `flywheel doctor --account NAME`'s checks, with the database kept in
/// memory (see the module doc).
async fn run_doctor(
    cfg: &Config,
    index: usize,
    client: &ApiClient,
    config_path: &Path,
) -> anyhow::Result<(String, bool)> {
    let reading = super::read_clock(cfg).await?;
    client.limiter.set_speed(reading.speed);
    let db = std::sync::Mutex::new(crate::store::in_memory()?);
    Ok(super::doctor::check(
        cfg,
        &cfg.accounts[index],
        client,
        &db,
        reading.now,
        config_path,
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_parses_as_cli_wires_it() {
        use clap::{CommandFactory, Parser, Subcommand};
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            command: Command,
        }
        #[derive(Subcommand)]
        enum Command {
            Auth(AuthArgs),
        }
        Cli::command().debug_assert();
        let Command::Auth(args) =
            Cli::try_parse_from(["flywheel", "auth", "ads", "--account", "a", "--print-token"])
                .unwrap()
                .command;
        let AuthCommand::Ads(ads) = args.api else {
            panic!("ads")
        };
        assert_eq!(ads.common.account.as_deref(), Some("a"));
        assert!(ads.common.print_token && !ads.common.no_doctor);
        assert_eq!(ads.redirect_uri, DEFAULT_REDIRECT_URI);
        let Command::Auth(args) = Cli::try_parse_from(["flywheel", "auth", "sp", "--no-doctor"])
            .unwrap()
            .command;
        assert!(
            matches!(args.api, AuthCommand::Sp(SpArgs { common }) if common.no_doctor && common.account.is_none())
        );
        assert!(Cli::try_parse_from(["flywheel", "auth"]).is_err());
    }

    #[test]
    fn errors_map_to_exit_codes() {
        use crate::cmd::CliError;
        let usage: CliError = AuthError::Input("x".into()).into();
        assert_eq!(usage.exit_code(), 2);
        let runtime: CliError = AuthError::Transient {
            operation: "verifying the refresh token",
            api: Api::SpApi,
            status: 503,
        }
        .into();
        assert_eq!(runtime.exit_code(), 1);
        assert_eq!(
            runtime.to_string(),
            "verifying the refresh token: LWA answered 503 (a server-side problem): run auth again in a minute"
        );
    }
}

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

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};

use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::{ApiClient, USER_AGENT};
use crate::amazon::http::Api;
use crate::amazon::lwa::LwaError;
use crate::amazon::marketplace::Region;
use crate::config::{Account, Config, ConfigError, Env, LwaCredentials, Secret};

/// The Ads API's OAuth scope.
pub const ADS_SCOPE: &str = "advertising::campaign_management";

/// How long an LWA authorization code lives (Ads docs `access-tokens.md`).
pub const CODE_LIFETIME_MINUTES: u32 = 5;

/// Where the browser goes after consent unless `--redirect-uri` says
/// otherwise. It must be one of the security profile's "Allowed Return
/// URLs"; amazon.com loads, so the code is easy to copy from the address bar.
pub const DEFAULT_REDIRECT_URI: &str = "https://amazon.com";

/// Written in place of a refresh token that does not exist yet, so the rest
/// of the config can be loaded and validated while auth obtains the token.
const PENDING_TOKEN: &str = "Atzr|pending-flywheel-auth";

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

impl From<AuthError> for crate::cli::CliError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Config(c) => crate::cli::CliError::Config(c),
            e if e.is_usage() => crate::cli::CliError::Usage(e.to_string()),
            e => crate::cli::CliError::Runtime(anyhow::Error::new(e)),
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
        doctor_with(&loaded, index, api, refresh_token, &client, out).await?
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
    match run_doctor(&cfg, index, client).await {
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

// ---------------------------------------------------------------------------
// Config: load it although the token being obtained is still missing.

/// A config loaded for auth, and which refresh tokens were missing (and
/// are a placeholder in `config`).
struct Loaded {
    config: Config,
    /// The raw TOML, to find what the file itself says.
    table: toml::Table,
    /// (account index, "sp_api" | "ads") whose refresh token is missing.
    pending: BTreeSet<(usize, &'static str)>,
}

/// The account index and API table a config problem is about, when it says
/// only that a refresh token is missing, empty or unreadable: the very
/// thing auth is about to provide.
fn missing_refresh_token(problem_path: &str, message: &str) -> Option<(usize, &'static str)> {
    let rest = problem_path.strip_prefix("accounts[")?;
    let (index, rest) = rest.split_once(']')?;
    let index: usize = index.parse().ok()?;
    for table in ["sp_api", "ads"] {
        let Some(key) = rest.strip_prefix(&format!(".{table}")) else {
            continue;
        };
        let tolerated = match key {
            ".refresh_token_file" => true,
            ".refresh_token" => message == "is empty",
            "" => message.starts_with("missing credentials: set `refresh_token`"),
            _ => false,
        };
        return tolerated.then_some((index, table));
    }
    None
}

/// Loads the config; if the only problems are missing refresh tokens, loads
/// it again with placeholders in their place.
fn load_for_auth(path: &Path, env: &Env) -> Result<Loaded, AuthError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AuthError::Usage(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let err = match Config::from_toml(&text, path, env) {
        Ok(config) => {
            let table = toml::from_str(&text)
                .map_err(|e| AuthError::Io(format!("cannot re-read the config: {e}")))?;
            return Ok(Loaded {
                config,
                table,
                pending: BTreeSet::new(),
            });
        }
        Err(e) => e,
    };
    // Not TOML at all: the loader's message (with its line) says so.
    let Ok(table) = toml::from_str::<toml::Table>(&text) else {
        return Err(err.into());
    };
    let mut pending = BTreeSet::new();
    for p in &err.problems {
        match missing_refresh_token(&p.path, &p.message) {
            Some(k) => {
                pending.insert(k);
            }
            None => return Err(err.into()),
        }
    }
    let mut patched = table.clone();
    for (index, api) in &pending {
        let t = patched
            .get_mut("accounts")
            .and_then(|a| a.as_array_mut())
            .and_then(|a| a.get_mut(*index))
            .and_then(|a| a.get_mut(*api))
            .and_then(|t| t.as_table_mut());
        if let Some(t) = t {
            t.remove("refresh_token_file");
            t.insert(
                "refresh_token".into(),
                toml::Value::String(PENDING_TOKEN.into()),
            );
        }
    }
    let text = toml::to_string(&patched)
        .map_err(|e| AuthError::Io(format!("cannot re-read the config: {e}")))?;
    let config = Config::from_toml(&text, path, env)?;
    Ok(Loaded {
        config,
        table,
        pending,
    })
}

fn pick_account(cfg: &Config, name: Option<&str>) -> Result<usize, AuthError> {
    let known = || {
        cfg.accounts
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => cfg
            .accounts
            .iter()
            .position(|a| a.name == n)
            .ok_or_else(|| {
                AuthError::Usage(format!(
                    "no account \"{n}\" in the config; accounts: {}",
                    known()
                ))
            }),
        None if cfg.accounts.len() == 1 => Ok(0),
        None => Err(AuthError::Usage(format!(
            "the config has several accounts: name one with --account ({})",
            known()
        ))),
    }
}

/// Where a token was stored, seen from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// At the account's `refresh_token_file`: the config reads it.
    ConfigFile,
    /// In `$CREDENTIALS_DIRECTORY` (set in auth's environment) under the
    /// name the config loader looks for there.
    CredentialsDirectory,
    /// At `<config dir>/credentials/<account>.<api>.refresh_token`: the
    /// config must be told (the printed line) or systemd must load it.
    BesideConfig,
}

struct TokenTarget {
    path: PathBuf,
    placement: Placement,
    /// The API table has an inline `refresh_token` (which the loader
    /// prefers over `$CREDENTIALS_DIRECTORY`).
    has_inline: bool,
}

/// The account's `refresh_token_file` as the file writes it (relative to
/// the config's directory, as the loader takes it); else
/// `$CREDENTIALS_DIRECTORY/<account>.<api>.refresh_token` when auth runs
/// with one (e.g. `CREDENTIALS_DIRECTORY=/etc/flywheel/credentials`);
/// else `<config dir>/credentials/<account>.<api>.refresh_token`.
fn token_target(
    config_path: &Path,
    env: &Env,
    loaded: &Loaded,
    index: usize,
    account: &str,
    api: Api,
) -> TokenTarget {
    let table = api_table(api);
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let api_table = loaded
        .table
        .get("accounts")
        .and_then(|a| a.as_array())
        .and_then(|a| a.get(index))
        .and_then(|a| a.get(table));
    let named = api_table
        .and_then(|t| t.get("refresh_token_file"))
        .and_then(|f| f.as_str());
    let has_inline = api_table.is_some_and(|t| t.get("refresh_token").is_some());
    let file_name = format!("{account}.{table}.refresh_token");
    let (path, placement) = match (named, &env.credentials_directory) {
        (Some(f), _) => (base.join(f), Placement::ConfigFile),
        (None, Some(dir)) => (dir.join(file_name), Placement::CredentialsDirectory),
        (None, None) => (
            base.join("credentials").join(file_name),
            Placement::BesideConfig,
        ),
    };
    TokenTarget {
        path,
        placement,
        has_inline,
    }
}

fn display_path(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------
// Storing.

/// Writes a secret file readable by its owner only, atomically: a temp file
/// in the same directory (created 0600, so the secret is never readable by
/// others, not even briefly), synced, then renamed over `path`. A missing
/// directory is created 0700.
pub fn store_secret(path: &Path, value: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        Alphanumeric.sample_string(&mut rand::rng(), 8)
    ));
    let write = || -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(value.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename is durable once the directory is.
        std::fs::File::open(dir)?.sync_all()
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

// ---------------------------------------------------------------------------
// The Ads consent and code exchange.

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
struct AdsGrant<'a> {
    account: &'a str,
    /// The consent page (without the query).
    consent: &'a str,
    redirect_uri: &'a str,
    token_url: &'a str,
    creds: &'a LwaCredentials,
}

/// Prints the consent URL, reads the code (or the address the browser was
/// sent to), and exchanges it for the refresh token.
async fn obtain_ads_token(
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

// ---------------------------------------------------------------------------
// SP-API self-authorization.

fn sp_instructions(account: &str, region: Region, client_id: &str) -> String {
    let central = match region {
        Region::Na => "https://sellercentral.amazon.com",
        Region::Eu => "https://sellercentral-europe.amazon.com",
        Region::Fe => "https://sellercentral.amazon.co.jp (or .com.au, .amazon.sg)",
    };
    format!(
        "Connecting account \"{account}\" to the Selling Partner API (self-authorization).\n\n\
         1. Sign in to Seller Central ({central}) as the account's primary user.\n\
         2. Open Apps and Services > Develop Apps and find the app whose LWA client id is\n   \
            {client_id} (the client_id in [accounts.sp_api]).\n\
         3. Open the arrow next to Edit App, choose Authorize, then Authorize app.\n\
         4. Copy the refresh token it shows (it starts with Atzr|). Authorizing again issues a\n   \
            new token; earlier ones keep working until you revoke them.\n\
         5. Paste it here and press Enter.\n\n"
    )
}

/// A pasted SP-API refresh token, checked for shape (pure).
pub fn check_refresh_token(pasted: &str) -> Result<Secret, String> {
    let t = pasted.trim().trim_matches(['"', '\'']);
    if t.is_empty() {
        return Err(
            "the refresh token is empty: paste the Atzr|... value Seller Central shows".into(),
        );
    }
    if t.starts_with("Atza|") {
        return Err("that is an access token (Atza|..., valid one hour), not a refresh token: paste the Atzr|... value Seller Central shows after Authorize app".into());
    }
    if t.starts_with("amzn1.application-oa2-client.") {
        return Err("that is the app's LWA client id, not a refresh token: paste the Atzr|... value Seller Central shows after Authorize app".into());
    }
    if t.starts_with("amzn1.oa2-cs.") {
        return Err("that is the app's LWA client secret, not a refresh token: paste the Atzr|... value Seller Central shows after Authorize app".into());
    }
    match t.strip_prefix("Atzr|") {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => {
            Ok(Secret::new(t))
        }
        _ => Err("that does not look like a refresh token (one word starting with `Atzr|`): paste the value Seller Central shows after Authorize app".into()),
    }
}

fn from_lwa(operation: &'static str, api: Api, e: LwaError) -> AuthError {
    match e {
        LwaError::InvalidGrant { description } => AuthError::Refused {
            operation,
            api,
            error: "invalid_grant".into(),
            description,
        },
        LwaError::InvalidClient { description } => AuthError::Refused {
            operation,
            api,
            error: "invalid_client".into(),
            description,
        },
        LwaError::Rejected {
            code, description, ..
        } => AuthError::Refused {
            operation,
            api,
            error: code,
            description,
        },
        LwaError::Transient { status } => AuthError::Transient {
            operation,
            api,
            status,
        },
        LwaError::Network(message) => AuthError::Unreachable { operation, message },
        LwaError::Decode(message) => AuthError::Decode { operation, message },
    }
}

// ---------------------------------------------------------------------------
// Doctor.

/// `flywheel doctor --account NAME`'s checks, with the database kept in
/// memory (see the module doc).
async fn run_doctor(
    cfg: &Config,
    index: usize,
    client: &ApiClient,
) -> anyhow::Result<(String, bool)> {
    let reading = crate::clock::Clock::from_source(&cfg.daemon.clock)
        .read()
        .await?;
    client.limiter.set_speed(reading.speed);
    let (conn, _) = crate::store::open_and_migrate(Path::new(":memory:"))?;
    let db = std::sync::Mutex::new(conn);
    Ok(crate::doctor::check_account(cfg, &cfg.accounts[index], client, &db, reading.now).await)
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
        use crate::cli::CliError;
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
    fn pasted_refresh_tokens_are_checked() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("Atzr|IwEBIabc", Ok("Atzr|IwEBIabc")),
            ("\t Atzr|IwEBIabc \r\n", Ok("Atzr|IwEBIabc")),
            ("\"Atzr|IwEBIabc\"", Ok("Atzr|IwEBIabc")),
            ("", Err("empty")),
            ("Atza|IwEBIabc", Err("access token")),
            ("amzn1.application-oa2-client.abc", Err("client id")),
            ("amzn1.oa2-cs.v1.abc", Err("client secret")),
            ("Atzr|", Err("does not look like a refresh token")),
            ("Atzr|a b", Err("does not look like a refresh token")),
            (
                "ANdNAVhyhqirUelHGEHA",
                Err("does not look like a refresh token"),
            ),
        ];
        for (pasted, want) in cases {
            match (check_refresh_token(pasted), want) {
                (Ok(got), Ok(w)) => assert_eq!(got.expose(), *w, "{pasted:?}"),
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

    #[test]
    fn only_missing_refresh_tokens_are_tolerated() {
        type Case = (&'static str, &'static str, Option<(usize, &'static str)>);
        let cases: &[Case] = &[
            (
                "accounts[0].ads.refresh_token_file",
                "file `/x` does not exist",
                Some((0, "ads")),
            ),
            (
                "accounts[2].sp_api",
                "missing credentials: set `refresh_token`, `refresh_token_file`, or provide ...",
                Some((2, "sp_api")),
            ),
            (
                "accounts[1].ads.refresh_token",
                "is empty",
                Some((1, "ads")),
            ),
            (
                "accounts[1].ads.refresh_token",
                "set either `refresh_token` or `refresh_token_file`, not both",
                None,
            ),
            (
                "accounts[0].ads",
                "missing credentials: set `client_secret`, ...",
                None,
            ),
            (
                "accounts[0].ads.client_secret_file",
                "file `/x` does not exist",
                None,
            ),
            ("accounts[0].region", "x", None),
            ("email.password_file", "x", None),
        ];
        for (path, message, want) in cases {
            assert_eq!(
                missing_refresh_token(path, message),
                *want,
                "{path} {message}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn secrets_are_stored_0600_replacing_the_old_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("creds/a.ads.refresh_token");
        store_secret(&p, "Atzr|one").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap()), 0o700);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        store_secret(&p, "Atzr|two").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(
            crate::config::read_secret_file(&p).unwrap().expose(),
            "Atzr|two"
        );
        // No temp file left behind.
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}

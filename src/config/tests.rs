//! Table tests: TOML in, exact located problem out.

use super::*;
use std::path::Path;

/// The config every case starts from: 13 lines, so the first line a case
/// appends after a blank line is line 15.
pub(super) fn base() -> String {
    test_toml(r#"database = "fw.db""#, "a")
}

pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("/etc/flywheel/test.toml"), &Env::default())
}

/// Problems as "line:column path: message".
pub(super) fn problems(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => vec![],
        Err(e) => e
            .problems
            .iter()
            .map(|p| {
                let pos = p
                    .position
                    .map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default();
                format!("{pos} {}: {}", p.path, p.message)
            })
            .collect(),
    }
}

/// The problems of [`base`] with a blank line and then `extra` appended.
pub(super) fn appended(extra: &str) -> Vec<String> {
    problems(&format!("{}\n{extra}\n", base()))
}

/// The first account's resolved SP-API credentials.
fn sp_credentials(c: &Config) -> LwaCredentials {
    let sp = c.accounts[0].sp_api.as_ref().unwrap();
    sp.credentials.clone().unwrap()
}

#[test]
fn base_is_valid() {
    let c = parse(&base()).unwrap();
    assert_eq!(c.daemon.database, Path::new("/etc/flywheel/fw.db"));
    let creds = sp_credentials(&c);
    assert_eq!(creds.client_id, "id");
    assert_eq!(creds.refresh_token.expose(), "Atzr|t0ken-value");
}

#[test]
fn each_mistake_is_named_with_its_key_and_line() {
    // (appended to the base, expected problem). The base has 13 lines, so the first
    // appended line is line 15 (after a blank line).
    let cases: &[(&str, &str)] = &[
        (
            "[rules.conversion_rate]\nmin_percnt = 10",
            "16:1 rules.conversion_rate.min_percnt: unknown key `min_percnt` (did you mean `min_percent`?)",
        ),
        (
            "[rules.conversion_rate]\nmin_percent = \"ten\"",
            "16:1 rules.conversion_rate.min_percent: invalid type: string \"ten\", expected a number",
        ),
        (
            "[rules.conversoin_rate]\nenabled = false",
            "15:8 rules.conversoin_rate: unknown rule `conversoin_rate` (did you mean `conversion_rate`?)",
        ),
        (
            "[schedule]\norders = \"*/15 * * *\"",
            "16:1 schedule.orders: bad cron expression \"*/15 * * *\": expected 5 fields (minute hour day-of-month month day-of-week), found 4",
        ),
        (
            "[schedule]\ndigest = \"0 8 * * mon-fry\"",
            "16:1 schedule.digest: bad cron expression \"0 8 * * mon-fry\": day-of-week `fry` is neither a number nor a name (sun, mon, tue, wed, thu, fri, sat)",
        ),
        (
            "[rules.acos_band]\nmin_percent = 30.0\nmax_percent = 20.0",
            "16:1 rules.acos_band.min_percent: min_percent (30) is above max_percent (20)",
        ),
        (
            "[rules.rating_floor]\ncritical_below = 4.6",
            "16:1 rules.rating_floor.critical_below: critical_below (4.6) is above warning_below (4.5)",
        ),
        (
            "[rules.buy_box]\nmin_percent = 120",
            "16:1 rules.buy_box.min_percent: is a percentage: must be 0–100, found 120",
        ),
        (
            "[rules.tacos]\nwindow_days = 0",
            "16:1 rules.tacos.window_days: must be at least 1 day",
        ),
        (
            "[rules.tacos]\nno_data = \"zero\"",
            "16:1 rules.tacos.no_data: unknown value \"zero\": expected one of ok, keep, no_data",
        ),
        (
            "[rules.tacos]\nfor = \"ten minutes\"",
            "16:1 rules.tacos.for: invalid duration \"ten minutes\": expected number at 0 (write e.g. \"30s\", \"15m\", \"24h\", \"7d\")",
        ),
        (
            "[email]\ntransport = \"smpt\"",
            "16:1 email.transport: unknown value \"smpt\": expected one of smtp, sendmail, file (did you mean \"smtp\"?)",
        ),
        (
            "[email]\ntransport = \"smtp\"",
            "15:2 email: transport \"smtp\" needs `host`",
        ),
        (
            "[email]\ntransport = \"smtp\"\nhost = \"mail.example.com\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"p\"",
            "18:1 email.security: \"none\" would send the SMTP password unencrypted to mail.example.com: use \"starttls\" or \"tls\"",
        ),
        (
            "[email]\nto = [\"not-an-address\"]",
            "16:7 email.to[0]: \"not-an-address\" is not an email address",
        ),
        (
            "[sync]\nattribution_days = 10",
            "16:1 sync.attribution_days: must be 7 or 14 (the Sponsored Products attribution windows), found 10",
        ),
        (
            "[sync]\nreport_budget_per_hour = 100",
            "16:1 sync.report_budget_per_hour: must be 1-60: Amazon's createReport allows 0.0167 requests per second (60 an hour) per account, found 100",
        ),
        (
            "[sync]\nmax_pages = 0",
            "16:1 sync.max_pages: must be at least 1",
        ),
        (
            "[sync]\nmax_run_time = \"0s\"",
            "16:1 sync.max_run_time: must be longer than 0s",
        ),
        (
            "[sync]\nmax_document_mib = 0",
            "16:1 sync.max_document_mib: must be 1-1048576 (MiB of a decompressed report document), found 0",
        ),
        (
            "[alerts]\nquiet_hours = \"22-7\"",
            "16:1 alerts.quiet_hours: quiet hours \"22-7\": \"22\" is not a time HH:MM",
        ),
        (
            "[daemon2]\nx = 1",
            "15:2 daemon2: unknown key `daemon2` (did you mean `daemon`?)",
        ),
        (
            "[[overrides]]\nrule = \"stockout_risk\"\nsku = \"S1\"\nlead_time_dayz = 60",
            "18:1 overrides[0].lead_time_dayz: rule stockout_risk has no key `lead_time_dayz` (did you mean `lead_time_days`?)",
        ),
        (
            "[[overrides]]\nrule = \"stockout_risk\"\nsku = \"S1\"\nlead_time_days = \"long\"",
            "18:1 overrides[0].lead_time_days: invalid type: string \"long\", expected a non-negative whole number",
        ),
        (
            "[[overrides]]\nrule = \"acos_band\"\nsku = \"S1\"\nmax_percent = 40",
            "17:1 overrides[0].sku: rule acos_band is not per sku: select by campaign",
        ),
        (
            "[[overrides]]\nrule = \"stock_risk\"\nsku = \"S1\"",
            "16:1 overrides[0].rule: unknown rule \"stock_risk\" (did you mean \"stockout_risk\"?)",
        ),
        (
            "[[overrides]]\nrule = \"acos_band\"\ncampaign = 123\naccount = \"nobody\"\nmax_percent = 40",
            "18:1 overrides[0].account: no account is named \"nobody\"",
        ),
        (
            "[[overrides]]\nrule = \"acos_band\"\ncampaign = 123\nmin_percent = 50",
            "18:1 overrides[0].min_percent: min_percent (50) is above max_percent (25)",
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(appended(extra), vec![want.to_string()], "for:\n{extra}");
    }
}

#[test]
fn account_mistakes() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[[accounts]]\nname = \"b\"\nregion = \"na\"\nmarketplaces = [\"US\", \"XX\", \"DE\"]\nalert_to = [\"b@example.com\"]\n[accounts.ads]\nclient_id = \"i\"\nclient_secret = \"s\"\nrefresh_token = \"r\"",
            &[
                "18:23 accounts[1].marketplaces[1]: unknown marketplace \"XX\": use an Amazon marketplace id such as \"ATVPDKIKX0DER\" or a country code such as \"US\"",
                "18:29 accounts[1].marketplaces[2]: marketplace DE (A1PA6795UKMFR9) is in region \"eu\", but the account's region is \"na\"",
            ],
        ),
        (
            "[[accounts]]\nname = \"a\"\nregion = \"eu\"\nmarketplaces = [\"DE\"]\nalert_to = [\"a@example.com\"]\n[accounts.sp_api]\nclient_id = \"i\"\nclient_secret = \"s\"",
            &[
                "16:1 accounts[1].name: account name \"a\" is used twice",
                "20:11 accounts[1].sp_api: missing credentials: set `refresh_token`, `refresh_token_file`, or provide `a.sp_api.refresh_token` in $CREDENTIALS_DIRECTORY (systemd LoadCredential=)",
            ],
        ),
        (
            "[[accounts]]\nname = \"c\"\nmarketplaces = [\"US\"]\nalert_to = [\"c@example.com\"]",
            &[
                "15:1 accounts[1]: missing `region`: \"na\", \"eu\" or \"fe\"",
                "15:1 accounts[1]: neither [accounts.sp_api] nor [accounts.ads] is set: nothing to sync",
            ],
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(appended(extra), *want, "for:\n{extra}");
    }
}

#[test]
fn several_problems_are_all_reported_in_file_order() {
    let got = appended(
        "[schedule]\norders = \"61 * * * *\"\n[rules.conversion_rate]\nmin_percnt = 3\nwindow_days = \"x\"\n[email]\ntransport = \"smpt\"",
    );
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(got[0].starts_with("16:1 schedule.orders"));
    assert!(got[1].starts_with("18:1 rules.conversion_rate.min_percnt"));
    assert!(got[2].starts_with("19:1 rules.conversion_rate.window_days"));
    assert!(got[3].starts_with("21:1 email.transport"));
}

#[test]
fn syntax_errors_say_where() {
    let got = problems("[daemon]\ndatabase = \"x\n");
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("2:"), "{got:?}");
    assert!(got[0].contains("not valid TOML"), "{got:?}");
}

#[cfg(unix)]
#[test]
fn secret_files_and_the_credentials_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("sp-secret");
    std::fs::write(&secret, "from-file\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = base().replace(
        "client_secret = \"s3cr3t-value\"",
        &format!("client_secret_file = \"{}\"", secret.display()),
    );
    let got = problems(&text);
    assert_eq!(
        got,
        vec![format!(
            "12:1 accounts[0].sp_api.client_secret_file: secret file `{0}` is readable by group or others (mode 0644); refusing it: run `chmod 600 {0}`",
            secret.display()
        )]
    );
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = parse(&text).unwrap();
    let creds = sp_credentials(&c);
    assert_eq!(creds.client_secret.expose(), "from-file");

    let missing = base().replace(
        "client_secret = \"s3cr3t-value\"",
        "client_secret_file = \"/nonexistent/flywheel-secret\"",
    );
    assert_eq!(
        problems(&missing),
        vec!["12:1 accounts[0].sp_api.client_secret_file: file `/nonexistent/flywheel-secret` does not exist".to_string()]
    );

    // Left out entirely: taken from $CREDENTIALS_DIRECTORY/<account>.<api>.<key>.
    let creds_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        creds_dir.path().join("a.sp_api.client_secret"),
        "from-systemd\n",
    )
    .unwrap();
    let text = base().replace("client_secret = \"s3cr3t-value\"\n", "");
    let env = Env {
        credentials_directory: Some(creds_dir.path().to_path_buf()),
    };
    let c = Config::from_toml(&text, Path::new("/x/t.toml"), &env).unwrap();
    let creds = sp_credentials(&c);
    assert_eq!(creds.client_secret.expose(), "from-systemd");
}

#[test]
fn debug_output_never_contains_secrets() {
    let text = format!(
        "{}\n[email]\ntransport = \"smtp\"\nhost = \"smtp.example.com\"\nusername = \"u\"\npassword = \"smtp-pa55word\"\n",
        base()
    );
    let c = parse(&text).unwrap();
    let shown = format!("{c:?}");
    for secret in ["s3cr3t-value", "t0ken-value", "smtp-pa55word"] {
        assert!(!shown.contains(secret), "{secret} leaked into Debug");
    }
    assert_eq!(
        c.email.resolved_password.as_ref().unwrap().expose(),
        "smtp-pa55word"
    );
}

#[test]
fn example_config_is_valid_and_documents_the_true_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/flywheel.example.toml");
    // Its placeholders filled, as an operator does before using it.
    let text = EXAMPLE
        .replace("replace-me", "s3cr3t")
        .replace("EXAMPLE", "0a1b2c3d");
    let c = Config::from_toml(&text, &path, &Env::default()).unwrap();
    // Every value the example writes is the default the code uses, so the
    // comments in it cannot lie.
    assert_eq!(c.rules, Rules::default());
    assert_eq!(c.schedule, Schedule::default());
    assert_eq!(c.sync, SyncSettings::default());
    let d = Daemon::default();
    assert_eq!(c.daemon.database, d.database);
    assert_eq!(c.daemon.timezone, d.timezone);
    assert_eq!(c.daemon.retention_days, d.retention_days);
    assert_eq!(c.daemon.shutdown_timeout, d.shutdown_timeout);
    assert_eq!(c.daemon.schedule_jitter, d.schedule_jitter);
    let a = Alerts::default();
    assert_eq!(c.alerts.repeat_interval, a.repeat_interval);
    assert_eq!(c.alerts.send_resolved, a.send_resolved);
    let e = Email::default();
    assert_eq!(
        (c.email.transport, c.email.security, &c.email.from),
        (e.transport, e.security, &e.from)
    );
    assert_eq!((&c.email.dir, c.email.timeout), (&e.dir, e.timeout));
    // Every rule has its own documented section in the example.
    for id in RuleId::ALL {
        assert!(
            EXAMPLE.contains(&format!("[rules.{id}]")),
            "example lacks [rules.{id}]"
        );
    }
    for job in Schedule::JOBS {
        assert!(
            EXAMPLE.contains(&format!("\n{job} = ")),
            "example lacks schedule.{job}"
        );
    }
}

/// [`base`] and then `extra`, which must be valid.
pub(super) fn valid(extra: &str) -> Config {
    parse(&format!("{}\n{extra}", base())).unwrap_or_else(|e| panic!("{e}"))
}

/// A subject of account `a` in the US (add its keys).
fn in_us() -> SubjectRef<'static> {
    SubjectRef {
        account: "a",
        marketplace: "ATVPDKIKX0DER",
        ..Default::default()
    }
}

#[test]
fn overrides_apply_to_their_subject_only() {
    let c = valid("[rules.stockout_risk]\nsafety_days = 10\n\n[[overrides]]\nrule = \"stockout_risk\"\nsku = \"SLOW-BOAT\"\nlead_time_days = 60\n\n[[overrides]]\nrule = \"acos_band\"\ncampaign = 42\nmax_percent = 40\n");
    let subject = |sku| SubjectRef {
        sku: Some(sku),
        ..in_us()
    };
    let slow: rules::StockoutRisk = c.rule_settings(RuleId::StockoutRisk, &subject("SLOW-BOAT"));
    assert_eq!((slow.lead_time_days, slow.safety_days), (60, 10));
    let other: rules::StockoutRisk = c.rule_settings(RuleId::StockoutRisk, &subject("FAST"));
    assert_eq!((other.lead_time_days, other.safety_days), (30, 10));
    let camp = SubjectRef {
        campaign: Some("42"),
        ..in_us()
    };
    let acos: rules::AcosBand = c.rule_settings(RuleId::AcosBand, &camp);
    assert_eq!((acos.min_percent, acos.max_percent), (18.0, 40.0));
}

#[test]
fn effective_settings_merge_each_set_of_overrides_once() {
    // Two overrides for one ASIN (laid over in file order, the later key
    // winning), one for a second ASIN, none for the rest.
    let c = valid(
        "[rules.conversion_rate]
min_sessions = 50

[[overrides]]
rule = \"conversion_rate\"
asin = \"B0A\"
min_percent = 8.0
for = \"1d\"

[[overrides]]
rule = \"conversion_rate\"
asin = \"B0B\"
min_percent = 9.0

[[overrides]]
rule = \"conversion_rate\"
account = \"a\"
min_percent = 7.0

[[overrides]]
rule = \"buy_box\"
asin = \"B0A\"
min_percent = 70.0
",
    );
    let asin = |a| SubjectRef {
        asin: Some(a),
        ..in_us()
    };
    let e = c.effective_settings();
    let a = e.get::<rules::ConversionRate>(&asin("B0A"));
    assert_eq!((a.min_percent, a.min_sessions), (7.0, 50));
    assert_eq!(a.hold, Duration::from_secs(86_400));
    let b = e.get::<rules::ConversionRate>(&asin("B0B"));
    assert_eq!((b.min_percent, b.hold), (7.0, Duration::ZERO));
    // The account-wide override alone selects every other ASIN: one merge,
    // shared by all of them.
    let (x, y) = (
        e.get::<rules::ConversionRate>(&asin("B0X")),
        e.get::<rules::ConversionRate>(&asin("B0Y")),
    );
    assert_eq!((x.min_percent, x.min_sessions), (7.0, 50));
    match (&x, &y) {
        (Effective::Merged(x), Effective::Merged(y)) => assert!(std::rc::Rc::ptr_eq(x, y)),
        other => panic!("{other:?}"),
    }
    // A rule no override selects is the [rules.<id>] value itself.
    let other_account = SubjectRef {
        account: "b",
        ..asin("B0X")
    };
    let base = e.get::<rules::ConversionRate>(&other_account);
    assert!(matches!(base, Effective::Base(r) if std::ptr::eq(r, &c.rules.conversion_rate)));
    assert_eq!(
        e.get::<rules::BuyBox>(&asin("B0A")).min_percent,
        70.0,
        "one rule's overrides do not reach another"
    );
    assert_eq!(e.get::<rules::BuyBox>(&asin("B0B")).min_percent, 90.0);
    // The hold the alert round reads, and Config::rule_settings, agree.
    assert_eq!(
        e.common(RuleId::ConversionRate, &asin("B0A")).hold,
        Duration::from_secs(86_400)
    );
    assert_eq!(
        e.common(RuleId::ConversionRate, &asin("B0B")).hold,
        Duration::ZERO
    );
    for s in ["B0A", "B0B", "B0X"] {
        let one: rules::ConversionRate = c.rule_settings(RuleId::ConversionRate, &asin(s));
        assert_eq!(one, *e.get::<rules::ConversionRate>(&asin(s)), "{s}");
    }
}

#[test]
fn language_defaults_to_en_and_an_account_overrides_it() {
    use crate::model::lang::Lang;
    let c = parse(&base()).unwrap();
    assert_eq!(c.alerts.language, Lang::En);
    assert_eq!(c.language(&c.accounts[0]), Lang::En);

    let text = format!("{}\n[alerts]\nlanguage = \"zh-CN\"\n", base());
    let c = parse(&text).unwrap();
    assert_eq!(c.language(&c.accounts[0]), Lang::ZhCn);

    let own = base().replace(
        "alert_to = [\"x@example.com\"]\n",
        "alert_to = [\"x@example.com\"]\nlanguage = \"en\"\n",
    );
    let c = parse(&format!("{own}\n[alerts]\nlanguage = \"zh-CN\"\n")).unwrap();
    assert_eq!(c.alerts.language, Lang::ZhCn);
    assert_eq!(
        c.language(&c.accounts[0]),
        Lang::En,
        "the account's own wins"
    );
}

#[test]
fn an_unknown_language_names_the_key_and_the_allowed_values() {
    let cases: &[(String, &str)] = &[
        (
            format!("{}\n[alerts]\nlanguage = \"zh\"\n", base()),
            "16:1 alerts.language: unknown value \"zh\": expected one of en, zh-CN",
        ),
        (
            format!("{}\n[alerts]\nlanguage = \"zh_CN\"\n", base()),
            "16:1 alerts.language: unknown value \"zh_CN\": expected one of en, zh-CN (did you mean \"zh-CN\"?)",
        ),
        (
            base().replace(
                "alert_to = [\"x@example.com\"]\n",
                "alert_to = [\"x@example.com\"]\nlanguage = \"fr\"\n",
            ),
            "9:1 accounts[0].language: unknown value \"fr\": expected one of en, zh-CN",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(problems(text), vec![want.to_string()], "for:\n{text}");
    }
}

#[test]
fn the_clock_is_the_system_a_sim_url_or_a_fixed_instant() {
    let clock = |value: &str| {
        let text = test_toml(&format!("database = \"fw.db\"\nclock = \"{value}\""), "a");
        (parse(&text).map(|c| c.daemon.clock), problems(&text))
    };
    assert_eq!(clock("system").0.unwrap(), ClockSource::System);
    assert_eq!(
        clock("http://127.0.0.1:8700/_sim/now").0.unwrap(),
        ClockSource::Sim("http://127.0.0.1:8700/_sim/now".into())
    );
    assert_eq!(
        clock("fixed:2026-03-16T01:00:00-07:00").0.unwrap(),
        ClockSource::Fixed("2026-03-16T08:00:00Z".parse().unwrap())
    );
    // (value, expected problem): each names the key.
    for (value, want) in [
        (
            "fixed:2026-03-16",
            "daemon.clock: \"fixed:2026-03-16\": the fixed instant must be RFC 3339, e.g. \"fixed:2026-03-16T09:00:00Z\" (premature end of input)",
        ),
        (
            "yesterday",
            "daemon.clock: clock must be \"system\", \"fixed:<RFC 3339 instant>\" or the URL of a simulated marketplace's clock (http://127.0.0.1:8700/_sim/now), found \"yesterday\"",
        ),
    ] {
        let got = clock(value).1;
        assert_eq!(got.len(), 1, "{value}: {got:?}");
        assert!(got[0].ends_with(want), "{value}: {got:?}");
    }
}

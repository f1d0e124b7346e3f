//! The real `flywheel` binary: check-config, print-default-config, migrate,
//! exit codes, and secrets kept out of every output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn flywheel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(args)
        .env_remove("FLYWHEEL_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("run flywheel")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/flywheel.example.toml")
}

/// The example config with its placeholders ("replace-me" secrets,
/// "EXAMPLE" ids) filled as an operator would, written to `dir`.
fn filled_example(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(example())
        .unwrap()
        .replace("replace-me", "s3cr3t-from-seller-central")
        .replace("EXAMPLE", "0a1b2c3d");
    let p = dir.join("flywheel.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The keys of the example that hold placeholders.
const PLACEHOLDER_KEYS: [&str; 7] = [
    "accounts[0].seller_id",
    "accounts[0].sp_api.client_id",
    "accounts[0].sp_api.client_secret",
    "accounts[0].sp_api.refresh_token",
    "accounts[0].ads.client_id",
    "accounts[0].ads.client_secret",
    "accounts[0].ads.refresh_token",
];

/// A valid config in `dir` whose database lives in `dir/state` (created
/// here: flywheel creates no directory).
fn write_config(dir: &Path, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let p = dir.join("flywheel.toml");
    std::fs::write(
        &p,
        format!(
            r#"[daemon]
database = "state/flywheel.db"

[[accounts]]
name = "shop"
region = "eu"
marketplaces = ["DE", "FR"]
alert_to = ["ops@example.com"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "CLIENT-SECRET-DO-NOT-PRINT"
refresh_token = "Atzr|REFRESH-TOKEN-DO-NOT-PRINT"
{extra}"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn example_config_checks_ok_once_its_placeholders_are_filled() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = filled_example(dir.path());
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(
        stdout.contains("1 account (1 marketplace), 23/23 rules enabled"),
        "{stdout}"
    );
    // Valid, but alerts written to a folder notify nobody.
    assert!(
        stderr.contains("warning: [email] transport = \"file\" writes every alert to"),
        "{stderr}"
    );
}

#[test]
fn the_example_configs_placeholders_are_errors_naming_key_and_fix() {
    let out = flywheel(&["check-config", "--config", example().to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for key in PLACEHOLDER_KEYS {
        assert!(
            stderr.contains(&format!("{key}: is the example config's placeholder")),
            "{key}: {stderr}"
        );
    }
    assert!(stderr.contains("Merchant Token"), "{stderr}");
    assert!(
        stderr.contains("run `flywheel auth sp --account my-store`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("run `flywheel auth ads --account my-store`"),
        "{stderr}"
    );
    // The secrets written there are not echoed.
    assert!(!stderr.contains("replace-me"), "{stderr}");
}

#[test]
fn config_path_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .arg("check-config")
        .env("FLYWHEEL_CONFIG", filled_example(dir.path()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
}

#[test]
fn misspelled_key_exits_2_naming_key_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "\n[rules.conversion_rate]\nmin_percnt = 10\n");
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let want = format!(
        "{}:16:1: rules.conversion_rate.min_percnt: unknown key `min_percnt` (did you mean `min_percent`?)",
        cfg.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
}

#[test]
fn bad_cron_unknown_marketplace_and_loose_secret_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("ads-secret");
    std::fs::write(&secret, "ADS-SECRET-DO-NOT-PRINT\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let extra = format!(
        "\n[accounts.ads]\nclient_id = \"ads\"\nclient_secret_file = \"{}\"\nrefresh_token = \"r\"\n\n[[accounts]]\nname = \"us\"\nregion = \"na\"\nmarketplaces = [\"USA\"]\nalert_to = [\"us@example.com\"]\n[accounts.sp_api]\nclient_id = \"i\"\nclient_secret = \"s\"\nrefresh_token = \"t\"\n\n[schedule]\ndigest = \"0 8 * * 8\"\n",
        secret.display()
    );
    let cfg = write_config(dir.path(), &extra);
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let c = cfg.display();
    for want in [
        format!("{c}:17:1: accounts[0].ads.client_secret_file: secret file `{}` is readable by group or others (mode 0644); refusing it: run `chmod 600 {}`", secret.display(), secret.display()),
        format!("{c}:23:17: accounts[1].marketplaces[0]: unknown marketplace \"USA\""),
        format!("{c}:31:1: schedule.digest: bad cron expression \"0 8 * * 8\": day-of-week 8 is out of range 0-7"),
        "3 problems in the configuration".to_string(),
    ] {
        assert!(stderr.contains(&want), "missing {want:?} in:\n{stderr}");
    }
    assert!(
        !stderr.contains("DO-NOT-PRINT"),
        "a secret leaked: {stderr}"
    );
}

#[test]
fn missing_config_file_is_a_config_error() {
    let out = flywheel(&["check-config", "--config", "/nonexistent/flywheel.toml"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("/nonexistent/flywheel.toml: 1 problem"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot read the config file"), "{stderr}");
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(flywheel(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(
        flywheel(&["check-config", "--bogus"]).status.code(),
        Some(2)
    );
}

#[test]
fn print_default_config_prints_the_example() {
    let out = flywheel(&["print-default-config"]);
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, std::fs::read_to_string(example()).unwrap());
    // What it prints is a config to edit, not to run: check-config
    // refuses it, naming every placeholder.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("printed.toml");
    std::fs::write(&p, printed).unwrap();
    let out = flywheel(&["check-config", "--config", p.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for key in PLACEHOLDER_KEYS {
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}

fn schema(db: &Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, IFNULL(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows
}

#[test]
fn migrate_creates_the_full_schema_and_rerunning_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "");
    let db = dir.path().join("state/flywheel.db");

    let out = flywheel(&["migrate", "--config", cfg.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Its log went to a pipe, not a terminal: plain text, no colour codes.
    assert!(stderr.contains("INFO applied migration"), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "escape codes in a piped log: {stderr:?}"
    );
    assert!(
        stdout.contains(
            "schema version 0 -> 7 (applied 0001_initial, 0002_inventory_planning_typed, 0003_job_runs_process, 0004_pricing_competitive_price, 0005_alerts_notified, 0006_status_ops, 0007_receivers)"
        ),
        "{stdout}"
    );
    let first = schema(&db);
    let tables: Vec<&str> = first
        .iter()
        .filter(|(t, _, _)| t == "table")
        .map(|(_, n, _)| n.as_str())
        .collect();
    // What DESIGN §3 syncs and §5 keeps, table by table.
    for t in [
        "accounts",
        "marketplaces",
        "products",
        "orders",
        "order_items",
        "inventory_snapshots",
        "inventory_planning",
        "sales_traffic_asin",
        "sales_traffic_daily",
        "returns",
        "seller_feedback",
        "account_health_snapshots",
        "catalog_ranks",
        "pricing_snapshots",
        "listings",
        "listing_issues",
        "review_topics",
        "fee_estimates",
        "search_query_performance",
        "ads_profiles",
        "ads_campaigns",
        "ads_campaign_daily",
        "ads_search_term_daily",
        "ads_advertised_product_daily",
        "job_runs",
        "job_cursors",
        "pending_reports",
        "api_call_counts",
        "alerts",
        "alert_acks",
        "silences",
        "outbox",
        "schema_migrations",
    ] {
        assert!(tables.contains(&t), "table {t} missing; have {tables:?}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);

    let out = flywheel(&["migrate", "--config", cfg.to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("schema version 7, up to date"), "{stdout}");
    assert_eq!(
        schema(&db),
        first,
        "a second migrate must not change the schema"
    );
}

#[test]
fn a_database_from_a_newer_flywheel_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "");
    assert_eq!(
        flywheel(&["migrate", "--config", cfg.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let db = dir.path().join("state/flywheel.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01T00:00:00Z')",
        [],
    )
    .unwrap();
    drop(conn);
    let out = flywheel(&["migrate", "--config", cfg.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("has schema version 99, newer than this flywheel knows (7)"),
        "{stderr}"
    );
}

#[test]
fn secrets_never_reach_logs_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "");
    for cmd in ["check-config", "migrate"] {
        let out = flywheel(&["-vv", cmd, "--config", cfg.to_str().unwrap()]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            !stdout.contains("DO-NOT-PRINT") && !stderr.contains("DO-NOT-PRINT"),
            "{stdout}{stderr}"
        );
    }
}

#[test]
fn check_config_reads_products_files_naming_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("products.csv");
    std::fs::write(
        &good,
        "sku,name,owner\nFW-SPATULA-01,硅胶铲三件套,王芳\nFW-MUG-01,\"Travel Mug, 12oz\",\n",
    )
    .unwrap();
    let cfg = write_config(dir.path(), "");
    let text_of = std::fs::read_to_string(&cfg).unwrap();
    let with_file = |file: &str| {
        let t = text_of.replacen(
            "alert_to = [\"ops@example.com\"]",
            &format!("alert_to = [\"ops@example.com\"]\nproducts_file = \"{file}\""),
            1,
        );
        std::fs::write(&cfg, t).unwrap();
    };
    with_file("products.csv");
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");

    std::fs::write(
        dir.path().join("bad.csv"),
        "sku,name,owner\nFW-SPATULA-01,Spatula,\nFW-MUG-01,,Li\n",
    )
    .unwrap();
    with_file("bad.csv");
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let want = format!(
        "{}: accounts[0].products_file: products_file {}: row 3, column 2 (name): SKU FW-MUG-01 has no name",
        cfg.display(),
        dir.path().join("bad.csv").display()
    );
    assert!(stderr.contains(&want), "missing {want:?} in:\n{stderr}");

    with_file("missing.csv");
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("accounts[0].products_file: file `") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

#[test]
fn check_and_alerts_print_in_the_configured_language() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "\n[alerts]\nlanguage = \"zh-CN\"\n");
    let cfg = cfg.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = flywheel(&[&["--config", cfg], args].concat());
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        stdout
    };
    run(&["migrate"]);
    // Nothing synced: every rule lacks data, which the table counts.
    let table = run(&["check"]);
    assert!(table.starts_with("flywheel 检查（截至 "), "{table}");
    assert!(table.contains("缺少数据（不计入问题）"), "{table}");
    assert!(
        table.contains("shop 法国站") && table.contains("保持上次状态"),
        "{table}"
    );
    for e in [
        "check first",
        "critical",
        "warning",
        "No data",
        "finding",
        "subject",
        "e.g.",
        "as of",
    ] {
        assert!(!table.contains(e), "{e:?} in\n{table}");
    }
    // JSON stays English: scripts read it.
    let json = run(&["check", "--format", "json"]);
    assert!(json.contains("\"summary\":\"no data"), "{json}");
    assert!(!json.contains("缺少数据"), "{json}");
    assert_eq!(run(&["alerts", "--all"]), "还没有告警\n");
    let open = run(&["alerts"]);
    assert!(open.starts_with("没有未关闭的告警"), "{open}");
    let silenced = run(&[
        "silence",
        "--rule",
        "stockout_risk",
        "--sku",
        "S1",
        "--for",
        "1d",
    ]);
    assert!(
        silenced.starts_with("静默 #1：规则 断货风险，SKU S1 已静默至 "),
        "{silenced}"
    );
    assert!(silenced.contains("目前覆盖 0 条未关闭的告警"), "{silenced}");
}

/// The minimal real config of README's install section, with its paths
/// moved into `dir` and its secret files written there (mode 0600).
fn readme_minimal_config(dir: &Path, with_refresh_token: bool) -> PathBuf {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = "<!-- minimal-config:";
    let after = &readme[readme
        .find(marker)
        .expect("README marks its minimal config")..];
    let start = after
        .find("```toml\n")
        .expect("a toml block after the marker")
        + 8;
    let block = &after[start..];
    let block = &block[..block.find("```").expect("the toml block ends")];
    let etc = dir.join("etc");
    let var = dir.join("var");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&var).unwrap();
    let text = block
        .replace("/etc/flywheel/", &format!("{}/", etc.display()))
        .replace("/var/lib/flywheel/", &format!("{}/", var.display()));
    let mut secrets = vec!["acme-us.sp.client_secret", "smtp.password"];
    if with_refresh_token {
        secrets.push("acme-us.sp.refresh_token");
    }
    for name in secrets {
        let p = etc.join(name);
        std::fs::write(&p, "s3cr3t\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    let p = dir.join("flywheel.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_readme_minimal_config_passes_check_config_once_its_secret_files_exist() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = readme_minimal_config(dir.path(), true);
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    // No placeholder and no file transport: nothing to warn about.
    assert!(!stderr.contains("warning"), "{stderr}");

    // Before `flywheel auth sp` wrote the refresh token, the file it names
    // is missing: an error naming the key.
    let dir = tempfile::tempdir().unwrap();
    let cfg = readme_minimal_config(dir.path(), false);
    let out = flywheel(&["check-config", "--config", cfg.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("refresh_token_file"), "{stderr}");
}

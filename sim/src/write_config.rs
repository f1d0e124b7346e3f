//! `--write-config PATH`: a flywheel config wired to a running sim, so a
//! user can try the whole product in two commands.
//!
//! Beside PATH it places the database (`flywheel.db`), the `file` email
//! transport's `mail/` folder, `costs.csv` (the scenario's unit costs) and
//! `ratings.csv` (its star ratings, when any product has one). Per-SKU lead
//! times become `[[overrides]]` of `stockout_risk`. The key names are those of
//! flywheel's config schema (issue 2); the sim does not link flywheel, so a
//! test on the flywheel side checks that the written file passes
//! `check-config`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::world::World;

/// Default lead time of `stockout_risk` (DESIGN §2.2): overrides are written
/// only for SKUs that differ.
const DEFAULT_LEAD_TIME_DAYS: u32 = 30;

/// The recipient the demo mail goes to.
const DEMO_RECIPIENT: &str = "seller@example.com";

/// Write the config and its companion files. Paths inside the config are
/// absolute, so flywheel can run from any directory.
pub fn write_config(path: &Path, world: &World, base_url: &str) -> anyhow::Result<()> {
    let dir = absolute_dir(path)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mail = dir.join("mail");
    std::fs::create_dir_all(&mail).with_context(|| format!("cannot create {}", mail.display()))?;

    let costs = dir.join("costs.csv");
    std::fs::write(&costs, costs_csv(world))
        .with_context(|| format!("cannot write {}", costs.display()))?;
    let ratings = match ratings_csv(world) {
        Some(text) => {
            let p = dir.join("ratings.csv");
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            Some(p)
        }
        None => None,
    };

    let text = config_toml(
        world,
        base_url,
        &dir.join("flywheel.db"),
        &mail,
        &costs,
        ratings.as_deref(),
    );
    // Owner-only: it holds the (simulated) credentials inline, and
    // flywheel warns about a config other users can read that does.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .and_then(|mut f| {
            // An older file keeps its mode through open(): tighten it.
            #[cfg(unix)]
            f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            std::io::Write::write_all(&mut f, text.as_bytes())
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The directory PATH lives in, made absolute.
fn absolute_dir(path: &Path) -> anyhow::Result<PathBuf> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent = if parent.is_absolute() {
        parent.to_path_buf()
    } else {
        std::env::current_dir()?.join(parent)
    };
    Ok(parent)
}

/// `sku,unit_cost,inbound_freight` (margin_floor's costs_file), from the
/// world's cost rows (generated products included).
fn costs_csv(world: &World) -> String {
    let mut out = String::from("sku,unit_cost,inbound_freight\n");
    for c in world.costs() {
        let _ = writeln!(
            out,
            "{},{:.2},{:.2}",
            csv_field(&c.sku),
            c.unit_cost,
            c.inbound_freight
        );
    }
    out
}

/// `asin,rating,rating_count,date` (rating_floor's ratings_file): the
/// world's weekly rating history up to day 0, so a 30-day slide is visible.
/// `None` when no product has a rating.
fn ratings_csv(world: &World) -> Option<String> {
    let rows = world.ratings(world.day0());
    if rows.is_empty() {
        return None;
    }
    let mut out = String::from("asin,rating,rating_count,date\n");
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            csv_field(&r.asin),
            r.rating,
            r.count,
            r.date
        );
    }
    Some(out)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn qp(p: &Path) -> String {
    q(&p.display().to_string())
}

fn config_toml(
    world: &World,
    base_url: &str,
    database: &Path,
    mail: &Path,
    costs: &Path,
    ratings: Option<&Path>,
) -> String {
    let sc = world.scenario();
    let s = &sc.seller;
    let token_url = format!("{base_url}/auth/o2/token");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# flywheel config wired to the simulated marketplace at {base_url}\n\
         # (written by `flywheel sim --write-config`: scenario \"{}\", seed {}).\n\
         # The credentials are the scenario's; they only work against the sim.\n",
        sc.name,
        world.seed()
    );
    let _ = writeln!(out, "costs_file = {}", qp(costs));
    if let Some(r) = ratings {
        let _ = writeln!(out, "ratings_file = {}", qp(r));
    }
    let _ = writeln!(
        out,
        "\n[daemon]\ndatabase = {}\ntimezone = {}\n# Follow the sim's clock (GET /_sim/now), not the system clock.\nclock = {}",
        qp(database),
        q(&s.timezone),
        q(&format!("{base_url}/_sim/now"))
    );
    let _ = writeln!(
        out,
        "\n[[accounts]]\nname = {}\nregion = {}\nmarketplaces = [{}]\nseller_id = {}\nalert_to = [{}]",
        q(&s.account),
        q(&s.region),
        q(&s.marketplace_id),
        q(&s.seller_id),
        q(DEMO_RECIPIENT)
    );
    for (table, creds) in [("sp_api", &s.sp), ("ads", &s.ads)] {
        let _ = writeln!(
            out,
            "\n[accounts.{table}]\nclient_id = {}\nclient_secret = {}\nrefresh_token = {}\nendpoint = {}\ntoken_url = {}",
            q(&creds.client_id),
            q(&creds.client_secret),
            q(&creds.refresh_token),
            q(base_url),
            q(&token_url)
        );
        if table == "ads" {
            let _ = writeln!(out, "profile_ids = [{}]", s.ads_profile_id);
        }
    }
    let _ = writeln!(
        out,
        "\n[email]\ntransport = \"file\"\ndir = {}\nfrom = {}\nto = [{}]",
        qp(mail),
        q("flywheel <flywheel@localhost>"),
        q(DEMO_RECIPIENT)
    );
    for p in world
        .products()
        .iter()
        .filter(|p| p.lead_time_days != DEFAULT_LEAD_TIME_DAYS)
    {
        let _ = writeln!(
            out,
            "\n[[overrides]]\nrule = \"stockout_risk\"\nsku = {}\nlead_time_days = {}",
            q(&p.sku),
            p.lead_time_days
        );
    }
    out
}

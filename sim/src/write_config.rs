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
//!
//! A seller in several marketplaces is one account with every market in
//! `marketplaces` and every market's Ads profile in `ads.profile_ids`. The
//! costs and ratings CSVs have no marketplace column (flywheel reads them per
//! SKU and per ASIN), so a SKU or ASIN sold in several markets is written
//! once, with its first market's numbers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use std::collections::HashSet;

use crate::world::{MarketWorlds, World};

/// Default lead time of `stockout_risk` (DESIGN §2.2): overrides are written
/// only for SKUs that differ.
const DEFAULT_LEAD_TIME_DAYS: u32 = 30;

/// The recipient the demo mail goes to.
const DEMO_RECIPIENT: &str = "seller@example.com";

/// Write the config and its companion files. Paths inside the config are
/// absolute, so flywheel can run from any directory.
pub fn write_config(path: &Path, worlds: &impl MarketWorlds, base_url: &str) -> anyhow::Result<()> {
    let worlds = worlds.market_worlds();
    let worlds = worlds.as_slice();
    let dir = absolute_dir(path)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mail = dir.join("mail");
    std::fs::create_dir_all(&mail).with_context(|| format!("cannot create {}", mail.display()))?;

    let costs = dir.join("costs.csv");
    std::fs::write(&costs, costs_csv(worlds))
        .with_context(|| format!("cannot write {}", costs.display()))?;
    let ratings = match ratings_csv(worlds) {
        Some(text) => {
            let p = dir.join("ratings.csv");
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            Some(p)
        }
        None => None,
    };

    let text = config_toml(
        worlds,
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
/// worlds' cost rows (generated products included; a SKU once).
fn costs_csv(worlds: &[&World]) -> String {
    let mut out = String::from("sku,unit_cost,inbound_freight\n");
    let mut seen = HashSet::new();
    let rows = worlds.iter().flat_map(|w| w.costs());
    for c in rows.filter(|c| seen.insert(c.sku.clone())) {
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
/// `None` when no product has a rating. An ASIN sold in several markets
/// takes its first market's history.
fn ratings_csv(worlds: &[&World]) -> Option<String> {
    let mut rows = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    for world in worlds.iter() {
        let mine: Vec<_> = world
            .ratings(world.day0())
            .into_iter()
            .filter(|r| !taken.contains(&r.asin))
            .collect();
        taken.extend(mine.iter().map(|r| r.asin.clone()));
        rows.extend(mine);
    }
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
    worlds: &[&World],
    base_url: &str,
    database: &Path,
    mail: &Path,
    costs: &Path,
    ratings: Option<&Path>,
) -> String {
    let world: &World = worlds[0];
    let sc = world.scenario();
    let s = &sc.seller;
    let marketplaces: Vec<String> = worlds.iter().map(|w| q(w.marketplace_id())).collect();
    let profiles: Vec<String> = worlds
        .iter()
        .map(|w| w.scenario().seller.ads_profile_id.to_string())
        .collect();
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
        marketplaces.join(", "),
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
            let _ = writeln!(out, "profile_ids = [{}]", profiles.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "\n[email]\ntransport = \"file\"\ndir = {}\nfrom = {}\nto = [{}]",
        qp(mail),
        q("flywheel <flywheel@localhost>"),
        q(DEMO_RECIPIENT)
    );
    // A seller in several markets: each market's lead times apply to its marketplace.
    let several = worlds.len() > 1;
    for w in worlds.iter() {
        for p in w
            .products()
            .iter()
            .filter(|p| p.lead_time_days != DEFAULT_LEAD_TIME_DAYS)
        {
            let _ = write!(out, "\n[[overrides]]\nrule = \"stockout_risk\"\n");
            if several {
                let _ = writeln!(out, "marketplace = {}", q(w.marketplace_id()));
            }
            let _ = writeln!(
                out,
                "sku = {}\nlead_time_days = {}",
                q(&p.sku),
                p.lead_time_days
            );
        }
    }
    out
}

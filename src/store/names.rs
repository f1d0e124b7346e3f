//! What messages call an account's products and campaigns
//! ([`Names`]): Amazon's names as the sync jobs stored them, with the
//! seller's own `products_file` over them.
//!
//! Names are kept as Amazon wrote them (a title of 200 characters stays
//! whole); shortening them for a narrow screen is the renderer's job.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::snapshot::csv_fields;
use super::StoreError;
use crate::config::{Account, Config};
use crate::model::names::Names;

/// One row of a `products_file` (CSV `sku,name,owner`, owner optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub owner: Option<String>,
}

/// Why a `products_file` cannot be used: the file, and where in it.
#[derive(Debug, thiserror::Error)]
pub enum ProductsFileError {
    #[error("products_file {}: cannot read it: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// `row` counts lines from 1 (the header is row 1); `column` from 1,
    /// with the header's name of that column.
    #[error(
        "products_file {}: row {row}{}: {message}",
        path.display(),
        column.as_ref().map(|(i, name)| match name.as_str() {
            "" => format!(", column {i}"),
            name => format!(", column {i} ({name})"),
        }).unwrap_or_default()
    )]
    Row {
        path: PathBuf,
        row: usize,
        column: Option<(usize, String)>,
        message: String,
    },
}

/// Reads a `products_file`: a header naming `sku` and `name` (and
/// optionally `owner`; other columns are ignored), then one row per SKU.
/// UTF-8 (a byte-order mark is allowed), so names may be Chinese. Every
/// problem names the file, the row and the column.
pub fn read_products(path: &Path) -> Result<Vec<ProductRow>, ProductsFileError> {
    let bytes = std::fs::read(path).map_err(|cause| ProductsFileError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    parse_products(path, &bytes)
}

fn parse_products(path: &Path, bytes: &[u8]) -> Result<Vec<ProductRow>, ProductsFileError> {
    let at = |row: usize, column: Option<(usize, &str)>, message: String| ProductsFileError::Row {
        path: path.to_path_buf(),
        row,
        column: column.map(|(i, n)| (i + 1, n.to_string())),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let row = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        at(
            row,
            None,
            "not UTF-8 text (save the file as UTF-8, e.g. \"CSV UTF-8\" in Excel)".into(),
        )
    })?;
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_row, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = csv_fields(header)
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let col = |want: &str| names.iter().position(|h| h == want);
    let (Some(sku_col), Some(name_col)) = (col("sku"), col("name")) else {
        let missing = if col("sku").is_none() { "sku" } else { "name" };
        return Err(at(
            header_row,
            None,
            format!("the header has no `{missing}` column (write `sku,name,owner`)"),
        ));
    };
    let owner_col = col("owner");
    let mut out = Vec::new();
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for (row, line) in lines {
        let fields = csv_fields(line);
        if fields.len() > names.len() {
            return Err(at(
                row,
                Some((names.len(), "")),
                format!(
                    "{} fields where the header has {} (quote a name that holds a comma)",
                    fields.len(),
                    names.len()
                ),
            ));
        }
        let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        let (sku, name) = (get(sku_col), get(name_col));
        if sku.is_empty() {
            return Err(at(row, Some((sku_col, "sku")), "the SKU is empty".into()));
        }
        if name.is_empty() {
            return Err(at(
                row,
                Some((name_col, "name")),
                format!("SKU {sku} has no name"),
            ));
        }
        if let Some(first) = first_row.insert(sku.to_string(), row) {
            return Err(at(
                row,
                Some((sku_col, "sku")),
                format!("SKU {sku} is named twice (first on row {first})"),
            ));
        }
        out.push(ProductRow {
            sku: sku.to_string(),
            name: name.to_string(),
            owner: owner_col
                .map(get)
                .filter(|o| !o.is_empty())
                .map(str::to_string),
        });
    }
    Ok(out)
}

/// The `products_file` that applies to `account`: its own, else the
/// config-wide one.
pub fn products_file<'a>(cfg: &'a Config, account: &'a Account) -> Option<&'a Path> {
    account
        .products_file
        .as_deref()
        .or(cfg.products_file.as_deref())
}

/// The names of `account`'s products and campaigns:
/// - per (marketplace, SKU): the listing's item name, and the ASIN it is
///   listed under (`listings`, else `products`);
/// - per (marketplace, ASIN): Amazon's title (`products`, which the
///   listings job fills from the catalogue's item name);
/// - per campaign id: its name (`ads_campaigns`, else the newest name the
///   daily campaign report gave it);
/// - then the `products_file` over them: the seller's short name wins for
///   the SKU in every marketplace of the account, and for the ASIN the SKU
///   is listed under; its owners by SKU.
///
/// A `products_file` that cannot be read is logged and left out (the
/// round goes on with Amazon's names; `check-config` reports the file).
pub fn names(conn: &Connection, cfg: &Config, account: &Account) -> Result<Names, StoreError> {
    let mut n = Names::default();
    let a = account.name.as_str();
    let key = |m: String, k: String| (m, k);
    let rows = product_rows(
        conn,
        "SELECT marketplace_id, sku, asin, item_name FROM listings WHERE account = ?1",
        a,
    )?;
    for (m, sku, asin, name) in rows {
        if let Some(asin) = asin.filter(|x| !x.is_empty()) {
            n.sku_asin.insert(key(m.clone(), sku.clone()), asin);
        }
        if let Some(name) = name.filter(|x| !x.trim().is_empty()) {
            n.skus.insert(key(m, sku), name);
        }
    }
    // Per SKU order, so that an ASIN listed under several SKUs takes the
    // first SKU's title whatever order SQLite returns.
    let rows = product_rows(
        conn,
        "SELECT marketplace_id, sku, asin, title FROM products WHERE account = ?1
         ORDER BY marketplace_id, sku",
        a,
    )?;
    for (m, sku, asin, title) in rows {
        let Some(asin) = asin.filter(|x| !x.is_empty()) else {
            continue;
        };
        n.sku_asin
            .entry(key(m.clone(), sku))
            .or_insert_with(|| asin.clone());
        if let Some(title) = title.filter(|x| !x.trim().is_empty()) {
            n.asins.entry(key(m, asin)).or_insert(title);
        }
    }
    // The newest name each campaign's daily rows carry (SQLite returns the
    // bare column of the row holding MAX(date)); the list call's wins.
    let reported = super::all_rows(
        conn,
        "SELECT d.campaign_id, d.campaign_name, MAX(d.date)
         FROM ads_campaign_daily d JOIN ads_profiles p ON p.profile_id = d.profile_id
         WHERE p.account = ?1 AND d.campaign_name IS NOT NULL AND d.campaign_name <> ''
         GROUP BY d.campaign_id",
        params![a],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    let listed = super::all_rows(
        conn,
        "SELECT c.campaign_id, c.name
         FROM ads_campaigns c JOIN ads_profiles p ON p.profile_id = c.profile_id
         WHERE p.account = ?1 AND c.name IS NOT NULL AND c.name <> ''",
        params![a],
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    for (id, name) in reported.into_iter().chain(listed) {
        n.campaigns.insert(id.to_string(), name);
    }
    if let Some(path) = products_file(cfg, account) {
        match read_products(path) {
            Ok(rows) => apply_products_file(&mut n, account, &rows),
            Err(e) => tracing::warn!(account = a, "{e}; using Amazon's product names"),
        }
    }
    Ok(n)
}

/// (marketplace, SKU, ASIN, name) of a listing or product.
type NameRow = (String, String, Option<String>, Option<String>);

/// The [`NameRow`]s of `sql` for the account `?1`.
fn product_rows(conn: &Connection, sql: &str, account: &str) -> Result<Vec<NameRow>, StoreError> {
    super::all_rows(conn, sql, params![account], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
}

/// The seller's short names over Amazon's: for each SKU in every
/// marketplace of the account (and the ASIN it is listed under there),
/// and the owners.
fn apply_products_file(n: &mut Names, account: &Account, rows: &[ProductRow]) {
    let mut asin_named: BTreeSet<(String, String)> = BTreeSet::new();
    for mp in account.marketplaces() {
        let m = mp.id.to_string();
        for r in rows {
            n.skus.insert((m.clone(), r.sku.clone()), r.name.clone());
            if let Some(asin) = n.asin_of(&m, &r.sku).map(str::to_string) {
                // The first SKU of the file names an ASIN with several.
                let k = (m.clone(), asin);
                if asin_named.insert(k.clone()) {
                    n.asins.insert(k, r.name.clone());
                }
            }
        }
    }
    for r in rows {
        if let Some(o) = &r.owner {
            n.owners.insert(r.sku.clone(), o.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<ProductRow>, String> {
        parse_products(Path::new("/p/products.csv"), text.as_bytes()).map_err(|e| e.to_string())
    }

    fn row(sku: &str, name: &str, owner: Option<&str>) -> ProductRow {
        ProductRow {
            sku: sku.into(),
            name: name.into(),
            owner: owner.map(str::to_string),
        }
    }

    #[test]
    fn a_products_file_is_read_with_chinese_names_quotes_and_optional_owners() {
        let got = parse(
            "\u{feff}SKU,Name,Owner\n\
             FW-SPATULA-01,硅胶铲三件套,王芳\n\
             \n\
             FW-MUG-01,\"Travel Mug, 12oz\",\n\
             FW-KNIFE-01,Chef Knife\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                row("FW-SPATULA-01", "硅胶铲三件套", Some("王芳")),
                row("FW-MUG-01", "Travel Mug, 12oz", None),
                row("FW-KNIFE-01", "Chef Knife", None),
            ]
        );
        assert_eq!(
            parse("sku,name\nA,Alpha\n").unwrap(),
            vec![row("A", "Alpha", None)]
        );
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn every_problem_names_the_file_row_and_column() {
        let cases = [
            (
                "sku,title\nA,x\n",
                "products_file /p/products.csv: row 1: the header has no `name` column (write `sku,name,owner`)",
            ),
            (
                "name,owner\nx,y\n",
                "products_file /p/products.csv: row 1: the header has no `sku` column (write `sku,name,owner`)",
            ),
            (
                "sku,name,owner\nA,Alpha,\n,Beta,\n",
                "products_file /p/products.csv: row 3, column 1 (sku): the SKU is empty",
            ),
            (
                "owner,sku,name\n,A,Alpha\n\n,B,\n",
                "products_file /p/products.csv: row 4, column 3 (name): SKU B has no name",
            ),
            (
                "sku,name\nA,Alpha\nA,Again\n",
                "products_file /p/products.csv: row 3, column 1 (sku): SKU A is named twice (first on row 2)",
            ),
            (
                "sku,name\nA,Travel Mug, 12oz\n",
                "products_file /p/products.csv: row 2, column 3: 3 fields where the header has 2 (quote a name that holds a comma)",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err(), want, "{text:?}");
        }
        // GBK bytes (Excel's default "CSV" in a Chinese Windows) on row 3.
        let mut bytes = b"sku,name\nA,Alpha\nB,".to_vec();
        bytes.extend([0xb9, 0xe8, 0xbd, 0xba]);
        let e = parse_products(Path::new("/p/products.csv"), &bytes).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("products_file /p/products.csv: row 3: not UTF-8 text"),
            "{e}"
        );
        let e = read_products(Path::new("/nonexistent/products.csv")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("products_file /nonexistent/products.csv: cannot read it:"),
            "{e}"
        );
    }

    const T: &str = "2026-03-01T00:00:00Z";
    const US: &str = "ATVPDKIKX0DER";

    fn db() -> Connection {
        let conn = crate::store::testing::db();
        crate::store::testing::add_marketplace(&conn, "a", US);
        let listing = |sku: &str, asin: &str, name: Option<&str>| {
            conn.execute(
                "INSERT INTO listings (account, marketplace_id, sku, asin, item_name, is_buyable,
                     is_discoverable, is_suppressed, first_seen_at, observed_at)
                 VALUES ('a', ?1, ?2, ?3, ?4, 1, 1, 0, ?5, ?5)",
                params![US, sku, asin, name, T],
            )
            .unwrap();
        };
        listing("S1", "B01", Some("Amazon Spatula Set of 3"));
        listing("S2", "B01", None);
        let product = |sku: &str, asin: &str, title: Option<&str>| {
            conn.execute(
                "INSERT INTO products (account, marketplace_id, sku, asin, title, first_seen_at,
                     updated_at)
                 VALUES ('a', ?1, ?2, ?3, ?4, ?5, ?5)",
                params![US, sku, asin, title, T],
            )
            .unwrap();
        };
        product("S1", "B01", Some("Amazon Spatula Set of 3"));
        product("S3", "B03", Some("Amazon Mug"));
        crate::store::testing::add_ads_profile(&conn, 7, "a", US);
        conn.execute(
            "INSERT INTO ads_campaigns (profile_id, ad_product, campaign_id, name, updated_at)
             VALUES (7, 'SP', 1005, 'SP - Tumbler - Manual', ?1)",
            [T],
        )
        .unwrap();
        for (day, id, name) in [
            ("2026-02-01", 1005, "old name"),
            ("2026-02-01", 2001, "SB - Brand - old"),
            ("2026-02-20", 2001, "SB - Brand"),
            ("2026-02-10", 2001, "SB - Brand - between"),
        ] {
            conn.execute(
                "INSERT INTO ads_campaign_daily (profile_id, ad_product, date, campaign_id,
                     campaign_name, impressions, clicks, cost, currency, fetched_at)
                 VALUES (7, 'SB', ?1, ?2, ?3, 0, 0, 0, 'USD', ?4)",
                params![day, id, name, T],
            )
            .unwrap();
        }
        conn
    }

    fn account(products_file: Option<PathBuf>) -> Account {
        Account {
            name: "a".into(),
            marketplaces: vec!["US".into()],
            products_file,
            ..Account::default()
        }
    }

    #[test]
    fn names_come_from_listings_products_and_campaigns() {
        let conn = db();
        let n = names(&conn, &Config::default(), &account(None)).unwrap();
        assert_eq!(
            n.product(US, Some("S1"), None),
            Some("Amazon Spatula Set of 3")
        );
        assert_eq!(
            n.product(US, Some("S2"), None),
            Some("Amazon Spatula Set of 3"),
            "a SKU without a listing name takes its ASIN's title"
        );
        assert_eq!(n.product(US, None, Some("B03")), Some("Amazon Mug"));
        assert_eq!(n.asin_of(US, "S3"), Some("B03"), "from products");
        assert_eq!(n.product(US, None, Some("B09")), None);
        assert_eq!(n.campaign("1005"), Some("SP - Tumbler - Manual"));
        assert_eq!(n.campaign("2001"), Some("SB - Brand"), "the newest day's");
        assert_eq!(n.campaign("3001"), None);
        assert!(n.owners.is_empty());
    }

    #[test]
    fn the_sellers_short_names_win_and_carry_owners() {
        let conn = db();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("products.csv");
        std::fs::write(&file, "sku,name,owner\nS2,硅胶铲,王芳\nS3,Mug,\n").unwrap();
        let n = names(&conn, &Config::default(), &account(Some(file.clone()))).unwrap();
        assert_eq!(n.product(US, Some("S2"), None), Some("硅胶铲"));
        assert_eq!(
            n.product(US, Some("S1"), None),
            Some("Amazon Spatula Set of 3"),
            "S1 keeps its own listing name"
        );
        assert_eq!(
            n.product(US, None, Some("B01")),
            Some("硅胶铲"),
            "the ASIN S2 is listed under"
        );
        assert_eq!(n.product(US, None, Some("B03")), Some("Mug"));
        assert_eq!(n.owners.get("S2").map(String::as_str), Some("王芳"));
        assert!(!n.owners.contains_key("S3"));

        // The config-wide file applies when the account names none; a bad
        // file leaves Amazon's names.
        let cfg = Config {
            products_file: Some(file),
            ..Config::default()
        };
        let n = names(&conn, &cfg, &account(None)).unwrap();
        assert_eq!(n.product(US, Some("S3"), None), Some("Mug"));
        std::fs::write(dir.path().join("bad.csv"), "sku\nS3\n").unwrap();
        let n = names(
            &conn,
            &Config::default(),
            &account(Some(dir.path().join("bad.csv"))),
        )
        .unwrap();
        assert_eq!(n.product(US, Some("S3"), None), Some("Amazon Mug"));
    }
}

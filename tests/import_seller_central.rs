//! `flywheel import` for a seller without API roles: the report names
//! Seller Central shows are accepted as well as Amazon's API names
//! (`--list-types` prints the table), and the all-orders file downloaded
//! from Reports > Fulfillment > All Orders fills `orders` and
//! `order_items` as the orders job does.
//!
//! `tests/fixtures/seller_central/all_orders.txt` is written by hand in
//! the column layout Amazon documents for
//! `GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL` (the SP-API "Order
//! Tracking reports attributes" page: 32 tab-separated columns, ISO-8601
//! dates with an offset): an FBA order of 2 units, a seller-fulfilled
//! business order of two lines with a promotion, a cancelled order and a
//! pending one with no price yet.

#[path = "common/import_cli.rs"]
mod import_cli;

use std::path::{Path, PathBuf};
use std::process::Command;

use import_cli::{Env, Run};

const ORDER_DATE: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL";
const LAST_UPDATE: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seller_central/all_orders.txt")
}

fn fixture_text() -> String {
    std::fs::read_to_string(fixture()).expect("fixture")
}

/// Every stored order, one line each, by order id.
fn orders(env: &Env) -> Vec<String> {
    rows(
        env,
        "SELECT order_id, marketplace_id, purchase_day, status, raw_status, fulfillment_channel,
                ship_service_level, is_business_order, currency, order_total, source
         FROM orders ORDER BY order_id",
    )
}

/// Every stored order line, one line each, by order id and SKU.
fn items(env: &Env) -> Vec<String> {
    rows(
        env,
        "SELECT order_id, sku, asin, quantity, quantity_shipped, item_price, item_tax,
                shipping_price, promotion_discount, item_status
         FROM order_items ORDER BY order_id, sku",
    )
}

/// The rows of `sql`, each its values joined by spaces: NULL as `-`,
/// amounts with two decimals.
fn rows(env: &Env, sql: &str) -> Vec<String> {
    use rusqlite::types::Value;
    let db = env.db();
    let mut stmt = db.prepare(sql).expect(sql);
    let n = stmt.column_count();
    let out = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get::<_, Value>(i)? {
                        Value::Null => "-".to_string(),
                        Value::Integer(v) => v.to_string(),
                        Value::Real(v) => format!("{v:.2}"),
                        Value::Text(v) => v,
                        Value::Blob(v) => format!("{v:?}"),
                    })
                })
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(|cells| cells.join(" "))
        })
        .expect(sql)
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect(sql);
    out
}

/// `flywheel import` with other arguments than a file to import.
fn flywheel(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(args)
        .env_remove("FLYWHEEL_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run flywheel");
    Run::from(out)
}

#[test]
fn an_all_orders_file_fills_the_orders_tables() {
    let env = Env::new("");
    let out = env.import("All Orders", &fixture()).ok().to_string();
    assert!(out.contains("orders, order_items"), "{out}");
    assert!(out.contains("4 orders, 5 lines"), "{out}");
    // Days are the marketplace's (Los Angeles): 07:30Z on March 1 is still
    // February 28 there. The order total is the sum of its lines (item,
    // shipping and their taxes, less discounts); a cancelled order and one
    // without prices yet have none.
    assert_eq!(
        orders(&env),
        [
            "112-1111111-1000001 ATVPDKIKX0DER 2026-02-27 shipped Shipped FBA EXPEDITED 0 USD 28.06 report",
            "112-1111111-1000002 ATVPDKIKX0DER 2026-02-28 shipped Shipped FBM STANDARD 1 USD 22.82 report",
            "112-1111111-1000003 ATVPDKIKX0DER 2026-02-28 canceled Cancelled FBA STANDARD 0 - - report",
            "112-1111111-1000004 ATVPDKIKX0DER 2026-03-02 pending Pending FBA STANDARD 0 USD - report",
        ]
    );
    assert_eq!(
        items(&env),
        [
            "112-1111111-1000001 MUG-12 B0MUG00001 2 2 25.98 2.08 0.00 0.00 Shipped",
            "112-1111111-1000002 LID-01 B0LID00001 1 1 5.00 0.40 0.00 0.00 Shipped",
            "112-1111111-1000002 MUG-12 B0MUG00001 1 1 12.99 1.04 4.99 2.00 Shipped",
            "112-1111111-1000003 MUG-12 B0MUG00001 0 0 - - - - Cancelled",
            "112-1111111-1000004 MUG-12 B0MUG00001 1 0 - - - - Unshipped",
        ]
    );
    // The same file again changes nothing.
    let again = env.import("All Orders", &fixture()).ok().to_string();
    assert!(again.contains("0 new or changed"), "{again}");
}

#[test]
fn a_seller_central_name_imports_as_the_api_name_does() {
    let by_api = Env::new("");
    by_api.import(ORDER_DATE, &fixture()).ok();
    let expected = (orders(&by_api), items(&by_api));
    assert_eq!(expected.0.len(), 4);
    // Seller Central's names, in any case and punctuation, and the
    // last-update variant of the same file.
    for name in [
        "All Orders",
        "all-orders",
        "ALL ORDERS REPORT",
        "Flat File All Orders Report by Order Date",
        LAST_UPDATE,
        "All Orders by Last Update",
    ] {
        let env = Env::new("");
        let out = env.import(name, &fixture()).ok().to_string();
        assert_eq!((orders(&env), items(&env)), expected, "{name}: {out}");
    }
}

#[test]
fn bad_rows_are_named_by_line_and_column() {
    let env = Env::new("");
    let text = fixture_text();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 3 (the second order's first line): a purchase date that is not
    // one; line 6 (the pending order): a quantity that is not a number.
    let mut cells: Vec<&str> = lines[2].split('\t').collect();
    cells[2] = "yesterday";
    lines[2] = cells.join("\t");
    let mut cells: Vec<&str> = lines[5].split('\t').collect();
    cells[13] = "two";
    lines[5] = cells.join("\t");
    let file = env.file("orders.txt", format!("{}\n", lines.join("\n")).as_bytes());
    let out = env.import("All Orders", &file).ok().to_string();
    assert!(out.contains("line 3, column purchase-date"), "{out}");
    assert!(out.contains("line 6, column quantity"), "{out}");
    // The other rows are stored: orders 1 and 3, and order 2's other line.
    assert_eq!(
        orders(&env).iter().map(|o| &o[..19]).collect::<Vec<_>>(),
        [
            "112-1111111-1000001",
            "112-1111111-1000002",
            "112-1111111-1000003"
        ]
    );
    assert_eq!(items(&env).len(), 3);

    // A file of only bad rows is refused, naming the first; nothing stored.
    let env = Env::new("");
    let header = text.lines().next().unwrap();
    let file = env.file("orders.txt", format!("{header}\n{}\n", lines[2]).as_bytes());
    let err = env.import("All Orders", &file).failed().to_string();
    assert!(err.contains("no valid row"), "{err}");
    assert!(err.contains("line 2, column purchase-date"), "{err}");
    assert_eq!(env.int("SELECT COUNT(*) FROM orders"), 0);
}

#[test]
fn an_orders_file_as_another_type_is_refused_naming_the_orders_type() {
    let env = Env::new("");
    let err = env
        .import("GET_SELLER_FEEDBACK_DATA", &fixture())
        .failed()
        .to_string();
    assert!(
        err.contains("looks like GET_FLAT_FILE_ALL_ORDERS_DATA"),
        "{err}"
    );
    // A file without the columns an order needs.
    let file = env.file("orders.txt", b"amazon-order-id\tsku\n111-1\tMUG-12\n");
    let err = env.import("All Orders", &file).failed().to_string();
    assert!(err.contains("missing columns: purchase-date"), "{err}");
}

#[test]
fn list_types_prints_every_type_with_its_seller_central_names() {
    // No config needed.
    let run = flywheel(&[
        "import",
        "--list-types",
        "--config",
        "/nonexistent/flywheel.toml",
    ]);
    let out = run.ok();
    for api in [
        ORDER_DATE,
        LAST_UPDATE,
        "GET_SALES_AND_TRAFFIC_REPORT",
        "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
        "GET_FBA_INVENTORY_PLANNING_DATA",
        "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
        "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
        "GET_SELLER_FEEDBACK_DATA",
        "GET_V2_SELLER_PERFORMANCE_REPORT",
    ] {
        assert!(
            out.lines().any(|l| l == api),
            "{api} on a line of its own: {out}"
        );
    }
    for name in [
        "\"All Orders\"",
        "\"Feedback Manager\"",
        "\"FBA Customer Returns\"",
        "\"Manage Inventory Health\"",
        "Reports > Fulfillment > All Orders",
    ] {
        assert!(out.contains(name), "{name}: {out}");
    }
}

#[test]
fn an_unknown_type_names_the_known_ones() {
    let env = Env::new("");
    let run = env.import("Monthly Orders", &fixture());
    assert_eq!(run.code, Some(2), "{run:?}");
    for named in [
        "\"Monthly Orders\"",
        ORDER_DATE,
        "GET_SELLER_FEEDBACK_DATA",
        "--list-types",
    ] {
        assert!(run.stderr.contains(named), "{named}: {run:?}");
    }
}

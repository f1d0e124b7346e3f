//! Seller feedback dates as each marketplace writes them, through
//! `flywheel import --marketplace` as a seller runs it: a file written for
//! the US, the UK, Germany, Sweden and Japan, each with dates whose day is
//! 12 or less (so month and day could be swapped), lands every row on its
//! day; a file whose dates do not fit its marketplace's order is refused,
//! naming the row, the column and the marketplace, and stores nothing.

#[path = "common/import_cli.rs"]
mod import_cli;

use import_cli::{Env, Run, SellsIn};

/// An account named "shop" in `region` selling in `marketplaces`.
fn env(region: &str, marketplaces: &str) -> Env {
    Env::selling(
        &SellsIn {
            region,
            marketplaces,
        },
        "",
    )
}

const HEADER: &str = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n";

/// A feedback file of `dates`, one 1-star row each.
fn file(env: &Env, dates: &[&str]) -> std::path::PathBuf {
    let mut text = HEADER.to_string();
    for (i, d) in dates.iter().enumerate() {
        text += &format!("{d}\t1\tlate\t\t202-0000000-000000{i}\tr{i}@marketplace.amazon.com\n");
    }
    env.file("feedback.txt", text.as_bytes())
}

fn import(env: &Env, marketplace: &str, dates: &[&str]) -> Run {
    let f = file(env, dates);
    let out = env
        .command("GET_SELLER_FEEDBACK_DATA", &f)
        .args(["--marketplace", marketplace])
        .output()
        .expect("run flywheel");
    Run::from(out)
}

/// (marketplace id, date) of every stored feedback row, by order id.
fn stored(env: &Env) -> Vec<(String, String)> {
    let db = env.db();
    let mut stmt = db
        .prepare("SELECT marketplace_id, feedback_date FROM seller_feedback ORDER BY order_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

#[test]
fn each_marketplaces_feedback_dates_land_on_their_day() {
    // 5 November 2026, 3 April 2026 and 12 January 2026, as each writes them.
    let want = ["2026-11-05", "2026-04-03", "2026-01-12"];
    let cases: [(&str, &str, &str, &str, [&str; 3]); 5] = [
        (
            "na",
            r#""US""#,
            "US",
            "ATVPDKIKX0DER",
            ["11/05/26", "4/3/26", "01/12/26"],
        ),
        (
            "eu",
            r#""UK", "DE", "SE""#,
            "UK",
            "A1F83G8C2ARO7P",
            ["05/11/26", "3/4/26", "12/01/26"],
        ),
        (
            "eu",
            r#""UK", "DE", "SE""#,
            "DE",
            "A1PA6795UKMFR9",
            ["05.11.26", "3.4.26", "12.01.26"],
        ),
        (
            "eu",
            r#""UK", "DE", "SE""#,
            "SE",
            "A2NODRKZP88ZB9",
            ["2026-11-05", "2026-04-03", "2026-01-12"],
        ),
        (
            "fe",
            r#""JP""#,
            "JP",
            "A1VC38T7YXB528",
            ["26/11/05", "26/4/3", "26/01/12"],
        ),
    ];
    for (region, marketplaces, key, id, dates) in cases {
        let env = env(region, marketplaces);
        let out = import(&env, key, &dates).ok().to_string();
        assert!(out.contains("3 rows read"), "{key}: {out}");
        let got = stored(&env);
        let expected: Vec<(String, String)> = want
            .iter()
            .map(|d| (id.to_string(), d.to_string()))
            .collect();
        assert_eq!(got, expected, "{key}");
    }
}

#[test]
fn dates_in_another_marketplaces_order_are_refused_naming_row_column_and_marketplace() {
    // A US file (month first) imported as the UK's: 13 is no month.
    let env = env("eu", r#""UK", "DE""#);
    let err = import(&env, "UK", &["11/13/26", "12/25/26"])
        .failed()
        .to_string();
    assert!(err.contains("line 2, column Date"), "{err}");
    assert!(
        err.contains("marketplace UK (A1F83G8C2ARO7P, written day/month/year)"),
        "{err}"
    );
    assert!(stored(&env).is_empty(), "nothing stored");

    // A UK file (slashes) imported as Germany's (dots): refused as well,
    // even where the day is 12 or less and both readings would be dates.
    let err = import(&env, "DE", &["05/11/26"]).failed().to_string();
    assert!(
        err.contains("marketplace DE (A1PA6795UKMFR9, written day.month.year)"),
        "{err}"
    );
    assert!(stored(&env).is_empty(), "nothing stored");

    // A Japanese file (year first) as the US's.
    let env = self::env("na", r#""US""#);
    let err = import(&env, "US", &["26/11/05"]).failed().to_string();
    assert!(
        err.contains("marketplace US (ATVPDKIKX0DER, written month/day/year)"),
        "{err}"
    );
}

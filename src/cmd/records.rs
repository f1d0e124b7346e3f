//! `--format csv` of `check`, `kpis` and `alerts`: the JSON output's records
//! as a spreadsheet, for sellers who work in one. A header row, then one
//! row per record with the same fields as the JSON record (the report's
//! `at` first, so a saved file says when it was taken).
//!
//! - A field some records lack (a marketplace has no `asin`) is a column
//!   all the same, placed after the field it follows in the records that
//!   have it; its cell is empty where the record lacks it, as for null.
//! - The objects named in `spread` (a finding's `window`, an alert's
//!   `labels`) become one column per key, `window.start`, `labels.sku`;
//!   any other object or list (evidence, diagnosis) is its JSON text in
//!   one cell, since its keys differ from rule to rule.
//! - The text starts with a UTF-8 byte order mark. Excel (Windows and Mac)
//!   opens a CSV file without one in the system's legacy code page, which
//!   garbles product names in Japanese or Chinese; with it, every
//!   spreadsheet (Excel, LibreOffice, Google Sheets, Numbers) and pandas
//!   read UTF-8. A script reading the CSV strips it (Python's `utf-8-sig`),
//!   or better reads `--format json`.
//!
//! Pure: values in, text out.

use serde_json::{Map, Value};

/// The byte order mark that tells Excel the file is UTF-8.
pub const BOM: &str = "\u{feff}";

/// The columns of `records`, in the records' own key order: a key one
/// record has and an earlier one lacked goes right after the key it
/// follows there.
fn columns(records: &[&Map<String, Value>], spread: &[&str]) -> Vec<String> {
    fn merge(cols: &mut Vec<String>, keys: impl Iterator<Item = String>) {
        let mut after: Option<usize> = None;
        for k in keys {
            let at = match cols.iter().position(|c| *c == k) {
                Some(i) => i,
                None => {
                    let i = after.map_or(0, |a| a + 1);
                    cols.insert(i, k);
                    i
                }
            };
            after = Some(at);
        }
    }
    let mut cols = Vec::new();
    for r in records {
        merge(
            &mut cols,
            r.iter().flat_map(|(k, v)| match v {
                Value::Object(o) if spread.contains(&k.as_str()) => {
                    o.keys().map(|s| format!("{k}.{s}")).collect::<Vec<_>>()
                }
                _ => vec![k.clone()],
            }),
        );
    }
    cols
}

/// A field as a cell: text as is, numbers and booleans as JSON writes them,
/// null or absent empty, an object or list as its JSON text.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            // A computed ratio (1.4000000000000001) reads as 1.4 in a
            // spreadsheet; integers and large values stay as they are.
            Some(f) if n.is_f64() && f.abs() < 1e6 => ((f * 1e9).round() / 1e9).to_string(),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// The field `col` of a record (`labels.sku` for a spread object's key).
fn field<'a>(r: &'a Map<String, Value>, col: &str, spread: &[&str]) -> Option<&'a Value> {
    if let Some(v) = r.get(col) {
        return Some(v);
    }
    let (outer, inner) = col.split_once('.')?;
    spread
        .contains(&outer)
        .then(|| r.get(outer)?.get(inner))
        .flatten()
}

/// `records` (JSON objects) as CSV, after the byte order mark: the `lead`
/// fields (the same in every row) first, then the records' own.
pub fn csv(lead: &[(&str, Value)], records: &[Value], spread: &[&str]) -> anyhow::Result<String> {
    let objects: Vec<&Map<String, Value>> = records.iter().filter_map(Value::as_object).collect();
    let cols = columns(&objects, spread);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = lead.iter().map(|(k, _)| k.to_string()).chain(cols.clone());
    w.write_record(header)?;
    for r in objects {
        let row = lead
            .iter()
            .map(|(_, v)| cell(Some(v)))
            .chain(cols.iter().map(|c| cell(field(r, c, spread))));
        w.write_record(row)?;
    }
    let body = String::from_utf8(w.into_inner()?)?;
    Ok(format!("{BOM}{body}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let text = text
            .strip_prefix(BOM)
            .expect("the text starts with the BOM");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let head = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r
            .records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect();
        (head, rows)
    }

    #[test]
    fn numbers_lose_binary_noise_and_keep_their_digits() {
        for (v, want) in [
            (json!(1.4000000000000001), "1.4"),
            (json!(0.1 + 0.2), "0.3"),
            (json!(14.285714285714), "14.285714286"),
            (json!(53116), "53116"),
            (json!(-2.5), "-2.5"),
            (json!(12345678.25), "12345678.25"),
            (json!(true), "true"),
        ] {
            assert_eq!(cell(Some(&v)), want, "{v}");
        }
    }

    #[test]
    fn a_column_first_seen_later_sits_after_the_field_it_follows() {
        let records = [
            json!({"kpi": "sessions", "marketplace": "M", "value": 700.0, "status": "ok"}),
            json!({"kpi": "bsr", "marketplace": "M", "asin": "B0X", "name": "Spatula, blue \"L\"",
                   "value": null, "status": "no_data"}),
        ];
        let text = csv(&[("at", json!("2026-03-02"))], &records, &[]).unwrap();
        let (head, rows) = read(&text);
        assert_eq!(
            head,
            [
                "at",
                "kpi",
                "marketplace",
                "asin",
                "name",
                "value",
                "status"
            ]
        );
        assert_eq!(
            rows,
            [
                ["2026-03-02", "sessions", "M", "", "", "700", "ok"],
                [
                    "2026-03-02",
                    "bsr",
                    "M",
                    "B0X",
                    "Spatula, blue \"L\"",
                    "",
                    "no_data"
                ],
            ]
        );
    }

    #[test]
    fn spread_objects_are_columns_and_others_json_text() {
        let records = [
            json!({"id": "a1", "labels": {"account": "shop", "sku": "S1"},
                   "evidence": {"units": 3}, "summary": "已断货"}),
            json!({"id": "b2", "labels": {"account": "shop", "asin": "B0X"},
                   "evidence": {"units": 4}, "summary": "x"}),
        ];
        let (head, rows) = read(&csv(&[], &records, &["labels"]).unwrap());
        assert_eq!(
            head,
            [
                "id",
                "labels.account",
                "labels.asin",
                "labels.sku",
                "evidence",
                "summary"
            ]
        );
        assert_eq!(
            rows[0],
            ["a1", "shop", "", "S1", r#"{"units":3}"#, "已断货"]
        );
        assert_eq!(rows[1], ["b2", "shop", "B0X", "", r#"{"units":4}"#, "x"]);
    }

    #[test]
    fn no_records_is_the_header_alone() {
        let (head, rows) = read(&csv(&[("at", json!("2026-03-02"))], &[], &[]).unwrap());
        assert_eq!((head, rows.len()), (vec!["at".to_string()], 0));
    }
}

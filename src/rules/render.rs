//! Findings as `flywheel check --format json` prints them (the document
//! `{"at", "findings": [...]}`, in English whatever the language: scripts
//! read it), and the names of their products and campaigns ([`Names`],
//! per account). The table a person reads is written in their language by
//! `alert::render::check_table`, which uses the alert email's words.
//! Pure: strings in, strings out.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::Finding;
use crate::model::names::Names;

/// The names of each account's products and campaigns, by account.
pub type AccountNames = BTreeMap<String, Names>;

/// The name of a subject of `account` given by its keys (see
/// [`Names::of_subject`]): `None` for a marketplace, `Some(None)` for a
/// product or campaign whose name is not known.
pub fn subject_name<'a>(
    names: &'a AccountNames,
    account: &str,
    key: impl Fn(&str) -> Option<&'a str>,
) -> Option<Option<&'a str>> {
    static NONE: Names = Names {
        skus: BTreeMap::new(),
        asins: BTreeMap::new(),
        sku_asin: BTreeMap::new(),
        campaigns: BTreeMap::new(),
        owners: BTreeMap::new(),
    };
    names.get(account).unwrap_or(&NONE).of_subject(key)
}

/// The name of a finding's product or campaign (see [`subject_name`]).
pub fn name_of<'a>(names: &'a AccountNames, f: &'a Finding) -> Option<Option<&'a str>> {
    let key = |k: &str| f.subject.keys().find(|(x, _)| *x == k).map(|(_, v)| v);
    subject_name(names, &f.subject.account, key)
}

/// `{"at": DATE, "findings": [...]}` (one line per finding, for diffs).
/// A finding about a product or campaign carries its `name` (null when
/// unknown) after the subject keys.
pub fn json(at: NaiveDate, findings: &[Finding], names: &AccountNames) -> String {
    let mut out = format!("{{\"at\": \"{at}\", \"findings\": [");
    for (i, f) in findings.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        let mut v = f.to_json();
        if let (Some(name), Some(obj)) = (name_of(names, f), v.as_object_mut()) {
            // The keys keep their order (preserve_order): `name` goes just
            // before `value`, after the subject's keys.
            let mut with = serde_json::Map::new();
            for (k, x) in std::mem::take(obj) {
                if k == "value" {
                    with.insert("name".into(), name.into());
                }
                with.insert(k, x);
            }
            *obj = with;
        }
        out.push_str(&serde_json::to_string(&v).expect("a finding serializes"));
    }
    out.push_str(if findings.is_empty() {
        "]}\n"
    } else {
        "\n]}\n"
    });
    out
}

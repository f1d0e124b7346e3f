//! What the commands' text tables need beyond messages: columns aligned by
//! how wide a terminal draws their text (a Chinese character takes two
//! cells), and a subject named in the reader's words ("sku X" / "SKU X",
//! "campaign 1005" / "广告活动 1005").

use unicode_width::UnicodeWidthStr;

use super::{marketplace_name, tr_args, Lang};
use crate::model::marketplace;

/// The cells a terminal uses to draw `s` (CJK characters take two).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` followed by spaces up to `w` cells (as `{s:<w}` for ASCII text).
pub fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// A subject by its keys (as in the finding JSON) in `lang`: "asin B0X sku
/// S1", "campaign 123 \"term\"" in English (`model::series::subject_label`,
/// as the commands always printed it); "ASIN B0X SKU S1", "广告活动 123
/// “term”" in Chinese. `None` for a marketplace-level subject.
pub fn subject_words<'a>(lang: Lang, key: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let mut parts = Vec::new();
    for (k, id) in [
        ("asin", "cli-subject-asin"),
        ("sku", "cli-subject-sku"),
        ("campaign_id", "cli-subject-campaign"),
    ] {
        if let Some(v) = key(k) {
            parts.push(tr_args(lang, id, &[("id", v.into())]));
        }
    }
    if let Some(t) = key("search_term") {
        parts.push(match lang {
            Lang::En => format!("\"{t}\""),
            Lang::ZhCn => format!("“{t}”"),
        });
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A subject by its keys in `lang`; a marketplace-level one by its
/// marketplace: the country code in English (as the commands always
/// printed it), "美国站" in Chinese, the id itself when unknown.
pub fn subject_label<'a>(lang: Lang, key: impl Fn(&str) -> Option<&'a str> + Copy) -> String {
    if let Some(s) = subject_words(lang, key) {
        return s;
    }
    let m = key("marketplace").unwrap_or_default();
    match (marketplace::lookup(m), lang) {
        (Some(x), Lang::En) => x.country.to_string(),
        (Some(x), _) => marketplace_name(lang, x),
        (None, _) => m.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_pads_by_display_width() {
        assert_eq!(width("断货"), 4);
        assert_eq!(pad("断货", 6), "断货  ");
        assert_eq!(pad("sku", 5), format!("{:<5}", "sku"));
        assert_eq!(pad("too long", 3), "too long");
    }

    #[test]
    fn subjects_in_each_language() {
        let keys = |k: &str| match k {
            "marketplace" => Some("ATVPDKIKX0DER"),
            "sku" => Some("S1"),
            "campaign_id" => Some("1005"),
            "search_term" => Some("bag"),
            _ => None,
        };
        let en = subject_label(Lang::En, keys);
        assert_eq!(en, crate::model::series::subject_label(keys));
        assert_eq!(en, "sku S1 campaign 1005 \"bag\"");
        assert_eq!(
            subject_label(Lang::ZhCn, keys),
            "SKU S1 广告活动 1005 “bag”"
        );
        let market = |k: &str| (k == "marketplace").then_some("ATVPDKIKX0DER");
        assert_eq!(subject_label(Lang::En, market), "US");
        assert_eq!(subject_label(Lang::ZhCn, market), "美国站");
        assert_eq!(subject_words(Lang::ZhCn, market), None);
    }
}

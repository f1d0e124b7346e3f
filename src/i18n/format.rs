//! Numbers as a person reads them: grouped digits, money with the
//! marketplace's currency, percentages, hours, days and dates.
//!
//! Digits are written the same way in both languages (`1,234.50`: the
//! comma groups thousands and the point marks decimals in zh-CN too). What
//! differs is the words around them ("31 h" / "31 小时"), date order
//! ("Mar 2, 2026" / "2026年3月2日") and some currency symbols: in zh-CN a
//! bare "¥" means renminbi and a bare "$" is ambiguous, so zh-CN writes
//! "US$1,234.50" and "JP¥1,235" where en writes "$1,234.50" and "¥1,235".
//! Dollars other than the US dollar carry their country in both ("C$",
//! "A$", "S$", "MX$"); currencies without a widely read symbol are written
//! with their ISO code ("SEK 1,234.50").
//!
//! Rounding is half away from zero (1234.5 yen is "¥1,235"), unlike Rust's
//! `{:.0}`, which rounds half to even.

use chrono::NaiveDate;

use super::{tr_args, Lang};

/// How one currency is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    /// ISO 4217 code, as `Marketplace::currency` has it.
    pub code: &'static str,
    /// Digits after the decimal point (ISO 4217 minor units).
    pub decimals: u32,
    /// Written before the amount in en, with no space unless it ends in one.
    en: &'static str,
    /// Written before the amount in zh-CN.
    zh: &'static str,
}

impl Currency {
    /// The prefix written before an amount in `lang`.
    pub fn symbol(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::ZhCn => self.zh,
        }
    }
}

macro_rules! cur {
    ($code:literal, $dec:literal, $en:literal, $zh:literal) => {
        Currency {
            code: $code,
            decimals: $dec,
            en: $en,
            zh: $zh,
        }
    };
}

/// Every currency of `model::marketplace::MARKETPLACES`.
const CURRENCIES: &[Currency] = &[
    cur!("USD", 2, "$", "US$"),
    cur!("CAD", 2, "C$", "C$"),
    cur!("MXN", 2, "MX$", "MX$"),
    cur!("BRL", 2, "R$", "R$"),
    cur!("EUR", 2, "€", "€"),
    cur!("GBP", 2, "£", "£"),
    cur!("SEK", 2, "SEK ", "SEK "),
    cur!("PLN", 2, "PLN ", "PLN "),
    cur!("ZAR", 2, "R", "ZAR "),
    cur!("EGP", 2, "EGP ", "EGP "),
    cur!("TRY", 2, "₺", "₺"),
    cur!("SAR", 2, "SAR ", "SAR "),
    cur!("AED", 2, "AED ", "AED "),
    cur!("INR", 2, "₹", "₹"),
    cur!("SGD", 2, "S$", "S$"),
    cur!("AUD", 2, "A$", "A$"),
    cur!("JPY", 0, "¥", "JP¥"),
];

/// The currency `code` names; an unknown code is written as itself with
/// two decimals.
pub fn currency(code: &str) -> Currency {
    CURRENCIES
        .iter()
        .copied()
        .find(|c| c.code == code)
        .unwrap_or(Currency {
            code: "",
            decimals: 2,
            en: "",
            zh: "",
        })
}

/// Whether `code` is a currency this module knows how to write.
pub fn is_known_currency(code: &str) -> bool {
    CURRENCIES.iter().any(|c| c.code == code)
}

fn non_finite(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("–".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "∞" } else { "-∞" }.into())
    } else {
        None
    }
}

/// "1234567" → "1,234,567".
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `x` with exactly `decimals` digits after the point and grouped
/// thousands: `fixed(1234.5, 2)` is "1,234.50".
pub fn fixed(x: f64, decimals: u32) -> String {
    if let Some(s) = non_finite(x) {
        return s;
    }
    let scale = 10u128.pow(decimals);
    let scaled = (x.abs() * scale as f64).round() as u128;
    let (int, frac) = (scaled / scale, scaled % scale);
    let sign = if x < 0.0 && scaled > 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{}", group(&int.to_string()))
    } else {
        format!(
            "{sign}{}.{frac:0width$}",
            group(&int.to_string()),
            width = decimals as usize
        )
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A number for people: whole from 100, one decimal from 10, else two;
/// trailing zeros dropped ("1,234", "12.5", "0.35", "3").
pub fn number(x: f64) -> String {
    let decimals = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    trim_zeros(fixed(x, decimals))
}

/// A count, rounded to a whole number: "1,234".
pub fn count(x: f64) -> String {
    fixed(x, 0)
}

/// `amount` in `currency` (an ISO code): "$1,234.50", "€1,234.50",
/// "¥1,235"; in zh-CN "US$1,234.50", "JP¥1,235".
pub fn money(lang: Lang, amount: f64, currency_code: &str) -> String {
    let c = currency(currency_code);
    let digits = fixed(amount.abs(), c.decimals);
    let sign = if amount < 0.0 && digits.chars().any(|d| ('1'..='9').contains(&d)) {
        "-"
    } else {
        ""
    };
    if c.code.is_empty() {
        // Unknown: the ISO code is still unambiguous.
        return format!("{sign}{currency_code} {digits}");
    }
    format!("{sign}{}{digits}", c.symbol(lang))
}

/// A value already in percent: "12.5%", "40%", "0.35%", "140%".
pub fn percent(x: f64) -> String {
    if let Some(s) = non_finite(x) {
        return s;
    }
    let decimals = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 1.0 {
        1
    } else {
        2
    };
    format!("{}%", trim_zeros(fixed(x, decimals)))
}

/// A fraction 0–1 (Amazon's impression and click shares) as a percentage.
pub fn share(x: f64) -> String {
    percent(x * 100.0)
}

/// "31 h" / "31 小时".
pub fn hours(lang: Lang, h: f64) -> String {
    tr_args(lang, "unit-hours", &[("n", number(h).into())])
}

/// "1 day", "12 days" / "12 天".
pub fn days(lang: Lang, d: f64) -> String {
    tr_args(
        lang,
        "unit-days",
        &[("n", number(d).into()), ("count", d.into())],
    )
}

/// "Mar 2, 2026" / "2026年3月2日".
pub fn date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => d.format("%b %-d, %Y").to_string(),
        Lang::ZhCn => d.format("%Y年%-m月%-d日").to_string(),
    }
}

/// "Mar 2" / "3月2日": chart axes, where the year is in the heading.
pub fn date_short(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => d.format("%b %-d").to_string(),
        Lang::ZhCn => d.format("%-m月%-d日").to_string(),
    }
}

/// "Feb 15, 2026 to Mar 1, 2026" / "2026年2月15日 至 2026年3月1日".
pub fn date_range(lang: Lang, start: NaiveDate, end: NaiveDate) -> String {
    tr_args(
        lang,
        "window-range",
        &[
            ("start", date(lang, start).into()),
            ("end", date(lang, end).into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::marketplace::MARKETPLACES;

    #[test]
    fn money_in_each_currency_and_language() {
        let cases: &[(Lang, f64, &str, &str)] = &[
            (Lang::En, 1234.5, "USD", "$1,234.50"),
            (Lang::ZhCn, 1234.5, "USD", "US$1,234.50"),
            (Lang::En, 1234.5, "EUR", "€1,234.50"),
            (Lang::ZhCn, 1234.5, "EUR", "€1,234.50"),
            (Lang::En, 1234.5, "GBP", "£1,234.50"),
            (Lang::En, 1234.5, "CAD", "C$1,234.50"),
            (Lang::En, 1234.5, "JPY", "¥1,235"),
            (Lang::ZhCn, 1234.5, "JPY", "JP¥1,235"),
            (Lang::En, 1234.4, "JPY", "¥1,234"),
            (Lang::En, 0.0, "USD", "$0.00"),
            (Lang::En, 0.005, "USD", "$0.01"),
            (Lang::En, -12.5, "USD", "-$12.50"),
            (Lang::En, -0.001, "USD", "$0.00"),
            (Lang::En, 1_234_567.891, "EUR", "€1,234,567.89"),
            (Lang::En, 12.99, "SEK", "SEK 12.99"),
            (Lang::En, 12.99, "XXX", "XXX 12.99"),
            (Lang::En, f64::INFINITY, "USD", "$∞"),
        ];
        for (lang, x, cur, want) in cases {
            assert_eq!(money(*lang, *x, cur), *want, "{lang} {x} {cur}");
        }
    }

    #[test]
    fn every_marketplace_currency_is_known() {
        for m in MARKETPLACES {
            assert!(
                is_known_currency(m.currency),
                "{} {}",
                m.country,
                m.currency
            );
        }
    }

    #[test]
    fn numbers_percentages_and_counts() {
        let cases: &[(f64, &str, &str)] = &[
            // x, number, percent
            (0.0, "0", "0%"),
            (3.0, "3", "3%"),
            (0.35, "0.35", "0.35%"),
            (0.354, "0.35", "0.35%"),
            (9.999, "10", "10%"),
            (12.5, "12.5", "12.5%"),
            (12.04, "12", "12%"),
            (40.0, "40", "40%"),
            (99.96, "100", "100%"),
            (140.2, "140", "140%"),
            (1234.5, "1,235", "1,235%"),
            (-31.0, "-31", "-31%"),
            (f64::NAN, "–", "–"),
        ];
        for (x, num, pct) in cases {
            assert_eq!(number(*x), *num, "number({x})");
            assert_eq!(percent(*x), *pct, "percent({x})");
        }
        assert_eq!(share(0.125), "12.5%");
        assert_eq!(share(0.0042), "0.42%");
        assert_eq!(count(1234567.0), "1,234,567");
        assert_eq!(count(999.5), "1,000");
        assert_eq!(count(-1000.0), "-1,000");
        assert_eq!(fixed(1.005, 0), "1");
        assert_eq!(fixed(100.0, 2), "100.00");
        assert_eq!(fixed(999_999.999, 2), "1,000,000.00");
    }

    #[test]
    fn hours_days_and_dates() {
        assert_eq!(hours(Lang::En, 31.0), "31 h");
        assert_eq!(hours(Lang::ZhCn, 31.0), "31 小时");
        assert_eq!(hours(Lang::En, 2.25), "2.25 h");
        assert_eq!(days(Lang::En, 1.0), "1 day");
        assert_eq!(days(Lang::En, 12.0), "12 days");
        assert_eq!(days(Lang::En, 0.5), "0.5 days");
        assert_eq!(days(Lang::ZhCn, 12.0), "12 天");
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(date(Lang::En, d), "Mar 2, 2026");
        assert_eq!(date(Lang::ZhCn, d), "2026年3月2日");
        assert_eq!(date_short(Lang::En, d), "Mar 2");
        assert_eq!(date_short(Lang::ZhCn, d), "3月2日");
        let s = NaiveDate::from_ymd_opt(2026, 2, 15).unwrap();
        assert_eq!(date_range(Lang::En, s, d), "Feb 15, 2026 to Mar 2, 2026");
        assert_eq!(
            date_range(Lang::ZhCn, s, d),
            "2026年2月15日 至 2026年3月2日"
        );
    }
}

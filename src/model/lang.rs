//! The languages flywheel writes to a person in (DESIGN §5.1): `en` and
//! `zh-CN`. `[alerts] language` picks one, an account's `language`
//! overrides it; `i18n` turns a [`Lang`] into words and number formats.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A language of everything flywheel writes to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
pub enum Lang {
    /// English (the default).
    #[default]
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese as written in mainland China.
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Lang {
    /// Every language, in the order check-config lists them.
    pub const ALL: &'static [Lang] = &[Lang::En, Lang::ZhCn];

    /// The BCP 47 tag, as the config writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a config value names; exact tags only (`zh-CN`, not
    /// `zh_cn`), the same spelling the config accepts.
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL.iter().copied().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::parse(s).ok_or_else(|| {
            format!(
                "unknown language \"{s}\": expected one of {}",
                Lang::ALL
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_config_tags() {
        let cases: &[(&str, Option<Lang>)] = &[
            ("en", Some(Lang::En)),
            ("zh-CN", Some(Lang::ZhCn)),
            ("zh_CN", None),
            ("zh", None),
            ("EN", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(Lang::parse(s), *want, "{s:?}");
            assert_eq!(s.parse::<Lang>().ok(), *want, "{s:?}");
        }
        for l in Lang::ALL {
            assert_eq!(Lang::parse(&l.to_string()), Some(*l));
        }
        assert_eq!(Lang::default(), Lang::En);
        assert_eq!(
            "fr".parse::<Lang>().unwrap_err(),
            "unknown language \"fr\": expected one of en, zh-CN"
        );
    }

    #[test]
    fn serde_uses_the_same_tags() {
        #[derive(Deserialize)]
        struct T {
            language: Lang,
        }
        let t: T = toml::from_str("language = \"zh-CN\"").unwrap();
        assert_eq!(t.language, Lang::ZhCn);
        assert!(toml::from_str::<T>("language = \"de\"").is_err());
    }
}

//! Plain values shared by the store and every layer above it. Nothing here
//! reads a clock, a file or the database, and nothing imports another part
//! of flywheel: only std and crates.
//!
//! | module | owns |
//! |---|---|
//! | [`lang`] | the languages flywheel writes to a person in (`en`, `zh-CN`) |
//! | [`links`] | each marketplace's retail, Seller Central and advertising console hosts; detail-page, Seller Central and console URLs |
//! | [`marketplace`] | Amazon's marketplaces: id, country, region, time zone (a parsed `Tz`), currency |
//! | [`time`] | the one DST-correct [`time::day_start`] and `local_day` |
//! | [`rule`] | rule ids with their link and subject kind, severities, `no_data` |
//! | [`needs`] | which data each rule needs, declared once |
//! | [`snapshot`] | the rule [`snapshot::Snapshot`]: what the rules read about one marketplace |
//! | [`finding`] | a rule's [`finding::Finding`] and its JSON shape (DESIGN §2.1) |
//! | [`alert`] | an alert row: episode state, last finding |
//! | [`series`] | an alert as a message shows it, and its chart series |
//! | [`history`] | one alert subject's stored data over its chart's days |
//! | [`message`] | a rendered message before it becomes an outbox row |
//! | [`names`] | what messages call products and campaigns |
//! | [`sales`] | an account's sales per day over the last 7 days, per marketplace and ASIN (what money at stake is measured against) |
//! | [`calls`] | the key and counts of one API-call counter row |

pub mod alert;
pub mod calls;
pub mod finding;
pub mod history;
pub mod lang;
pub mod links;
pub mod marketplace;
pub mod message;
pub mod names;
pub mod needs;
pub mod rule;
pub mod sales;
pub mod series;
pub mod snapshot;
pub mod time;

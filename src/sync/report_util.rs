//! Helpers shared by the report-based seller data jobs (sales_traffic,
//! search_query_performance, inventory_planning, returns, seller_feedback,
//! account_health) and by `flywheel import`: marketplace days, the dates a
//! report request carries, the years a report's date may have, JSON
//! documents read as a stream, lenient JSON field readers, and a
//! document's period check. Flat files are `super::flatfile`'s; the
//! report step itself is `super::report`'s.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use encoding_rs::Encoding;

use super::flatfile::{parse_num, too_long, NumberForm, Text};
use super::report::ReportRequest;
use super::Ctx;
use crate::model::marketplace::Marketplace;
use crate::store::seller_reports::Scope;

/// The marketplace's zone (DESIGN §2.1); UTC if the table names an unknown one.
pub(crate) fn tz(m: &Marketplace) -> Tz {
    m.tz
}

/// The marketplace day `t` falls on.
pub(crate) fn day_of(m: &Marketplace, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz(m)).date_naive()
}

/// The instant a marketplace day starts (the first valid local time when
/// midnight falls in a DST gap).
pub(crate) fn day_start(m: &Marketplace, d: NaiveDate) -> DateTime<Utc> {
    let zone = tz(m);
    for minutes in [0i64, 60, 120] {
        let local = d.and_time(NaiveTime::MIN) + chrono::Duration::minutes(minutes);
        if let Some(t) = zone.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    d.and_time(NaiveTime::MIN).and_utc()
}

/// How a request names a whole day for the date-based report types (sales
/// & traffic, SQP, seller feedback), whose docs say the time component is
/// ignored: noon UTC of that date, which is the same calendar date in every
/// zone from UTC−12 to UTC+11, whether Amazon reads the date in the offset
/// sent or in the marketplace's zone.
pub(crate) fn date_param(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(12, 0, 0).expect("noon exists").and_utc()
}

/// Years a report's date may have. chrono's `%Y` also reads `-026` and
/// `+12026`, which the tables refuse (they CHECK `YYYY-MM-DD`, so a whole
/// report failed to store: found by fuzzing, fuzz/regressions/
/// import_bytes/mfn_return_date_negative_year.tsv); nothing Amazon writes
/// is before 1990 (two-digit years read as the first century otherwise).
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=9999;

/// Whether `d` is a date a report can hold (its year in [`YEARS`]).
pub fn is_plausible(d: &NaiveDate) -> bool {
    YEARS.contains(&d.year())
}

/// The order of a date's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    MonthDayYear,
    DayMonthYear,
    YearMonthDay,
}

/// How one marketplace writes the report's `Date`: the order of its parts
/// and their separator. Day and month may lack their leading zero; the
/// year has two digits, or four.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateForm {
    pub order: DateOrder,
    pub sep: char,
}

impl DateForm {
    /// How the form reads to a person: "day/month/year".
    pub fn describe(self) -> String {
        let parts = match self.order {
            DateOrder::MonthDayYear => ["month", "day", "year"],
            DateOrder::DayMonthYear => ["day", "month", "year"],
            DateOrder::YearMonthDay => ["year", "month", "day"],
        };
        parts.join(&self.sep.to_string())
    }
}

/// How a marketplace writes a date in the flat files that localise it.
/// The `Date` of GET_SELLER_FEEDBACK_DATA follows the marketplace: Amazon
/// writes it as the marketplace's own short date, so `05/11/26` is 5
/// November in the UK and 11 May in the US. What is known of each
/// marketplace (Amazon documents none of it; this is what the sellers'
/// files show, as Airbyte's source-amazon-seller-partner reads them in
/// `SellerFeedbackReportsTypeTransformer`, with a test per marketplace,
/// and the fixture of shared/amazon/sp-api/REFERENCE.md for the US):
///
/// | marketplaces | form | example (13 January 2026) |
/// |---|---|---|
/// | US | month/day/year | `1/13/26` |
/// | CA, MX, BR, UK, IE, FR, IT, ES, NL, BE, PL, TR, AE, SA, EG, IN, AU, SG | day/month/year | `13/1/26` |
/// | DE | day.month.year | `13.1.26` |
/// | SE | year-month-day, four-digit year | `2026-01-13` |
/// | JP | year/month/day | `26/1/13` |
///
/// ZA is in neither source; it is read day first, as South Africa writes
/// dates and every other marketplace outside the US does. A date that
/// does not fit its marketplace's form is refused, never read the other
/// way round. An ISO date (`2026-01-13`, four-digit year first) is
/// unambiguous and read in every marketplace.
pub fn date_form(m: &Marketplace) -> DateForm {
    let (order, sep) = match m.country {
        "US" => (DateOrder::MonthDayYear, '/'),
        "DE" => (DateOrder::DayMonthYear, '.'),
        "SE" => (DateOrder::YearMonthDay, '-'),
        "JP" => (DateOrder::YearMonthDay, '/'),
        _ => (DateOrder::DayMonthYear, '/'),
    };
    DateForm { order, sep }
}

/// How a marketplace's localised flat files write numbers. Amazon
/// documents none of it. What sellers' files show: German settlement flat
/// files write `1141,18` (abuzuhri/Amazon-SP-API-CSharp issue 571), and
/// German reports mix `5,05` and `5.05` in one file (the same client's
/// pull request 706); the decimal mark of every other marketplace is its
/// language's (CLDR): a comma in DE, FR, IT, ES, NL, SE, PL, BE, TR and
/// BR, a point elsewhere. Only a single mark before three digits is
/// ambiguous (`1.234` is 1234 in DE and 1.234 in the UK); the form decides
/// it ([`flatfile::parse_number_in`]).
///
/// Which report columns this reaches, checked against the report types
/// the jobs read: the all-orders flat file's money columns (`item-price`,
/// `item-tax`, `shipping-price`, ...), the returns reports' quantities,
/// FBA inventory planning's numbers and seller feedback's `Rating`; dates
/// follow [`date_form`]. The JSON reports (sales and traffic, search
/// query performance, account health) and every API write plain JSON
/// numbers in every marketplace.
pub fn number_form(m: &Marketplace) -> NumberForm {
    match m.country {
        "DE" | "FR" | "IT" | "ES" | "NL" | "SE" | "PL" | "BE" | "TR" | "BR" => {
            NumberForm::DecimalComma
        }
        _ => NumberForm::DecimalPoint,
    }
}

/// How to read a flat file of marketplace `m` in `encoding`: its charset
/// and its number form.
pub fn text_of(encoding: &'static Encoding, m: &Marketplace) -> Text {
    Text {
        encoding,
        numbers: Some(number_form(m)),
    }
}

/// The row error for a date cell that is not one of marketplace `m`.
pub fn not_a_local_date(value: &str, m: &Marketplace) -> String {
    format!(
        "{value:?} is not a date of marketplace {} ({}, written {})",
        m.country,
        m.id,
        date_form(m).describe()
    )
}

/// Reads a date written in `form` (or ISO). A date only: the marketplace's day.
pub fn parse_local_date(s: &str, form: DateForm) -> Option<NaiveDate> {
    let s = s.trim();
    let number = |p: &str, digits: &[usize]| {
        (digits.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    let year = |p: &str| {
        let y = number(p, &[2, 4])?;
        // Two digits: this century (feedback is never older).
        Some(if p.len() == 2 { 2000 + y } else { y })
    };
    let iso = || {
        let p: Vec<&str> = s.split('-').collect();
        match p[..] {
            [y, m, d] if y.len() == 4 => Some((year(y)?, number(m, &[1, 2])?, number(d, &[1, 2])?)),
            _ => None,
        }
    };
    let parts: Vec<&str> = s.split(form.sep).collect();
    let ymd = match (form.order, &parts[..]) {
        (DateOrder::MonthDayYear, [m, d, y]) => {
            Some((year(y)?, number(m, &[1, 2])?, number(d, &[1, 2])?))
        }
        (DateOrder::DayMonthYear, [d, m, y]) => {
            Some((year(y)?, number(m, &[1, 2])?, number(d, &[1, 2])?))
        }
        (DateOrder::YearMonthDay, [y, m, d]) => {
            Some((year(y)?, number(m, &[1, 2])?, number(d, &[1, 2])?))
        }
        _ => None,
    }
    .or_else(iso)?;
    let (y, m, d) = ymd;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d).filter(is_plausible)
}

/// A `YYYY-MM-DD` date, for the jobs' tests.
#[cfg(test)]
pub(crate) fn date(s: &str) -> NaiveDate {
    s.parse().expect("a YYYY-MM-DD date")
}

/// An RFC 3339 instant, for the jobs' tests.
#[cfg(test)]
pub(crate) fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------
// JSON documents, streamed

/// The longest single value of a JSON report held in memory at once: an
/// element of a streamed array, or a wanted top-level member. Amazon's are
/// a few KiB; a longer one makes the document unreadable, so no single
/// value (a string, a deeply nested array) can fill memory.
pub const MAX_JSON_VALUE: u64 = 256 << 10;

/// A piece of a JSON report, as [`stream_json`] hands it out.
#[derive(Debug)]
pub enum JsonPart<'k> {
    /// An element of the top-level array `key`.
    Element(&'k str, serde_json::Value),
    /// The wanted top-level member `key`, whole.
    Member(&'k str, serde_json::Value),
}

/// Why [`stream_json`] stopped.
#[derive(Debug)]
pub enum JsonError<E> {
    /// Not JSON, not an object, a value past [`MAX_JSON_VALUE`], or the
    /// input failed (a broken gzip stream, the size ceiling): what and
    /// where, starting with `what`.
    Parse(String),
    /// The caller's `each` stopped it.
    Stop(E),
}

/// Reads a JSON report (one object) from `input` a piece at a time, in
/// bounded memory whatever its size: each element of the top-level arrays
/// named in `arrays` and each top-level member named in `members` (whole)
/// go to `each` in document order; everything else is skipped a value at a
/// time. A named array that is not an array reads as absent (lenient, like
/// the field readers below). `input` is decoded from `encoding` to UTF-8 as
/// it is read (a BOM picks the charset, malformed bytes read as U+FFFD).
/// `what` names the document in errors ("sales & traffic document").
pub fn stream_json<E>(
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    what: &str,
    arrays: &[&'static str],
    members: &[&'static str],
    mut each: impl FnMut(JsonPart<'_>) -> Result<(), E>,
) -> Result<(), JsonError<E>> {
    use serde::de::DeserializeSeed;
    use std::io::BufRead;
    let mut text = Utf8::new(input, encoding);
    // What is not an object is said so, not "invalid type" at a column.
    loop {
        let buf = text
            .fill_buf()
            .map_err(|e| JsonError::Parse(unreadable(what, &e)))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) if buf[i] == b'{' => break,
            Some(_) => return Err(JsonError::Parse(format!("{what} is not a JSON object"))),
            None if buf.is_empty() => break,
            None => {
                let n = buf.len();
                text.consume(n);
            }
        }
    }
    let used = std::cell::Cell::new(0);
    let mut stop = None;
    // serde_json reads a byte at a time: std's BufReader serves those from
    // its buffer, and the budget counts what it pulls, a small chunk at a
    // time (so the count runs at most one chunk ahead of the parser).
    let reader = std::io::BufReader::with_capacity(
        8 << 10,
        Budget {
            inner: text,
            used: &used,
        },
    );
    let mut de = serde_json::Deserializer::from_reader(reader);
    let top = Reading {
        level: Level::Top { arrays, members },
        each: &mut each,
        used: &used,
        stop: &mut stop,
    };
    let res = top.deserialize(&mut de).and_then(|()| de.end());
    match (res, stop) {
        (_, Some(e)) => Err(JsonError::Stop(e)),
        (Ok(()), None) => Ok(()),
        (Err(e), None) if e.is_io() => {
            let io = std::io::Error::from(e);
            Err(JsonError::Parse(unreadable(what, &io)))
        }
        (Err(e), None) => Err(JsonError::Parse(format!("{what} is not JSON: {e}"))),
    }
}

/// What [`read_parts`] reads of a JSON report.
pub struct JsonDoc {
    /// Its name in errors ("sales & traffic document").
    pub what: &'static str,
    /// The top-level arrays streamed an element at a time.
    pub arrays: &'static [&'static str],
    /// The top-level members read whole.
    pub members: &'static [&'static str],
}

/// Reads a JSON report from `input` a piece at a time ([`stream_json`]:
/// memory does not grow with it): `part` makes each piece the report's
/// own part (`None` for a piece of no use), which goes to `each`.
pub fn read_parts<P, E>(
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    doc: &JsonDoc,
    part: impl Fn(JsonPart<'_>) -> Option<P>,
    mut each: impl FnMut(P) -> Result<(), E>,
) -> Result<(), JsonError<E>> {
    stream_json(
        input,
        encoding,
        doc.what,
        doc.arrays,
        doc.members,
        |piece| match part(piece) {
            Some(p) => each(p),
            None => Ok(()),
        },
    )
}

fn unreadable(what: &str, e: &std::io::Error) -> String {
    format!("unreadable {what}: {e}")
}

/// `input` in `encoding`, decoded to UTF-8 as it is read, a chunk at a
/// time (`encoding_rs`'s streaming decoder: cp932 and Windows-1252 as well
/// as UTF-8).
struct Utf8<R> {
    input: R,
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    pos: usize,
    len: usize,
    done: bool,
}

impl<R: std::io::BufRead> Utf8<R> {
    fn new(input: R, encoding: &'static Encoding) -> Self {
        Utf8 {
            input,
            // With BOM sniffing, as `Encoding::decode` does.
            decoder: encoding.new_decoder(),
            out: vec![0; 64 << 10],
            pos: 0,
            len: 0,
            done: false,
        }
    }
}

impl<R: std::io::BufRead> std::io::BufRead for Utf8<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos >= self.len && !self.done {
            let src = self.input.fill_buf()?;
            let last = src.is_empty();
            let (result, read, written, _) = self.decoder.decode_to_utf8(src, &mut self.out, last);
            self.input.consume(read);
            (self.pos, self.len) = (0, written);
            if last && result == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
        }
        Ok(&self.out[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

impl<R: std::io::BufRead> std::io::Read for Utf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        crate::amazon::document::read_buffered(self, buf)
    }
}

/// Counts the bytes read since the parser last reset `used` (at each
/// element and member) and fails past [`MAX_JSON_VALUE`].
struct Budget<'u, R> {
    inner: R,
    used: &'u std::cell::Cell<u64>,
}

impl<R: std::io::BufRead> std::io::Read for Budget<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let have = self.inner.fill_buf()?;
        let n = have.len().min(buf.len());
        buf[..n].copy_from_slice(&have[..n]);
        self.inner.consume(n);
        self.used.set(self.used.get() + n as u64);
        if self.used.get() > MAX_JSON_VALUE {
            let kind = "a report document";
            return Err(too_long("a single value", MAX_JSON_VALUE, kind));
        }
        Ok(n)
    }
}

/// The error a visitor returns when `each` stopped the stream (the
/// caller's error waits in `stop`).
const STOPPED: &str = "stopped by the reader";

/// Where [`stream_json`] is in the document.
#[derive(Debug, Clone, Copy)]
enum Level<'a> {
    /// The top-level object: its `arrays` are streamed an element at a
    /// time, its `members` read whole, the rest skipped.
    Top {
        arrays: &'a [&'static str],
        members: &'a [&'static str],
    },
    /// A top-level member read a value at a time: the elements of a
    /// streamed array (`Some(key)`) go to `each`; an unwanted member's are
    /// skipped (`None`).
    Member(Option<&'static str>),
}

/// One level of the document being read, and where its parts go.
struct Reading<'a, F, E> {
    level: Level<'a>,
    each: &'a mut F,
    used: &'a std::cell::Cell<u64>,
    stop: &'a mut Option<E>,
}

impl<F, E> Reading<'_, F, E>
where
    F: FnMut(JsonPart<'_>) -> Result<(), E>,
{
    /// The reading of a top-level member (`key`: the array it streams).
    fn member(&mut self, key: Option<&'static str>) -> Reading<'_, F, E> {
        Reading {
            level: Level::Member(key),
            each: &mut *self.each,
            used: self.used,
            stop: &mut *self.stop,
        }
    }

    /// Hands `part` to `each`; when `each` stops, its error waits in
    /// `stop` and the parse fails with [`STOPPED`].
    fn give<Er: serde::de::Error>(&mut self, part: JsonPart<'_>) -> Result<(), Er> {
        self.used.set(0);
        (self.each)(part).map_err(|e| {
            *self.stop = Some(e);
            Er::custom(STOPPED)
        })
    }
}

impl<'de, F, E> serde::de::DeserializeSeed<'de> for Reading<'_, F, E>
where
    F: FnMut(JsonPart<'_>) -> Result<(), E>,
{
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.level {
            Level::Top { .. } => d.deserialize_map(self),
            Level::Member(_) => d.deserialize_any(self),
        }
    }
}

impl<'de, F, E> serde::de::Visitor<'de> for Reading<'_, F, E>
where
    F: FnMut(JsonPart<'_>) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self.level {
            Level::Top { .. } => "a JSON object",
            Level::Member(_) => "any JSON value",
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let Level::Top { arrays, members } = self.level else {
            // A member of another shape reads as absent: skipped an entry
            // at a time.
            loop {
                self.used.set(0);
                let Some(serde::de::IgnoredAny) = map.next_key()? else {
                    return Ok(());
                };
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        };
        loop {
            self.used.set(0);
            let Some(key) = map.next_key::<String>()? else {
                return Ok(());
            };
            self.used.set(0);
            if let Some(k) = arrays.iter().find(|a| **a == key) {
                map.next_value_seed(self.member(Some(*k)))?;
            } else if let Some(k) = members.iter().find(|m| **m == key) {
                let v: serde_json::Value = map.next_value()?;
                self.give(JsonPart::Member(k, v))?;
            } else {
                // Skipped a value at a time too: an unknown array may be long.
                map.next_value_seed(self.member(None))?;
            }
        }
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.used.set(0);
            let Level::Member(Some(key)) = self.level else {
                if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                    return Ok(());
                }
                continue;
            };
            let Some(v) = seq.next_element::<serde_json::Value>()? else {
                return Ok(());
            };
            self.give(JsonPart::Element(key, v))?;
        }
    }

    fn visit_bool<Er>(self, _: bool) -> Result<(), Er> {
        Ok(())
    }
    fn visit_i64<Er>(self, _: i64) -> Result<(), Er> {
        Ok(())
    }
    fn visit_u64<Er>(self, _: u64) -> Result<(), Er> {
        Ok(())
    }
    fn visit_f64<Er>(self, _: f64) -> Result<(), Er> {
        Ok(())
    }
    fn visit_str<Er>(self, _: &str) -> Result<(), Er> {
        Ok(())
    }
    fn visit_unit<Er>(self) -> Result<(), Er> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// JSON helpers (lenient: a block or field of the wrong shape reads as absent)

pub(crate) fn jnum(v: &serde_json::Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    match cur {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_num(s),
        serde_json::Value::Object(o) => match o.get("amount") {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => parse_num(s),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn jint(v: &serde_json::Value, path: &[&str]) -> Option<i64> {
    jnum(v, path).map(|f| f.round() as i64)
}

pub(crate) fn jstr(v: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    match cur {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The strings of an array (other elements skipped; none if not an array).
pub(crate) fn jstrs(v: &serde_json::Value, path: &[&str]) -> Vec<String> {
    let mut cur = v;
    for k in path {
        match cur.get(k) {
            Some(x) => cur = x,
            None => return Vec::new(),
        }
    }
    cur.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A date written `YYYY-MM-DD` or with a time after it.
pub(crate) fn jdate(v: &serde_json::Value, path: &[&str]) -> Option<NaiveDate> {
    let s = jstr(v, path)?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
        .ok()
        .filter(is_plausible)
}

// ---------------------------------------------------------------------------
// Requests and periods

/// Where a job's rows of marketplace `m` go: the account, the
/// marketplace, the round's `now`.
pub(crate) fn scope<'a>(ctx: &Ctx<'a>, m: &Marketplace) -> Scope<'a> {
    Scope {
        account: &ctx.account.name,
        marketplace_id: m.id,
        now: ctx.now,
    }
}

/// The report request for `report_type` in one marketplace.
pub(crate) fn request(report_type: &str, m: &Marketplace) -> ReportRequest {
    ReportRequest::new(report_type, [m.id])
}

/// The period a table holds, as a document's period field names it.
pub(crate) struct Period {
    /// The field (`dateGranularity`, `reportPeriod`).
    field: &'static str,
    /// Its value for the table's period (`DAY`, `WEEK`).
    wanted: &'static str,
    /// The table's period, in words (`days`).
    stores: &'static str,
}

/// Sales & traffic rows by date are days.
pub(crate) const DAYS: Period = Period {
    field: "dateGranularity",
    wanted: "DAY",
    stores: "days",
};

/// Search query performance rows are weeks.
pub(crate) const WEEKS: Period = Period {
    field: "reportPeriod",
    wanted: "WEEK",
    stores: "weeks",
};

impl Period {
    /// Whether the document's period field, `found`, is the table's:
    /// `None` (not stated) passes; another value is refused, saying which
    /// to download.
    pub(crate) fn check(&self, found: Option<&str>) -> Result<(), String> {
        let Period {
            field,
            wanted,
            stores,
        } = self;
        match found {
            None => Ok(()),
            Some(v) if v.eq_ignore_ascii_case(wanted) => Ok(()),
            Some(v) => Err(format!(
                "the document's {field} {v}: flywheel stores {stores} only; download the report with {field} {wanted}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`stream_json`] hands out, as text.
    fn pieces(input: &[u8], encoding: &'static Encoding) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        stream_json(input, encoding, "doc", &["a"], &["b"], |p| {
            out.push(match p {
                JsonPart::Element(k, v) => format!("{k}[] {v}"),
                JsonPart::Member(k, v) => format!("{k} {v}"),
            });
            Ok::<_, ()>(())
        })
        .map_err(|e| match e {
            JsonError::Parse(e) => e,
            JsonError::Stop(()) => "stopped".into(),
        })?;
        Ok(out)
    }

    #[test]
    fn json_documents_stream_an_element_at_a_time() {
        let doc =
            br#"{"z": [1, [2]], "a": [1, {"x": "\u00e9"}], "b": {"k": [1]}, "c": {"a": [9]}}"#;
        assert_eq!(
            pieces(doc, encoding_rs::UTF_8).unwrap(),
            vec![r#"a[] 1"#, r#"a[] {"x":"é"}"#, r#"b {"k":[1]}"#]
        );
        // A streamed member of another shape reads as absent.
        assert_eq!(
            pieces(br#"{"a": {"x": 1}, "b": 2}"#, encoding_rs::UTF_8).unwrap(),
            vec!["b 2"]
        );
        // Not an object, not JSON, cut short: said so, with where.
        assert_eq!(
            pieces(b" [1]", encoding_rs::UTF_8).unwrap_err(),
            "doc is not a JSON object"
        );
        let cut = pieces(br#"{"a": [1, "#, encoding_rs::UTF_8).unwrap_err();
        assert!(cut.contains("line 1 column"), "{cut}");
        // A BOM, and a document in cp932 decoded as it is read.
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(r#"{"b": "水筒"}"#);
        assert_eq!(
            pieces(&sjis, encoding_rs::SHIFT_JIS).unwrap(),
            vec![r#"b "水筒""#]
        );
        assert_eq!(
            pieces(b"\xef\xbb\xbf{\"b\": 1}", encoding_rs::WINDOWS_1252).unwrap(),
            vec!["b 1"]
        );
    }

    #[test]
    fn one_json_value_cannot_fill_memory() {
        let long = format!(r#"{{"a": ["{}"]}}"#, "x".repeat(300 << 10));
        let e = pieces(long.as_bytes(), encoding_rs::UTF_8).unwrap_err();
        assert!(e.contains("longer than 256 KiB"), "{e}");
        // Nesting that serde_json would skip with a byte per level.
        let deep = format!(r#"{{"z": {}}}"#, "[".repeat(1 << 20));
        let e = pieces(deep.as_bytes(), encoding_rs::UTF_8).unwrap_err();
        assert!(e.contains("longer than 256 KiB"), "{e}");
        // Many small elements are fine, however many.
        let many = format!(r#"{{"a": [{}0]}}"#, "0,".repeat(1 << 20));
        assert_eq!(
            pieces(many.as_bytes(), encoding_rs::UTF_8).unwrap().len(),
            (1 << 20) + 1
        );
    }

    #[test]
    fn days_and_date_params() {
        let us = crate::model::marketplace::lookup("US").unwrap();
        let jp = crate::model::marketplace::lookup("JP").unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            crate::store::ops::ts(day_start(us, d)),
            "2026-03-01T08:00:00Z"
        );
        assert_eq!(
            crate::store::ops::ts(day_start(jp, d)),
            "2026-02-28T15:00:00Z"
        );
        let p = date_param(d);
        assert_eq!(day_of(us, p), d);
        assert_eq!(day_of(jp, p), d);
        assert_eq!(p.date_naive(), d);
    }
}

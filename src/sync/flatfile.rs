//! Amazon's flat-file (TSV) reports, read as a stream by header NAME.
//!
//! Amazon warns that "the fields returned are applicable to change based
//! on the marketplace, region, and the seller's selection of fields", and
//! several header generations of one report exist (REFERENCE §4). So:
//! - columns are found by name, after folding case, spaces and underscores
//!   to `-` ("Order ID" = "order-id"), and through each column's aliases;
//! - extra columns are ignored (and listed), missing ones read as absent
//!   (and listed), order does not matter;
//! - a bad row never fails the report: it is skipped and counted as an
//!   [`Issue`] with its line number and column, and the job goes on.
//!
//! Pure: bytes in (any `BufRead`), records out; decoding is per line with
//! the document's charset (TAB and LF are single bytes in every charset
//! Amazon uses, cp932 included).
//!
//! Built for files of millions of rows (the `ingest` bench): one line is
//! held at a time, in buffers reused from line to line; a pure-ASCII line
//! (most of them, in any charset) is used as it is, without decoding; and
//! a record's cells are spans of that line, not strings of their own.
//! Callers on a hot path read cells by the wanted column's position
//! ([`Record::at`]) rather than by name.
//!
//! The one flat-file reader of flywheel: the report jobs and `flywheel
//! import` read through [`read_flat`] (rows collected, [`Parsed`]) or
//! [`stream_flat`] (a record at a time, [`Streamed`]); both account for
//! the problems they met in one summary line ([`summary`]).

use std::io::BufRead;

use encoding_rs::Encoding;

/// One column a parser wants: its canonical name and older/other names.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
}

impl Column {
    pub const fn new(name: &'static str) -> Column {
        Column { name, aliases: &[] }
    }
    pub const fn alias(name: &'static str, aliases: &'static [&'static str]) -> Column {
        Column { name, aliases }
    }
}

/// A table of [`Column`]s, in file order: each column's name as the
/// report's header writes it, then the names older or other generations
/// of the report gave it (`"sku" | "seller-sku" | "merchant-sku"`).
macro_rules! columns {
    ($($name:literal $(| $alias:literal)*),* $(,)?) => {
        [$($crate::sync::flatfile::Column::alias($name, &[$($alias),*])),*]
    };
}
pub(crate) use columns;

/// A row that could not be used (or a header problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// `Order ID` → `order-id`.
pub fn fold(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|c| match c {
            ' ' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The folded names of a header line.
pub fn header_names(line: &str) -> Vec<String> {
    line.trim_end_matches(['\r', '\n'])
        .split('\t')
        .map(fold)
        .collect()
}

/// Whether a header (as [`header_names`] gives it) has `column`, by its
/// name or an alias.
pub fn has_column(names: &[String], column: &Column) -> bool {
    std::iter::once(column.name)
        .chain(column.aliases.iter().copied())
        .any(|n| {
            let n = fold(n);
            names.contains(&n)
        })
}

/// A stream of rows of one flat file.
pub struct Reader<R> {
    input: R,
    encoding: &'static Encoding,
    numbers: Option<NumberForm>,
    columns: &'static [Column],
    /// Per wanted column, its index in the file.
    index: Vec<Option<usize>>,
    width: usize,
    line: usize,
    /// The raw line being read (reused).
    buf: Vec<u8>,
    /// That line decoded (reused).
    text: String,
    /// Where each cell of `text` starts and ends (reused).
    spans: Vec<(u32, u32)>,
    /// Wanted columns the header lacks.
    pub missing: Vec<&'static str>,
    /// Header names nobody asked for.
    pub extra: Vec<String>,
    /// Those columns with their place in the file.
    unknown: Vec<(usize, String)>,
    /// Rows skipped, with where and why (capped at [`MAX_ISSUES`]).
    pub issues: Vec<Issue>,
    /// All rows skipped (also past the cap).
    pub skipped: u64,
    /// Data rows read (good or bad).
    pub rows: u64,
}

/// Issues kept in detail per file; the rest are only counted.
pub const MAX_ISSUES: usize = 100;

/// The longest line a flat file may have (Amazon's are a few KiB). A
/// longer one is not a report: reading it whole would let a file without
/// line breaks (a gzip bomb of zeros) fill memory.
pub const MAX_LINE: usize = 1 << 20;

/// Reads one line (with its `\n`) into `buf`, at most [`MAX_LINE`]
/// bytes; `line` is its number, for the error. 0 at the end.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, line: usize) -> std::io::Result<usize> {
    use std::io::Read;
    let n = input.take(MAX_LINE as u64 + 1).read_until(b'\n', buf)?;
    if buf.len() > MAX_LINE {
        let what = format!("line {line}");
        return Err(too_long(&what, MAX_LINE as u64, "a tab-separated report"));
    }
    Ok(n)
}

/// The error for a piece of a document past the longest a report has
/// (`what` is longer than `max` bytes: not `kind`): reading on would let
/// a document without line breaks or ends (a gzip bomb) fill memory.
pub(crate) fn too_long(what: &str, max: u64, kind: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{what} is longer than {} KiB: not {kind}", max >> 10),
    )
}

/// One data row: spans of the reader's current line.
pub struct Record<'r> {
    text: &'r str,
    numbers: Option<NumberForm>,
    spans: &'r [(u32, u32)],
    index: &'r [Option<usize>],
    columns: &'static [Column],
    unknown: &'r [(usize, String)],
    pub line: usize,
}

impl Record<'_> {
    fn pos(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The trimmed value of a wanted column; `None` when the column is
    /// missing from the file or the cell is empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.at(self.pos(name)?)
    }

    /// [`Self::get`] by the column's position in the wanted columns (no
    /// name lookup: the hot path of large files).
    pub fn at(&self, wanted: usize) -> Option<&str> {
        let at = (*self.index.get(wanted)?)?;
        let (a, b) = *self.spans.get(at)?;
        let s = trim(self.text.get(a as usize..b as usize)?);
        (!s.is_empty()).then_some(s)
    }

    /// The non-empty cells of the columns nobody asked for, with their
    /// (folded) header names: what a parser keeps "as is" when the report
    /// grew a column it does not know yet.
    pub fn unknown(&self) -> impl Iterator<Item = (&str, &str)> {
        self.unknown.iter().filter_map(|(at, name)| {
            let (a, b) = *self.spans.get(*at)?;
            let v = trim(self.text.get(a as usize..b as usize)?);
            (!v.is_empty()).then_some((name.as_str(), v))
        })
    }

    /// The name of wanted column `wanted`.
    pub fn name(&self, wanted: usize) -> &'static str {
        self.columns.get(wanted).map(|c| c.name).unwrap_or("?")
    }

    /// A required text cell.
    pub fn req(&self, name: &str) -> Result<&str, Issue> {
        self.get(name).ok_or_else(|| self.issue(name, "empty"))
    }

    /// [`Self::req`] by position.
    pub fn req_at(&self, wanted: usize) -> Result<&str, Issue> {
        self.at(wanted)
            .ok_or_else(|| self.issue(self.name(wanted), "empty"))
    }

    /// A decimal cell (`1,234.50` and `1.234,50` both read as 1234.5),
    /// tolerant of a trailing `%`; `None` when empty.
    pub fn num(&self, name: &str) -> Result<Option<f64>, Issue> {
        let form = self.numbers;
        self.parsed(name, |v| parse_num_in(v, form), "a number")
    }

    /// A number cell by position, read in the file's number form
    /// ([`parse_number_in`]); `None` when empty.
    pub fn num_at(&self, wanted: usize) -> Result<Option<f64>, Issue> {
        match self.at(wanted) {
            None => Ok(None),
            Some(v) => parse_number_in(v, self.numbers)
                .map(Some)
                .ok_or_else(|| self.issue(self.name(wanted), &format!("not a number: {v:?}"))),
        }
    }

    /// A whole-number cell, tolerant of `1,234` and `12.0`; `None` when
    /// empty.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Issue> {
        self.parsed(name, parse_int, "a whole number")
    }

    /// A cell read with `parse`; `None` when empty, an issue saying it is
    /// not `what` when `parse` refuses it.
    fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        what: &str,
    ) -> Result<Option<T>, Issue> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse(v)
                .map(Some)
                .ok_or_else(|| self.issue(name, &format!("not {what}: {v:?}"))),
        }
    }

    /// Every non-empty cell of the wanted columns except `typed`, by
    /// column name: what `extra_json` / `raw_json` keep.
    pub fn cells(&self, typed: &[&str]) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        for c in self.columns {
            if typed.contains(&c.name) {
                continue;
            }
            if let Some(v) = self.get(c.name) {
                out.insert(c.name.to_string(), v.into());
            }
        }
        out
    }

    /// An issue about this row's `column`.
    pub fn issue(&self, column: &str, message: &str) -> Issue {
        Issue {
            line: self.line,
            column: Some(column.to_string()),
            message: message.to_string(),
        }
    }
}

/// `str::trim`, with a fast path for the usual cell: one that starts and
/// ends with a visible ASCII character needs no Unicode lookup at all.
pub(crate) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    let b = s.as_bytes();
    if visible(b.first()) && visible(b.last()) {
        s
    } else {
        s.trim()
    }
}

/// The position of `name` among `columns`, at compile time: parsers name
/// their hot columns `const SKU: usize = position(&COLUMNS, "sku");` and a
/// misspelt name fails the build instead of reading as empty.
pub const fn position(columns: &[Column], name: &str) -> usize {
    let mut i = 0;
    while i < columns.len() {
        if const_eq(columns[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("no such column")
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The largest magnitude a number cell may have: more than any amount or
/// count Amazon writes (a quadrillion yen is ~7 trillion dollars), small
/// enough that sums over millions of rows stay finite. Bigger values are
/// a broken file; read as not a number, the row is skipped with its line.
/// (Found by fuzzing: two lines of one order with `item-price` 1e308 made
/// an infinite order total, fuzz/regressions/orders/.)
pub const MAX_MAGNITUDE: f64 = 1e15;

/// How a marketplace's localised flat files write a number: which of `.`
/// and `,` is the decimal mark (the other groups thousands). See
/// `report_util::number_form` for which marketplace writes which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberForm {
    /// `1,234.50` (US, UK, JP, ...).
    DecimalPoint,
    /// `1.234,50` (DE, FR, IT, ES, ...).
    DecimalComma,
}

/// How a file's bytes become text and its cells numbers: the charset, and
/// the marketplace's number form when the reader knows the marketplace
/// (`None`: a lone `1,234` reads as 1.234, as before marketplaces were
/// known; see [`parse_number_in`]).
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub encoding: &'static Encoding,
    pub numbers: Option<NumberForm>,
}

impl From<&'static Encoding> for Text {
    fn from(encoding: &'static Encoding) -> Text {
        Text {
            encoding,
            numbers: None,
        }
    }
}

/// Whether `s` is digits grouped in threes by `mark` (`1,234`, `-12.345.678`):
/// one to three digits, then groups of exactly three.
fn grouped(s: &str, mark: char) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let groups: Vec<&str> = body.split(mark).collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
}

/// [`parse_number_in`] without a marketplace.
pub fn parse_number(s: &str) -> Option<f64> {
    parse_number_in(s, None)
}

/// A number cell. Amazon writes `1234.50`; localised files `1.234,50` or
/// `1,234.50`, and German files mix `5,05` and `5.05` in one report (see
/// `report_util::number_form`). Both marks present, or one mark not
/// followed by exactly three digits, say themselves which is the decimal
/// mark. Only a single mark before three digits (`1,234`, `1.234`, or
/// `12.345.678`) is ambiguous: the marketplace's `form` decides it (a
/// thousands separator where the other mark is the decimal one); without
/// a form `1,234` reads as 1.234 and `1.234` as 1.234. `None` for what is
/// not a number, and for NaN, infinities and numbers beyond
/// [`MAX_MAGNITUDE`].
pub fn parse_number_in(s: &str, form: Option<NumberForm>) -> Option<f64> {
    let s = trim(s);
    let thousands = match form {
        Some(NumberForm::DecimalPoint) => Some(','),
        Some(NumberForm::DecimalComma) => Some('.'),
        None => None,
    };
    if let Some(mark) = thousands.filter(|m| grouped(s, *m)) {
        return s
            .replace(mark, "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.abs() < MAX_MAGNITUDE);
    }
    let sane = |v: &f64| v.is_finite() && v.abs() < MAX_MAGNITUDE;
    if let Ok(v) = s.parse::<f64>() {
        return Some(v).filter(sane);
    }
    let (dot, comma) = (s.rfind('.'), s.rfind(','));
    let normal = match (dot, comma) {
        (Some(d), Some(c)) if c > d => s.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => s.replace(',', ""),
        (None, Some(_)) => s.replace(',', "."),
        _ => return None,
    };
    normal.parse::<f64>().ok().filter(sane)
}

/// A whole number as flat files write it: `12`, `-3`, `1,234`, `12.0`.
pub fn parse_int(v: &str) -> Option<i64> {
    let v = trim(v);
    if let Ok(n) = v.parse::<i64>() {
        return Some(n);
    }
    // `1,234` (and the German `1.234`) in a whole-number column is a
    // thousands separator, not the decimal mark `parse_number` would take
    // it for: a whole number has no decimals to mark.
    for mark in [',', '.'] {
        if grouped(v, mark) {
            return v.replace(mark, "").parse().ok();
        }
    }
    let f = parse_num(v)?;
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(f as i64);
    }
    None
}

/// A decimal as flat files write it (see [`parse_number`]), with
/// an optional trailing `%`.
pub fn parse_num(v: &str) -> Option<f64> {
    parse_num_in(v, None)
}

/// [`parse_num`] in a marketplace's number form.
pub fn parse_num_in(v: &str, form: Option<NumberForm>) -> Option<f64> {
    let v = trim(v);
    parse_number_in(v.trim_end_matches('%'), form)
}

impl<R: BufRead> Reader<R> {
    /// Reads the header line. A file without one (empty) has no rows.
    pub fn new(
        mut input: R,
        text: impl Into<Text>,
        columns: &'static [Column],
    ) -> std::io::Result<Self> {
        let Text { encoding, numbers } = text.into();
        let mut buf = Vec::new();
        read_line(&mut input, &mut buf, 1)?;
        let mut header = String::new();
        decode_line(&buf, encoding, &mut header);
        let names: Vec<String> = if header.is_empty() {
            Vec::new()
        } else {
            header.split('\t').map(fold).collect()
        };
        let mut index = Vec::with_capacity(columns.len());
        let mut missing = Vec::new();
        for c in columns {
            // Each wanted name folded once, not once per header cell (that
            // made a 63-column header cost ~8,000 allocations).
            let at = std::iter::once(c.name)
                .chain(c.aliases.iter().copied())
                .find_map(|n| {
                    let n = fold(n);
                    names.iter().position(|h| *h == n)
                });
            if at.is_none() {
                missing.push(c.name);
            }
            index.push(at);
        }
        let unknown: Vec<(usize, String)> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| !index.contains(&Some(*i)))
            .map(|(i, n)| (i, n.clone()))
            .collect();
        let extra = unknown.iter().map(|(_, n)| n.clone()).collect();
        Ok(Reader {
            input,
            encoding,
            numbers,
            columns,
            index,
            width: names.len(),
            line: 1,
            buf,
            text: header,
            spans: Vec::new(),
            missing,
            extra,
            unknown,
            issues: Vec::new(),
            skipped: 0,
            rows: 0,
        })
    }

    /// Whether the file had a header at all.
    pub fn has_header(&self) -> bool {
        self.width > 0
    }

    /// Wanted columns of `names` the header lacks.
    pub fn lacks<'n>(&self, names: &[&'n str]) -> Vec<&'n str> {
        names
            .iter()
            .copied()
            .filter(|n| self.missing.contains(n))
            .collect()
    }

    /// Records a row the caller could not use.
    pub fn skip(&mut self, issue: Issue) {
        self.skipped += 1;
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(issue);
        }
    }

    /// The next well-formed row; rows with the wrong number of cells are
    /// skipped and recorded. `None` at the end.
    pub fn next_record(&mut self) -> std::io::Result<Option<Record<'_>>> {
        loop {
            self.buf.clear();
            if read_line(&mut self.input, &mut self.buf, self.line + 1)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            decode_line(&self.buf, self.encoding, &mut self.text);
            if self.text.trim().is_empty() {
                continue;
            }
            self.rows += 1;
            self.spans.clear();
            let mut start = 0u32;
            for (i, b) in self.text.bytes().enumerate() {
                if b == b'\t' {
                    self.spans.push((start, i as u32));
                    start = i as u32 + 1;
                }
            }
            self.spans.push((start, self.text.len() as u32));
            let cells = self.spans.len();
            if cells != self.width {
                let line = self.line;
                let column = self
                    .columns
                    .iter()
                    .zip(&self.index)
                    .find(|(_, at)| at.is_some_and(|a| a >= cells))
                    .map(|(c, _)| c.name.to_string());
                self.skip(Issue {
                    line,
                    column,
                    message: format!("{cells} cells, the header has {}", self.width),
                });
                continue;
            }
            return Ok(Some(Record {
                text: &self.text,
                numbers: self.numbers,
                spans: &self.spans,
                index: &self.index,
                columns: self.columns,
                unknown: &self.unknown,
                line: self.line,
            }));
        }
    }

    /// A one-line account of the problems, for the job's note.
    pub fn summary(&self) -> Option<String> {
        summary(&self.missing, self.skipped, &self.issues)
    }
}

/// The one-line account of a file's problems (`None` when there were
/// none): the wanted columns it lacks, and the rows skipped with the first
/// one's line and reason.
pub fn summary(missing: &[&str], skipped: u64, issues: &[Issue]) -> Option<String> {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing columns: {}", missing.join(", ")));
    }
    if skipped > 0 {
        let first = issues.first().map(|i| format!(" (first: {i})"));
        parts.push(format!(
            "{skipped} malformed row(s) skipped{}",
            first.unwrap_or_default()
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

// ---------------------------------------------------------------------------
// A whole file

/// What parsing a flat file gave: the rows, and the rows it skipped with
/// their line and column ([`Issue`], capped), counted in full.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub issues: Vec<Issue>,
    pub skipped: u64,
    /// Wanted columns the header lacks (read as empty).
    pub missing: Vec<&'static str>,
    /// The reader's one-line account of the problems, if any.
    pub summary: Option<String>,
}

impl<T> Parsed<T> {
    /// Forgets that optional columns (an older generation's, read when
    /// present) are missing, so their absence is not reported every run.
    pub fn optional(mut self, columns: &[&str]) -> Self {
        self.missing.retain(|m| !columns.contains(m));
        self.summary = summary(&self.missing, self.skipped, &self.issues);
        self
    }

    /// Where the skipped rows were, for a test to read at a glance: each
    /// kept issue's line and column (`3 Rating; 5 Order ID`; a row without
    /// a column at fault is just its line).
    #[cfg(test)]
    pub(crate) fn places(&self) -> String {
        let place = |i: &Issue| match &i.column {
            Some(c) => format!("{} {c}", i.line),
            None => i.line.to_string(),
        };
        self.issues.iter().map(place).collect::<Vec<_>>().join("; ")
    }
}

/// Reads a flat file by header name (tolerant of extra, missing and
/// reordered columns; rows of the wrong width skipped with their line),
/// mapping each record with `each`; a record `each` refuses is skipped
/// with the issue it names.
pub fn read_flat<T>(
    input: impl BufRead,
    encoding: impl Into<Text>,
    columns: &'static [Column],
    mut each: impl FnMut(&Record<'_>) -> Result<T, Issue>,
) -> Result<Parsed<T>, String> {
    let mut rows = Vec::new();
    let streamed = stream_flat(
        input,
        encoding,
        columns,
        |rec| Ok::<_, String>(each(rec).map(|t| rows.push(t))),
        |e| e,
    )?;
    Ok(Parsed {
        rows,
        issues: streamed.issues,
        skipped: streamed.skipped,
        missing: streamed.missing,
        summary: streamed.summary,
    })
}

/// What streaming a flat file gave: [`Parsed`] without the rows, which
/// went to the caller one at a time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Streamed {
    /// Rows the caller took.
    pub rows: u64,
    pub issues: Vec<Issue>,
    pub skipped: u64,
    pub missing: Vec<&'static str>,
    pub summary: Option<String>,
}

impl Streamed {
    /// [`Parsed::optional`]: forgets that optional columns are missing.
    pub fn optional(mut self, columns: &[&str]) -> Self {
        self.missing.retain(|m| !columns.contains(m));
        self.summary = summary(&self.missing, self.skipped, &self.issues);
        self
    }
}

/// [`read_flat`] without collecting: `each` gets one record at a time and
/// answers `Ok(Ok(()))` (taken), `Ok(Err(issue))` (skipped with the issue)
/// or `Err(e)` (stop: a store error). An unreadable input (a broken gzip
/// stream) stops with `unreadable("unreadable document: …")`. This is how
/// the jobs read a large report: nothing but the current line is held, so
/// memory does not grow with the file.
pub fn stream_flat<E>(
    input: impl BufRead,
    encoding: impl Into<Text>,
    columns: &'static [Column],
    mut each: impl FnMut(&Record<'_>) -> Result<Result<(), Issue>, E>,
    unreadable: impl Fn(String) -> E,
) -> Result<Streamed, E> {
    let mut reader = Reader::new(input, encoding, columns)
        .map_err(|e| unreadable(format!("unreadable document: {e}")))?;
    let mut rows = 0;
    loop {
        let res = match reader.next_record() {
            Ok(Some(rec)) => each(&rec)?,
            Ok(None) => break,
            Err(e) => return Err(unreadable(format!("unreadable document: {e}"))),
        };
        match res {
            Ok(()) => rows += 1,
            Err(issue) => reader.skip(issue),
        }
    }
    Ok(Streamed {
        rows,
        summary: reader.summary(),
        issues: std::mem::take(&mut reader.issues),
        skipped: reader.skipped,
        missing: std::mem::take(&mut reader.missing),
    })
}

/// Decodes one line without its line break into `out` (cleared first).
/// An ASCII line is the same text in every charset Amazon uses, so it is
/// copied as it is; other lines go through the charset's decoder, which
/// writes into `out` without a buffer of its own.
fn decode_line(buf: &[u8], encoding: &'static Encoding, out: &mut String) {
    let mut b = buf;
    while let Some((last, rest)) = b.split_last() {
        if *last == b'\n' || *last == b'\r' {
            b = rest;
        } else {
            break;
        }
    }
    out.clear();
    if b.is_ascii() {
        if let Ok(s) = std::str::from_utf8(b) {
            out.push_str(s);
            return;
        }
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let room = decoder
        .max_utf8_buffer_length(b.len())
        .unwrap_or(b.len() * 3 + 16);
    out.reserve(room);
    let (_, _, _) = decoder.decode_to_string(b, out, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    static COLS: &[Column] = &[
        Column::alias("order-id", &["amazon-order-id"]),
        Column::new("sku"),
        Column::alias("item-price", &["price"]),
        Column::new("product-name"),
    ];

    type Rows = Vec<(usize, Vec<Option<String>>)>;

    fn read(bytes: &[u8]) -> (Rows, Reader<&[u8]>) {
        let mut r = Reader::new(bytes, encoding_rs::WINDOWS_1252, COLS).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let line = rec.line;
            let cells = COLS
                .iter()
                .map(|c| rec.get(c.name).map(str::to_string))
                .collect();
            out.push((line, cells));
        }
        (out, r)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn by_name_reordered_with_aliases() {
        let (rows, r) =
            read(b"sku\tAmazon Order ID\tproduct-name\titem-price\r\nS1\t111\tMug\t9.50\r\n");
        assert_eq!(
            rows,
            vec![(2, vec![s("111"), s("S1"), s("9.50"), s("Mug")])]
        );
        assert!(r.missing.is_empty() && r.extra.is_empty());
    }

    #[test]
    fn extra_and_missing_columns() {
        let (rows, r) = read(b"amazon-order-id\tnew-col\tsku\n1\tx\tA\n");
        assert_eq!(rows, vec![(2, vec![s("1"), s("A"), None, None])]);
        assert_eq!(r.missing, vec!["item-price", "product-name"]);
        assert_eq!(r.extra, vec!["new-col".to_string()]);
    }

    #[test]
    fn latin1_bytes_decode() {
        // "Café crème" in ISO-8859-1: é = 0xE9, è = 0xE8.
        let (rows, _) = read(b"order-id\tproduct-name\n1\tCaf\xe9 cr\xe8me\n");
        assert_eq!(rows[0].1[3], s("Café crème"));
    }

    #[test]
    fn cp932_bytes_decode() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("order-id\tproduct-name\n1\t水筒\n");
        let mut r = Reader::new(&bytes[..], encoding_rs::SHIFT_JIS, COLS).unwrap();
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!(rec.get("product-name"), Some("水筒"));
    }

    #[test]
    fn malformed_rows_are_counted_with_line_and_column() {
        let (rows, mut r) =
            read(b"order-id\tsku\titem-price\n1\tA\t2.00\n2\tB\n3\tC\tabc\n\n4\tD\t1,5\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            r.issues,
            vec![Issue {
                line: 3,
                column: Some("item-price".into()),
                message: "2 cells, the header has 3".into()
            }]
        );
        // A value error is the caller's to report, with the record's own line.
        let bytes: &[u8] = b"order-id\tsku\titem-price\n3\tC\tabc\n";
        let mut r2 = Reader::new(bytes, encoding_rs::WINDOWS_1252, COLS).unwrap();
        let rec = r2.next_record().unwrap().unwrap();
        let err = rec.num("item-price").unwrap_err();
        assert_eq!((err.line, err.column.as_deref()), (2, Some("item-price")));
        r2.skip(err);
        assert_eq!(r2.skipped, 1);
        assert!(r2.summary().unwrap().contains("line 2, column item-price"));
        r.skip(Issue {
            line: 9,
            column: None,
            message: "x".into(),
        });
        assert_eq!(r.skipped, 2);
    }

    #[test]
    fn a_line_longer_than_the_limit_is_an_error_not_a_buffer() {
        let mut long = b"order-id\tsku\n1\tA\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        let mut r = Reader::new(&long[..], encoding_rs::WINDOWS_1252, COLS).unwrap();
        assert!(r.next_record().unwrap().is_some());
        let e = r.next_record().err().expect("an error");
        assert!(
            e.to_string().contains("line 3 is longer than 1024 KiB"),
            "{e}"
        );
        let header = vec![0u8; MAX_LINE + 1];
        let e = Reader::new(&header[..], encoding_rs::WINDOWS_1252, COLS).err();
        assert!(e
            .expect("an error")
            .to_string()
            .contains("line 1 is longer"));
    }

    #[test]
    fn empty_file_has_no_header_and_no_rows() {
        let (rows, r) = read(b"");
        assert!(rows.is_empty());
        assert!(!r.has_header());
    }

    #[test]
    fn cells_are_trimmed_like_str_trim() {
        for case in [
            "x",
            " x ",
            "\u{a0}x\u{a0}",
            "",
            " ",
            "a b",
            "\u{e9}t\u{e9}",
            " \u{3000}y",
        ] {
            assert_eq!(trim(case), case.trim(), "{case:?}");
        }
    }

    #[test]
    fn numbers_as_flat_files_write_them() {
        let ints: &[(&str, Option<i64>)] = &[
            ("12", Some(12)),
            ("-3", Some(-3)),
            ("1,234", Some(1234)),
            ("1.234", Some(1234)),
            ("1.234.567", Some(1_234_567)),
            ("1,23", None),
            ("1234,567", None),
            ("12.0", Some(12)),
            ("12.5", None),
            ("abc", None),
        ];
        for (s, want) in ints {
            assert_eq!(parse_int(s), *want, "{s}");
        }
        let nums: &[(&str, Option<f64>)] = &[
            ("12.5", Some(12.5)),
            ("1,234.50", Some(1234.5)),
            ("12,5", Some(12.5)),
            ("7%", Some(7.0)),
            ("n/a", None),
        ];
        for (s, want) in nums {
            assert_eq!(parse_num(s), *want, "{s}");
        }
    }

    #[test]
    fn flat_files_by_header_name() {
        static COLS: [Column; 2] = [Column::new("a"), Column::new("b")];
        let text = "\u{feff}B\tA\r\n2\tx\r\n\r\n3\n4\ty\tz\n5\t\n6\tq\n";
        let parsed = read_flat(text.as_bytes(), encoding_rs::UTF_8, &COLS, |r| {
            Ok((r.req("a")?.to_string(), r.int("b")?))
        })
        .unwrap();
        assert_eq!(
            parsed.rows,
            vec![("x".to_string(), Some(2)), ("q".to_string(), Some(6))]
        );
        let got: Vec<usize> = parsed.issues.iter().map(|p| p.line).collect();
        assert_eq!(got, vec![4, 5, 6]);
        assert_eq!(parsed.skipped, 3);
        assert_eq!(parsed.issues[2].column.as_deref(), Some("a"));
        assert!(parsed.summary.unwrap().contains("3 malformed"));
    }

    /// The marketplace's number form decides only a single mark before
    /// three digits; everything else reads the same in every form.
    #[test]
    fn numbers_in_a_marketplace_form() {
        use NumberForm::{DecimalComma as Comma, DecimalPoint as Point};
        type Case = (&'static str, Option<f64>, Option<f64>, Option<f64>);
        // text, no form, decimal point (US, UK, JP), decimal comma (DE, FR)
        let cases: &[Case] = &[
            ("1,234", Some(1.234), Some(1234.0), Some(1.234)),
            ("1.234", Some(1.234), Some(1.234), Some(1234.0)),
            ("-1.234", Some(-1.234), Some(-1.234), Some(-1234.0)),
            ("12.345.678", None, None, Some(12_345_678.0)),
            ("12,345,678", None, Some(12_345_678.0), None),
            ("5,05", Some(5.05), Some(5.05), Some(5.05)),
            ("5.05", Some(5.05), Some(5.05), Some(5.05)),
            ("1141,18", Some(1141.18), Some(1141.18), Some(1141.18)),
            ("1.234,50", Some(1234.5), Some(1234.5), Some(1234.5)),
            ("1,234.50", Some(1234.5), Some(1234.5), Some(1234.5)),
            ("1234", Some(1234.0), Some(1234.0), Some(1234.0)),
            ("12,3456", Some(12.3456), Some(12.3456), Some(12.3456)),
            ("1,2345", Some(1.2345), Some(1.2345), Some(1.2345)),
            ("abc", None, None, None),
            ("1e400", None, None, None),
        ];
        for (text, none, point, comma) in cases {
            assert_eq!(parse_number_in(text, None), *none, "{text} without a form");
            assert_eq!(
                parse_number_in(text, Some(Point)),
                *point,
                "{text} decimal point"
            );
            assert_eq!(
                parse_number_in(text, Some(Comma)),
                *comma,
                "{text} decimal comma"
            );
        }
    }

    #[test]
    fn numbers() {
        let cases = [
            ("12.5", Some(12.5)),
            ("-3.00", Some(-3.0)),
            ("1,234.50", Some(1234.5)),
            ("1.234,50", Some(1234.5)),
            ("7,5", Some(7.5)),
            ("abc", None),
            ("NaN", None),
            ("inf", None),
            ("1e400", None),
            ("999999999999999", Some(999_999_999_999_999.0)),
            ("1e15", None),
            ("-1e308", None),
            ("1.0e308,5", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_number(text), want, "{text}");
        }
    }
}

//! A downloaded report document, as every SP-API report job reads it: the
//! body goes to an unlinked temporary file as it arrives, is inflated once
//! to check it (CRC, size, charset sniff), and is read by the job through
//! [`Document::stream`], a chunk at a time, gunzipped on a second thread.
//! Past `[sync] max_document_mib` decompressed bytes ([`TooLarge`]) the
//! reading fails, saying so: a gzip bomb costs a few chunks of memory and
//! stops. Also the charset rules of REFERENCE §0.10 ([`charset`]) and the
//! gunzip helpers `flywheel import` and the fuzz targets use.
//!
//! Knows nothing of jobs, cursors or the database: the report pipeline
//! (`sync::report`) decides what a document means for a job.

use std::io::{BufRead, BufReader, Read};

use encoding_rs::Encoding;

use super::http::ApiError;

/// A downloaded report document, kept as it came (gzip, when Amazon
/// compressed it) in an unlinked temporary file: nothing of it is held in
/// memory. Every job reads it through [`Document::stream`], which inflates
/// it a chunk at a time under the `[sync] max_document_mib` ceiling, so a
/// document of any size (or a gzip bomb) costs a few chunks of memory.
#[derive(Debug, Clone)]
pub struct Document {
    file: std::sync::Arc<std::fs::File>,
    gzip: bool,
    encoding: &'static Encoding,
    /// Decompressed size, bytes.
    size: u64,
    /// Decompressed bytes the document may have.
    max_bytes: u64,
}

impl Document {
    /// Hands `f` the decompressed document as a stream, from its start
    /// (see [`gunzip_stream_capped`]). A document past the ceiling, a
    /// broken gzip stream or a failing temporary file reaches `f` as an
    /// I/O error from the reader.
    pub fn stream<T>(&self, f: impl FnOnce(&mut dyn BufRead) -> T) -> T {
        match rewound(&self.file) {
            Ok(file) => gunzip_stream_capped(file, self.gzip, self.max_bytes, f),
            Err(e) => f(&mut Failing(Some(e))),
        }
    }

    /// The charset the bytes are in: the download's `Content-Type`
    /// charset, else ISO-8859-1 (Windows-1252) for flat files, cp932 for
    /// Japan, UTF-8 for JSON.
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// Whether the document has no bytes at all (not even a header line).
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
}

/// A second handle on `file`, at its start.
fn rewound(file: &std::fs::File) -> std::io::Result<std::fs::File> {
    use std::io::Seek;
    let mut f = file.try_clone()?;
    f.seek(std::io::SeekFrom::Start(0))?;
    Ok(f)
}

/// A reader that fails with the error it holds (once; then it is empty).
struct Failing(Option<std::io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

impl BufRead for Failing {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(&[]),
        }
    }
    fn consume(&mut self, _: usize) {}
}

/// An anonymous temporary file for a downloaded document: created 0600
/// in the temporary directory and unlinked at once, so it goes when its
/// last handle closes, even if the process is killed.
fn spill_file() -> std::io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".flywheel-report-{}-{n}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(&path) {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            // Left by an earlier process of the same id: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < u64::MAX => {}
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("cannot create a temporary file in {}: {e}", dir.display()),
                ))
            }
        }
    }
}

/// The document was bigger than `[sync] max_document_mib` allows once
/// decompressed (carried inside an `std::io::Error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the document is larger than {mib} MiB once decompressed (the [sync] max_document_mib ceiling); raise max_document_mib if the file is genuine")]
pub struct TooLarge {
    pub mib: u64,
}

impl TooLarge {
    /// The ceiling error inside `e`, if that is what `e` is.
    pub fn of(e: &std::io::Error) -> Option<&TooLarge> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<TooLarge>())
    }
}

/// The decompressed-size ceiling of `[sync] max_document_mib`, bytes.
pub fn max_document_bytes(mib: u64) -> u64 {
    mib.saturating_mul(1 << 20)
}

/// A reader that fails with [`TooLarge`] once more than `max` bytes came
/// through it.
pub struct Capped<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R> Capped<R> {
    pub fn new(inner: R, max: u64) -> Self {
        Capped {
            inner,
            read: 0,
            max,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TooLarge {
                    mib: self.max >> 20,
                },
            ));
        }
        Ok(n)
    }
}

/// Why a document could not be had.
#[derive(Debug)]
pub enum DownloadError {
    /// `getReportDocument` failed.
    Api(ApiError),
    /// The body could not be read whole (worth another download).
    Body(String),
    /// Past `[sync] max_document_mib`.
    TooLarge(TooLarge),
    /// The temporary file failed (not Amazon's fault; not retried).
    Local(String),
}

/// Receives a document's body from the pre-signed URL's answer `resp`:
/// to a temporary file as it arrives, never whole into memory, then
/// inflated once into nothing to check it. `gzip` is what
/// `getReportDocument` said (`compressionAlgorithm`); `marketplaces` and
/// the answer's `Content-Type` pick the charset; past `max_bytes`
/// decompressed bytes it is [`DownloadError::TooLarge`].
pub async fn receive(
    mut resp: reqwest::Response,
    gzip: bool,
    marketplaces: &[String],
    max_bytes: u64,
) -> Result<Document, DownloadError> {
    let status = resp.status();
    if !status.is_success() {
        return Err(DownloadError::Body(format!(
            "document URL answered {status}"
        )));
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Compressed, it cannot be much larger than the ceiling.
    let max_raw = max_bytes
        .saturating_add(max_bytes >> 10)
        .saturating_add(1 << 16);
    let local = |e: std::io::Error| DownloadError::Local(format!("cannot keep the document: {e}"));
    let mut file = spill_file().map_err(local)?;
    let mut raw_len = 0u64;
    {
        let mut out = std::io::BufWriter::with_capacity(STREAM_CHUNK, &mut file);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    raw_len += chunk.len() as u64;
                    if raw_len > max_raw {
                        return Err(DownloadError::TooLarge(TooLarge {
                            mib: max_bytes >> 20,
                        }));
                    }
                    std::io::Write::write_all(&mut out, &chunk).map_err(local)?;
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(DownloadError::Body(format!(
                        "body cut short: {}",
                        e.without_url()
                    )))
                }
            }
        }
        std::io::Write::flush(&mut out).map_err(local)?;
    }
    // A body cut short arrives whole as far as HTTP knows: gunzip it once
    // into nothing (the CRC and length at its end are checked) so a broken
    // document is downloaded again now, not found half-read by the parser.
    let reader = BufReader::with_capacity(STREAM_CHUNK, rewound(&file).map_err(local)?);
    let (size, head) = inflated_size(reader, gzip, max_bytes)?;
    let encoding = charset(content_type.as_deref(), marketplaces, &head);
    Ok(Document {
        file: std::sync::Arc::new(file),
        gzip,
        size,
        encoding,
        max_bytes,
    })
}
/// Whether `raw` is to be gunzipped: the document says GZIP and the bytes
/// are gzip (an HTTP layer honouring `Content-Encoding: gzip` may have
/// done it already).
fn is_gzip(raw: &[u8], gzip: bool) -> bool {
    gzip && raw.starts_with(&[0x1f, 0x8b])
}

/// The decompressed size of `raw` and its first bytes (for the charset
/// sniff), without keeping the rest; an error for a broken gzip stream
/// and for a document past `max` bytes.
fn inflated_size(
    mut raw: impl BufRead,
    gzip: bool,
    max: u64,
) -> Result<(u64, Vec<u8>), DownloadError> {
    const HEAD: usize = 4096;
    let is_gzip = gzip && raw.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]));
    let mut input: Box<dyn Read> = if is_gzip {
        Box::new(Capped::new(flate2::read::MultiGzDecoder::new(raw), max))
    } else {
        Box::new(Capped::new(raw, max))
    };
    let mut buf = vec![0u8; STREAM_CHUNK];
    let (mut size, mut head) = (0u64, Vec::new());
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok((size, head)),
            Ok(k) => {
                if head.len() < HEAD {
                    let take = k.min(HEAD - head.len());
                    head.extend_from_slice(&buf[..take]);
                }
                size += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(match TooLarge::of(&e) {
                    Some(t) => DownloadError::TooLarge(t.clone()),
                    None if is_gzip => {
                        DownloadError::Body(format!("cannot gunzip the document (truncated?): {e}"))
                    }
                    None => DownloadError::Local(format!("cannot read the document back: {e}")),
                })
            }
        }
    }
}

/// Gunzips when the document says GZIP and the bytes are gzip (an HTTP
/// layer honouring `Content-Encoding: gzip` may have done it already).
/// The whole document in memory: for tests and the fuzz targets only; the
/// jobs and `flywheel import` read through [`gunzip_stream_capped`].
pub fn decompress(raw: &[u8], gzip: bool) -> Result<Vec<u8>, String> {
    if !is_gzip(raw, gzip) {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::with_capacity(raw.len() * 6);
    flate2::read::MultiGzDecoder::new(raw)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot gunzip the document (truncated?): {e}"))?;
    Ok(out)
}

/// Bytes per chunk of [`gunzip_stream`] (and of the `ingest` bench's
/// decompress-only floor, so both read alike).
pub const STREAM_CHUNK: usize = 256 << 10;

/// Chunks in flight between the gunzip thread and the reader: bounds the
/// pipeline's memory to a few chunks whatever the document's size.
const STREAM_DEPTH: usize = 4;

/// Hands `f` the document `raw` as a stream of plain bytes, gunzipping it
/// (when `gzip` and the bytes are gzip, as [`decompress`]) on a second
/// thread that runs ahead by at most [`STREAM_DEPTH`] chunks. Parsing and
/// storing a large report costs more than inflating it, so inflating on
/// the other core hides it almost entirely, and memory stays a few chunks
/// instead of the whole document. A broken gzip stream reaches `f` as an
/// I/O error ("cannot gunzip the document …") from the reader; if `f`
/// returns early the gunzip thread stops at its next chunk.
pub fn gunzip_stream<R: Read + Send, T>(
    raw: R,
    gzip: bool,
    f: impl FnOnce(&mut dyn BufRead) -> T,
) -> T {
    gunzip_stream_capped(raw, gzip, u64::MAX, f)
}

/// [`gunzip_stream`] under a ceiling: past `max` decompressed bytes the
/// reader fails with [`TooLarge`] (find it with [`TooLarge::of`]), so a
/// gzip bomb stops at the ceiling instead of running for hours.
pub fn gunzip_stream_capped<R: Read + Send, T>(
    raw: R,
    gzip: bool,
    max: u64,
    f: impl FnOnce(&mut dyn BufRead) -> T,
) -> T {
    let mut input = BufReader::with_capacity(STREAM_CHUNK, raw);
    let is_gzip = gzip && input.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]));
    if !is_gzip {
        return f(&mut BufReader::with_capacity(
            STREAM_CHUNK,
            Capped::new(input, max),
        ));
    }
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel(STREAM_DEPTH);
    let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(STREAM_DEPTH + 2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut gz = Capped::new(flate2::read::MultiGzDecoder::new(input), max);
            loop {
                // A chunk the reader gave back, else a new one: at most
                // STREAM_DEPTH + 2 exist at a time.
                let mut chunk = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| vec![0u8; STREAM_CHUNK]);
                let mut len = 0;
                let read = loop {
                    if len == chunk.len() {
                        break Ok(());
                    }
                    match gz.read(&mut chunk[len..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => len += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let msg = match read {
                    Err(e) if TooLarge::of(&e).is_some() => Err(e),
                    Err(e) => Err(std::io::Error::new(
                        e.kind(),
                        format!("cannot gunzip the document (truncated?): {e}"),
                    )),
                    Ok(()) if len == 0 => return,
                    Ok(()) => Ok((chunk, len)),
                };
                let last = !matches!(&msg, Ok((c, l)) if *l == c.len());
                if full_tx.send(msg).is_err() || last {
                    return;
                }
            }
        });
        let mut reader = Chunks {
            full: full_rx,
            empty: empty_tx,
            cur: Vec::new(),
            len: 0,
            pos: 0,
        };
        f(&mut reader)
    })
}

/// The reading end of [`gunzip_stream`]'s pipeline.
struct Chunks {
    full: std::sync::mpsc::Receiver<std::io::Result<(Vec<u8>, usize)>>,
    empty: std::sync::mpsc::SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    len: usize,
    pos: usize,
}

impl BufRead for Chunks {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.len {
            if !self.cur.is_empty() {
                let _ = self.empty.try_send(std::mem::take(&mut self.cur));
            }
            (self.len, self.pos) = (0, 0);
            // A closed channel is the end of the document.
            if let Ok(msg) = self.full.recv() {
                let (chunk, len) = msg?;
                (self.cur, self.len) = (chunk, len);
            }
        }
        Ok(&self.cur[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        read_buffered(self, out)
    }
}

/// `Read::read` for a reader that keeps its own buffer (a `BufRead` over
/// decoded or inflated bytes): what the buffer holds, as much as fits.
pub fn read_buffered(r: &mut impl BufRead, out: &mut [u8]) -> std::io::Result<usize> {
    let have = r.fill_buf()?;
    let k = have.len().min(out.len());
    out[..k].copy_from_slice(&have[..k]);
    r.consume(k);
    Ok(k)
}

/// The document's encoding: the Content-Type charset when given; else
/// UTF-8 for JSON, cp932 for Japan, ISO-8859-1 (as Windows-1252, its
/// superset) for flat files (REFERENCE §0.10).
pub fn charset(
    content_type: Option<&str>,
    marketplaces: &[String],
    bytes: &[u8],
) -> &'static Encoding {
    let declared = content_type.and_then(|ct| {
        ct.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| v.trim().trim_matches('"').to_string())
        })
    });
    if let Some(enc) = declared.and_then(|l| Encoding::for_label(l.as_bytes())) {
        return enc;
    }
    let json = content_type.is_some_and(|ct| ct.contains("json"))
        || bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[');
    if json {
        encoding_rs::UTF_8
    } else if marketplaces.iter().any(|m| m == "A1VC38T7YXB528") {
        encoding_rs::SHIFT_JIS
    } else {
        encoding_rs::WINDOWS_1252
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_table() {
        let none: &[String] = &[];
        let jp = vec!["A1VC38T7YXB528".to_string()];
        type Case<'a> = (Option<&'a str>, &'a [String], &'a [u8], &'a str);
        let cases: &[Case] = &[
            (
                Some("text/plain; charset=ISO-8859-1"),
                none,
                b"a",
                "windows-1252",
            ),
            (
                Some("text/plain;charset=windows-31j"),
                none,
                b"a",
                "Shift_JIS",
            ),
            (Some("text/plain; charset=\"UTF-8\""), none, b"a", "UTF-8"),
            (None, none, b"a\tb", "windows-1252"),
            (None, &jp, b"a\tb", "Shift_JIS"),
            (Some("application/json"), none, b"{}", "UTF-8"),
            (None, none, b" {\"a\":1}", "UTF-8"),
        ];
        for (ct, m, bytes, want) in cases {
            assert_eq!(charset(*ct, m, bytes).name(), *want, "{ct:?}");
        }
    }

    #[test]
    fn gunzip_and_truncation() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"h1\th2\nx\ty\n").unwrap();
        let gz = e.finish().unwrap();
        assert_eq!(decompress(&gz, true).unwrap(), b"h1\th2\nx\ty\n");
        assert!(decompress(&gz[..gz.len() / 2], true).is_err());
        assert_eq!(decompress(b"plain", true).unwrap(), b"plain");
        assert_eq!(decompress(b"plain", false).unwrap(), b"plain");
    }
}

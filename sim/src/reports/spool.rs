//! Where report documents live and how flat files are written.
//!
//! A document is generated once, row by row, straight into a gzip encoder
//! whose output stays in memory while it is small and spills to a file in a
//! per-sim temporary directory beyond [`SPILL_AT`] bytes, so a report of
//! millions of rows (`scenarios/large.toml`) never holds its rows in memory:
//! only one row is formatted at a time. The directory is removed when the
//! last holder of the [`Spool`] goes away.
//!
//! Flat files are TAB-separated with a header row and encoded ISO-8859-1
//! ([`latin1_line`]): characters outside Latin-1 become `?`, as a Latin-1
//! file cannot hold them, and tabs or line breaks inside a field become
//! spaces so a field can never split a row.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

/// Compressed bytes kept in memory before spilling to a file.
pub const SPILL_AT: usize = 4 << 20;

/// The per-sim directory for spilled documents (created on first use).
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    files: AtomicU64,
}

impl Spool {
    /// A spool under the system temporary directory, unique to this process
    /// and instance.
    pub fn new() -> Spool {
        static INSTANCES: AtomicU64 = AtomicU64::new(0);
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("flywheel-sim-reports-{}-{n}", std::process::id()));
        Spool {
            dir,
            files: AtomicU64::new(0),
        }
    }

    fn next_path(&self) -> io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        Ok(self.dir.join(format!("doc-{n}.gz")))
    }
}

impl Default for Spool {
    fn default() -> Spool {
        Spool::new()
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A finished, gzip-compressed document.
#[derive(Debug, Clone)]
pub enum Stored {
    Memory(Bytes),
    File { path: PathBuf, len: u64 },
}

impl Stored {
    /// The compressed bytes (read from disk for spilled documents).
    pub async fn bytes(&self) -> io::Result<Bytes> {
        match self {
            Stored::Memory(b) => Ok(b.clone()),
            Stored::File { path, .. } => tokio::fs::read(path).await.map(Bytes::from),
        }
    }

    /// Compressed length.
    pub fn len(&self) -> u64 {
        match self {
            Stored::Memory(b) => b.len() as u64,
            Stored::File { len, .. } => *len,
        }
    }

    /// True for a zero-length compressed body (never produced by a gzip writer).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A `Write` that buffers in memory, then spills to a file in the spool.
pub struct SpillWriter<'s> {
    spool: &'s Spool,
    buf: Vec<u8>,
    file: Option<(PathBuf, BufWriter<File>)>,
    len: u64,
}

impl<'s> SpillWriter<'s> {
    pub fn new(spool: &'s Spool) -> SpillWriter<'s> {
        SpillWriter {
            spool,
            buf: Vec::new(),
            file: None,
            len: 0,
        }
    }

    /// Flush and hand back the stored document.
    pub fn finish(self) -> io::Result<Stored> {
        match self.file {
            None => Ok(Stored::Memory(Bytes::from(self.buf))),
            Some((path, mut w)) => {
                w.flush()?;
                Ok(Stored::File {
                    path,
                    len: self.len,
                })
            }
        }
    }
}

impl Write for SpillWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && self.buf.len() + data.len() > SPILL_AT {
            let path = self.spool.next_path()?;
            let mut w = BufWriter::new(File::create(&path)?);
            w.write_all(&self.buf)?;
            self.buf = Vec::new();
            self.file = Some((path, w));
        }
        self.len += data.len() as u64;
        match &mut self.file {
            Some((_, w)) => w.write_all(data)?,
            None => self.buf.extend_from_slice(data),
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some((_, w)) => w.flush(),
            None => Ok(()),
        }
    }
}

/// A gzip stream into a [`SpillWriter`].
pub struct GzDoc<'s> {
    enc: GzEncoder<SpillWriter<'s>>,
}

impl<'s> GzDoc<'s> {
    pub fn new(spool: &'s Spool) -> GzDoc<'s> {
        GzDoc {
            enc: GzEncoder::new(SpillWriter::new(spool), Compression::new(4)),
        }
    }

    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.enc.write_all(data)
    }

    pub fn finish(self) -> io::Result<Stored> {
        self.enc.finish()?.finish()
    }
}

/// A whole document from bytes already in memory (JSON reports, error
/// documents, empty documents).
pub fn gzip_bytes(spool: &Spool, data: &[u8]) -> io::Result<Stored> {
    let mut doc = GzDoc::new(spool);
    doc.write_all(data)?;
    doc.finish()
}

/// Replace what cannot sit in one Latin-1 TSV field.
fn clean_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => ' ',
        c if (c as u32) < 0x20 => ' ',
        // C1 controls are Latin-1 but never text; everything above U+00FF
        // has no Latin-1 byte.
        c if (0x80..0xA0).contains(&(c as u32)) || (c as u32) > 0xFF => '?',
        c => c,
    }
}

/// How a flat file is encoded: ISO-8859-1, or cp932 (Shift_JIS as Windows writes it) for
/// Amazon.co.jp, declared `charset=windows-31j` (REFERENCE §0.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlatEncoding {
    Latin1,
    Cp932,
}

impl FlatEncoding {
    /// The encoding of the flat files of `world`'s marketplace.
    pub fn of(world: &crate::world::World) -> FlatEncoding {
        if world.scenario().seller.marketplace_id == JP_MARKETPLACE {
            FlatEncoding::Cp932
        } else {
            FlatEncoding::Latin1
        }
    }

    /// The `Content-Type` of a document in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            FlatEncoding::Latin1 => "text/plain; charset=ISO-8859-1",
            FlatEncoding::Cp932 => "text/plain; charset=windows-31j",
        }
    }

    fn line<S: AsRef<str>>(self, fields: &[S]) -> Vec<u8> {
        match self {
            FlatEncoding::Latin1 => latin1_line(fields),
            FlatEncoding::Cp932 => cp932_line(fields),
        }
    }
}

/// Amazon.co.jp.
const JP_MARKETPLACE: &str = "A1VC38T7YXB528";

/// One TSV line encoded cp932 (encoding_rs's Shift_JIS is the WHATWG one, i.e. Windows'
/// cp932); what it cannot encode becomes `?`.
pub fn cp932_line<S: AsRef<str>>(fields: &[S]) -> Vec<u8> {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push('\t');
        }
        line.extend(f.as_ref().chars().map(|c| match c {
            '\t' | '\n' | '\r' => ' ',
            c if (c as u32) < 0x20 => ' ',
            c => c,
        }));
    }
    line.push('\n');
    let mut out = Vec::with_capacity(line.len() * 2);
    let mut buf = [0u8; 4];
    for c in line.chars() {
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
        if unmappable {
            out.push(b'?');
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// One TSV line (fields joined by TABs, `\n` at the end) encoded ISO-8859-1.
pub fn latin1_line<S: AsRef<str>>(fields: &[S]) -> Vec<u8> {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push('\t');
        }
        line.extend(f.as_ref().chars().map(clean_char));
    }
    line.push('\n');
    // Every char is now in U+0000..=U+007F or U+00A0..=U+00FF, where
    // windows-1252 (encoding_rs's "ISO-8859-1") and true ISO-8859-1 agree
    // byte for byte.
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&line);
    bytes.into_owned()
}

/// A TSV document being written: header first, then rows, counted.
pub struct Tsv<'s> {
    doc: GzDoc<'s>,
    rows: u64,
    encoding: FlatEncoding,
}

impl<'s> Tsv<'s> {
    /// An ISO-8859-1 document.
    pub fn new<S: AsRef<str>>(spool: &'s Spool, header: &[S]) -> io::Result<Tsv<'s>> {
        Tsv::encoded(spool, header, FlatEncoding::Latin1)
    }

    pub fn encoded<S: AsRef<str>>(
        spool: &'s Spool,
        header: &[S],
        encoding: FlatEncoding,
    ) -> io::Result<Tsv<'s>> {
        let mut doc = GzDoc::new(spool);
        doc.write_all(&encoding.line(header))?;
        Ok(Tsv {
            doc,
            rows: 0,
            encoding,
        })
    }

    pub fn row<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        self.rows += 1;
        self.doc.write_all(&self.encoding.line(fields))
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> io::Result<(u64, Stored)> {
        Ok((self.rows, self.doc.finish()?))
    }
}

/// Whether a spilled file still exists (for tests).
pub fn exists(path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn latin1_encodes_and_cleans() {
        let line = latin1_line(&["Größe", "a\tb", "€uro"]);
        assert_eq!(line, b"Gr\xf6\xdfe\ta b\t?uro\n");
    }

    #[tokio::test]
    async fn spills_big_documents_to_disk_and_cleans_up() {
        let spool = Spool::new();
        let mut doc = GzDoc::new(&spool);
        // Incompressible enough: a counter-based pseudo-random byte stream.
        let mut x: u64 = 1;
        let mut chunk = vec![0u8; 1 << 16];
        for _ in 0..((SPILL_AT >> 16) + 8) {
            for b in chunk.iter_mut() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *b = (x >> 56) as u8;
            }
            doc.write_all(&chunk).unwrap();
        }
        let stored = doc.finish().unwrap();
        let Stored::File { path, len } = &stored else {
            panic!("expected a spilled file")
        };
        assert!(exists(path));
        assert!(*len > SPILL_AT as u64);
        let bytes = stored.bytes().await.unwrap();
        assert_eq!(gunzip(&bytes).len(), ((SPILL_AT >> 16) + 8) << 16);
        let path = path.clone();
        drop(spool);
        assert!(!exists(&path), "spool removed on drop");
    }

    #[test]
    fn small_documents_stay_in_memory() {
        let spool = Spool::new();
        let mut tsv = Tsv::new(&spool, &["a", "b"]).unwrap();
        tsv.row(&["1", "x"]).unwrap();
        let (rows, stored) = tsv.finish().unwrap();
        assert_eq!(rows, 1);
        let Stored::Memory(b) = stored else { panic!() };
        assert_eq!(gunzip(&b), b"a\tb\n1\tx\n");
    }
}

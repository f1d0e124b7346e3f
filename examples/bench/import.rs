//! `import`: the real binary (`target/release/flywheel import`) reading a
//! gzip bomb, to check that report files are streamed in bounded memory
//! (issue 14: at most 64 MiB peak for any input size).
//!
//! Method: writes a gzipped seller-feedback flat file that decompresses to
//! `--size` MiB (default 2048): a header, one valid row, then blank lines of
//! 64 KiB (so the file really is read to its end, line by line), about 2 MB
//! on disk. Runs `flywheel import` on it with `[sync] max_document_mib` above
//! the size, polling the child's `VmHWM` every millisecond until it exits.
//! With `--zeros`, the file is 2 GiB of zero bytes instead (the bomb of the
//! issue: not a report at all, refused as what it is).
//!
//! Figures: `seconds` (the import alone), `peak_rss_mib` (the child's
//! `VmHWM`), `decompressed_mib`, `gzip_mib`, `exit` (0: the row stored;
//! 1: refused, as the zeros must be).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Args;

const HEADER: &str = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n";
const ROW: &str = "02/10/26\t1\tBroken on arrival\t\t111-0000001-0000001\tx@example.com\n";

pub fn run(args: &Args) {
    if let Err(e) = import(args.size(2048), args.get("zeros").is_some()) {
        eprintln!("bench import: {e:#}");
        std::process::exit(1);
    }
}

fn import(mib: u64, zeros: bool) -> anyhow::Result<()> {
    let bin = crate::idle::flywheel_bin()?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("feedback.tsv.gz");
    write_gzip(&file, mib << 20, zeros)?;
    let config = dir.path().join("flywheel.toml");
    let default = Command::new(&bin).arg("print-default-config").output()?;
    anyhow::ensure!(default.status.success(), "print-default-config failed");
    let text = String::from_utf8(default.stdout)?;
    let db = dir.path().join("flywheel.db");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("database = ") {
                format!("database = {:?}", db.display().to_string())
            } else if l.starts_with("max_document_mib = ") {
                format!("max_document_mib = {}", mib + 64)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600))?;
    }
    let migrate = Command::new(&bin)
        .args(["-q", "--config"])
        .arg(&config)
        .arg("migrate")
        .output()?;
    anyhow::ensure!(migrate.status.success(), "migrate failed");

    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(["-q", "--config"])
        .arg(&config)
        .args([
            "import",
            "--account",
            "my-store",
            "--report-type",
            "GET_SELLER_FEEDBACK_DATA",
        ])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = vm_hwm(pid) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let seconds = started.elapsed().as_secs_f64();
    let gzip_mib = std::fs::metadata(&file)?.len() as f64 / (1 << 20) as f64;
    println!(
        "{}",
        serde_json::json!({
            "bench": "import",
            "input": if zeros { "zeros" } else { "feedback flat file" },
            "decompressed_mib": mib,
            "gzip_mib": (gzip_mib * 100.0).round() / 100.0,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "peak_rss_mib": (peak_kib as f64 / 1024.0 * 10.0).round() / 10.0,
            "exit": status.code(),
        })
    );
    Ok(())
}

/// `total` decompressed bytes as repeated gzip members of one 16 MiB block
/// (a valid gzip stream: members concatenate).
fn write_gzip(path: &Path, total: u64, zeros: bool) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0u64;
    if !zeros {
        f.write_all(&gzip(format!("{HEADER}{ROW}").as_bytes())?)?;
        written += (HEADER.len() + ROW.len()) as u64;
    }
    let block: Vec<u8> = if zeros {
        vec![0u8; 16 << 20]
    } else {
        let mut line = vec![b' '; (64 << 10) - 1];
        line.push(b'\n');
        line.iter().copied().cycle().take(16 << 20).collect()
    };
    let member = gzip(&block)?;
    while written < total {
        f.write_all(&member)?;
        written += block.len() as u64;
    }
    f.flush()?;
    Ok(())
}

fn gzip(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data)?;
    Ok(e.finish()?)
}

/// A child's peak resident set, KiB (Linux `VmHWM`).
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

//! Renders a real alert email and a real weekly digest in headless Chromium
//! (Debian's `chromium`, which `.ci/run` installs) and checks the pictures
//! are pictures: a PNG of the window's size with real content on it.
//!
//! The data is the demo scenario synced from the simulated marketplace; the
//! alert email is the one `flywheel evaluate` wrote through the `file`
//! transport, with its `cid:` charts turned into data URIs (a browser, unlike
//! a mail client, cannot resolve `cid:`), and the digest is
//! `flywheel digest --out`. With `FLYWHEEL_UPDATE_DOCS=1` the screenshots
//! are copied to `docs/` (what the README shows).
//!
//! `#[ignore]`: it needs Chromium and takes a minute; `.ci/run` runs it.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};

async fn ok(args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(args)
        .output()
        .await
        .expect("the flywheel binary runs");
    assert!(
        out.status.success(),
        "flywheel {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn chromium() -> PathBuf {
    for p in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("Chromium is not installed: `apt-get install chromium` (.ci/run installs it)");
}

/// Screenshots `html` (a file) at `width` × `height` into `png`.
async fn screenshot(html: &Path, png: &Path, width: u32, height: u32) {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--window-size={width},{height}"))
    .arg(format!("--screenshot={}", png.display()))
    .arg(format!("file://{}", html.display()))
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("chromium finishes within 2 minutes")
        .expect("chromium runs");
    assert!(
        png.exists(),
        "chromium wrote no screenshot: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Decodes the PNG and checks it has the size asked for and real content:
/// many distinct colours, not a blank page.
fn check_picture(png: &Path, width: u32, height: u32) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (width, height));
    let bpp = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for px in buf[..info.buffer_size()].chunks(bpp) {
        colours.insert(px.to_vec());
        if colours.len() > 64 {
            break;
        }
    }
    assert!(colours.len() > 64, "{} looks blank", png.display());
}

/// The HTML part of an .eml with its cid: images inlined as data URIs.
fn eml_to_html(eml: &Path) -> String {
    let raw = std::fs::read(eml).unwrap();
    let m = MessageParser::default().parse(&raw).expect("valid MIME");
    let mut html = m.body_html(0).expect("an HTML part").into_owned();
    for part in m.attachments() {
        if let Some(cid) = part.content_id() {
            let data = base64(part.contents());
            html = html.replace(
                &format!("cid:{cid}"),
                &format!("data:image/png;base64,{data}"),
            );
        }
    }
    html
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Chromium (installed by .ci/run); about a minute"]
async fn alert_email_and_digest_render_in_chromium() {
    let h = common::start(common::Opts::new("demo")).await;
    h.sync_settled(&[]).await;
    let cfg = h.config_path.to_str().unwrap();
    ok(&["--config", cfg, "evaluate"]).await;
    // The sim's config sends with the file transport into `mail/`.
    let mail = h.cfg.email.dir.clone();
    let mut emls: Vec<PathBuf> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    emls.sort();
    assert_eq!(emls.len(), 1, "one alert email in {}", mail.display());

    let out = h.dir.path();
    let alert_html = out.join("alert-email.html");
    std::fs::write(&alert_html, eml_to_html(&emls[0])).unwrap();
    let digest_html = out.join("digest.html");
    ok(&[
        "--config",
        cfg,
        "digest",
        "--out",
        digest_html.to_str().unwrap(),
    ])
    .await;

    let shots = [
        (alert_html, out.join("alert-email.png"), "alert-email.png"),
        (digest_html, out.join("digest.png"), "digest.png"),
    ];
    for (html, png, name) in &shots {
        screenshot(html, png, 900, 1600).await;
        check_picture(png, 900, 1600);
        if std::env::var_os("FLYWHEEL_UPDATE_DOCS").is_some() {
            std::fs::copy(png, common::repo().join("docs").join(name)).unwrap();
        }
        println!(
            "rendered {} ({} bytes)",
            name,
            std::fs::metadata(png).unwrap().len()
        );
    }
}

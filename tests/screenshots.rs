//! Renders the demo's alert emails and weekly digest in headless Chromium
//! (Debian's `chromium` with `fonts-noto-cjk`, which `.ci/run` installs),
//! in English and Chinese, as a phone and a laptop show them, and checks
//! what a reader relies on:
//! - the first round's email and a repeat round's (the same alerts, still
//!   firing), and the digest, each in an iframe 390 px and 900 px wide
//!   (headless Chromium will not make a window narrower than about 500 px,
//!   hence the iframe): no horizontal scroll (the iframe document's
//!   `scrollWidth` is at most the iframe's width), and at 390 px the
//!   "Do first" list ends within the first 900 px;
//! - each screenshot is a picture (the size asked, many colours).
//!
//! Measuring: a page holds the iframe and a script that writes the
//! iframe document's measurements into the DOM once it has loaded;
//! `chromium --dump-dom --allow-file-access-from-files` prints that DOM.
//!
//! The data is the demo scenario synced from the simulated marketplace,
//! evaluated by the binary through the `file` transport (one database copy
//! per language), with its `cid:` charts turned into data URIs (a browser,
//! unlike a mail client, cannot resolve `cid:`). With
//! `FLYWHEEL_UPDATE_DOCS=1` the screenshots are copied to `docs/` (what the
//! README shows).
//!
//! `#[ignore]`: it needs Chromium and takes a few minutes; `.ci/run` runs it.

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

/// Headless Chromium with a throwaway profile, reading local files.
fn chromium_cmd(profile: &Path) -> tokio::process::Command {
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
        "--allow-file-access-from-files",
        "--virtual-time-budget=10000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .kill_on_drop(true);
    cmd
}

async fn run(mut cmd: tokio::process::Command) -> std::process::Output {
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("chromium finishes within 2 minutes")
        .expect("chromium runs")
}

/// The iframe widths a reader sees: a phone, a laptop's mail pane.
const WIDTHS: [u32; 2] = [390, 900];
/// How tall the screenshots are.
const SHOT_HEIGHT: u32 = 1800;

/// What the iframe document measured at one width.
#[derive(Debug)]
struct Measured {
    scroll_width: u32,
    /// The bottom of the "Do first" list, px from the top; `None` without one.
    do_first_bottom: Option<f64>,
}

/// Loads `html` in an iframe `width` px wide and reads its measurements.
async fn measure(html: &Path, width: u32) -> Measured {
    let dir = html.parent().unwrap();
    let page = dir.join(format!(
        "measure-{width}-{}",
        html.file_name().unwrap().to_string_lossy()
    ));
    // The marker is assembled at run time, so the script's own text never
    // matches it.
    std::fs::write(
        &page,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\">\
             <iframe id=\"f\" src=\"{src}\" style=\"width:{width}px;height:1200px;border:0\"></iframe>\
             <script>var f=document.getElementById('f');f.onload=function(){{\
             var d=f.contentDocument;var l=d.querySelector('[data-do-first]');\
             var p=document.createElement('pre');p.textContent=['MEA','SURED'].join('')+\
             ' '+d.documentElement.scrollWidth+' '+(l?l.getBoundingClientRect().bottom:-1);\
             document.body.appendChild(p);}};</script></body></html>",
            src = html.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = chromium_cmd(profile.path());
    cmd.arg("--dump-dom")
        .arg(format!("file://{}", page.display()));
    let out = run(cmd).await;
    let dom = String::from_utf8_lossy(&out.stdout);
    let line = dom.split("MEASURED ").nth(1).unwrap_or_else(|| {
        panic!(
            "no measurements for {} at {width} px:\n{dom}\n{}",
            html.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut it = line.split(['<', ' ']);
    let scroll_width = it.next().unwrap().parse().unwrap();
    let bottom: f64 = it.next().unwrap().parse().unwrap();
    Measured {
        scroll_width,
        do_first_bottom: (bottom >= 0.0).then_some(bottom),
    }
}

/// Screenshots `html` as a phone (390 px) and a laptop (900 px) show it,
/// side by side, into `png`; returns the picture's size.
async fn screenshot(html: &Path, png: &Path) -> (u32, u32) {
    let dir = html.parent().unwrap();
    let page = dir.join(format!(
        "shot-{}",
        html.file_name().unwrap().to_string_lossy()
    ));
    let src = html.file_name().unwrap().to_string_lossy().into_owned();
    let frames: String = WIDTHS
        .iter()
        .map(|w| {
            format!(
                "<iframe src=\"{src}\" style=\"width:{w}px;height:{SHOT_HEIGHT}px;border:0;\
                 margin-right:20px;background:#fff;vertical-align:top\"></iframe>"
            )
        })
        .collect();
    std::fs::write(
        &page,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0;padding:0 0 0 20px;background:#8c959f\">{frames}</body></html>"
        ),
    )
    .unwrap();
    let size = (WIDTHS.iter().map(|w| w + 20).sum::<u32>() + 20, SHOT_HEIGHT);
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = chromium_cmd(profile.path());
    cmd.arg("--hide-scrollbars")
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()));
    let out = run(cmd).await;
    assert!(
        png.exists(),
        "chromium wrote no screenshot: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    size
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
#[ignore = "needs Chromium and fonts-noto-cjk (installed by .ci/run); a few minutes"]
async fn alert_emails_and_digest_read_on_a_phone_and_a_laptop_in_both_languages() {
    let h = common::start(common::Opts::new("demo")).await;
    h.sync_settled(&[]).await;
    let out = h.dir.path().join("shots");
    let langs = ["en", "zh-CN"];
    let mut configs = Vec::new();
    for lang in langs {
        let dir = out.join(lang);
        configs.push((lang, h.language_copy(lang, &dir), dir));
    }
    // The first round, then (repeats due after an hour) a repeat round.
    let mut pages: Vec<(String, PathBuf)> = Vec::new();
    for round in ["first", "repeat"] {
        if round == "repeat" {
            h.advance("2h").await;
        }
        for (lang, cfg, dir) in &configs {
            ok(&["--config", cfg.to_str().unwrap(), "evaluate"]).await;
            let emls = common::emails(&dir.join("mail"));
            let n = if round == "first" { 1 } else { 2 };
            assert_eq!(emls.len(), n, "{lang} {round}: {emls:?}");
            let html = dir.join(format!("alert-{round}.html"));
            std::fs::write(&html, eml_to_html(&emls[n - 1])).unwrap();
            pages.push((format!("alert-{round}-{lang}"), html));
        }
    }
    for (lang, cfg, dir) in &configs {
        let html = dir.join("digest.html");
        ok(&[
            "--config",
            cfg.to_str().unwrap(),
            "digest",
            "--out",
            html.to_str().unwrap(),
        ])
        .await;
        pages.push((format!("digest-{lang}"), html));
    }
    // A repeat with nothing new is a short email.
    for (_, _, dir) in &configs {
        let sizes: Vec<u64> = ["alert-first.html", "alert-repeat.html"]
            .iter()
            .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
            .collect();
        assert!(sizes[1] * 3 <= sizes[0], "{sizes:?}");
    }

    for (name, html) in &pages {
        for width in WIDTHS {
            let m = measure(html, width).await;
            println!("{name} at {width} px: {m:?}");
            assert!(
                m.scroll_width <= width,
                "{name} scrolls sideways at {width} px: {m:?}"
            );
            if width == 390 {
                let bottom = m
                    .do_first_bottom
                    .unwrap_or_else(|| panic!("{name} has no Do-first list"));
                assert!(bottom <= 900.0, "{name}: Do first ends at {bottom} px");
            }
        }
        let png = html.with_file_name(format!("{name}.png"));
        let (w, ht) = screenshot(html, &png).await;
        check_picture(&png, w, ht);
        if std::env::var_os("FLYWHEEL_UPDATE_DOCS").is_some() {
            std::fs::copy(
                &png,
                common::repo().join("docs").join(format!("{name}.png")),
            )
            .unwrap();
        }
        println!(
            "rendered {name}.png ({} bytes)",
            std::fs::metadata(&png).unwrap().len()
        );
    }
}

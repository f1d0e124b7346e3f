//! `flywheel demo` through the real binary: the whole loop against the
//! in-process simulated marketplace leaves the alert email and the weekly
//! digest in the demo folder, and says how the alerts compare with what
//! the simulator planted.

use mail_parser::MessageParser;

#[test]
fn demo_leaves_the_alert_email_and_the_digest() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo-out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(["demo", "--dir", out_dir.to_str().unwrap()])
        .output()
        .expect("flywheel demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("planted problems are firing alerts"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(out_dir.join("digest.html")).unwrap();
    assert!(html.contains("<table"), "the digest is HTML");
    let mut emls: Vec<_> = std::fs::read_dir(out_dir.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    emls.sort();
    assert_eq!(emls.len(), 2, "{emls:?}");
    let subjects: Vec<String> = emls
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let m = MessageParser::default().parse(&raw).expect("valid MIME");
            assert!(m.body_html(0).is_some() && m.body_text(0).is_some());
            m.subject().unwrap().to_string()
        })
        .collect();
    assert!(subjects[0].contains("critical"), "{subjects:?}");
    assert!(
        subjects[1].to_lowercase().contains("digest"),
        "{subjects:?}"
    );
}

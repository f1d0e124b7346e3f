//! The `[sync] max_document_mib` ceiling holds for Ads report documents
//! too (issue 14 item 3): a download that decompresses past it fails the
//! report, naming the key, instead of being inflated whole into memory.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use flywheel::store::jobs::RunStatus;
use flywheel::sync::JobName;

/// A gzip JSON array that is 3 MiB once decompressed (blanks between its
/// brackets: an empty array, so only its size is wrong).
fn bomb() -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b"[").unwrap();
    e.write_all(&vec![b' '; 3 << 20]).unwrap();
    e.write_all(b"]").unwrap();
    e.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ads_document_past_the_ceiling_fails_the_job_naming_the_key() {
    let mut o = common::Opts::new("demo");
    o.faults = "ads_pending=1".into();
    let mut h = common::start(o).await;
    // First run: every report is requested and left pending.
    h.cfg.sync.max_report_wait = Duration::from_secs(600);
    let results = h.sync(&[JobName::Ads]).await;
    let r = results.iter().find(|r| r.job == JobName::Ads).unwrap();
    assert_eq!(r.status, RunStatus::Ok, "{}", r.message);
    let pending = h.int("SELECT COUNT(*) FROM pending_reports WHERE api = 'ads'");
    assert!(pending > 0);
    // Amazon finishes them, each document a 3 MiB (decompressed) bomb.
    {
        let doc = Arc::new(bomb());
        let mut ads = h.sim.state.ads.lock();
        for report in ads.reports.by_id.values_mut() {
            report.document = Some(doc.clone());
        }
    }
    h.advance("4h").await;
    h.cfg.sync.max_document_mib = 1;
    let results = h.sync(&[JobName::Ads]).await;
    let r = results.iter().find(|r| r.job == JobName::Ads).unwrap();
    assert_eq!(r.status, RunStatus::Failed, "{}", r.message);
    assert!(
        r.message.contains("[sync] max_document_mib") && r.message.contains("1 MiB"),
        "{}",
        r.message
    );
    assert_eq!(h.int("SELECT COUNT(*) FROM ads_campaign_daily"), 0);
}

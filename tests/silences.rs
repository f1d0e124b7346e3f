//! `silences`, `silence --expire` and `ack --undo` through the real binary,
//! on the demo scenario synced from the simulated marketplace: a silence is
//! listed until it is ended, then only with `--all`, and the alert it
//! covered notifies again on the next round; an undone ack lets its alert
//! repeat again and gives back the feedback it marked handled; nothing is
//! deleted; in Chinese, no English fixed words.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The binary on one config, run as operator "ops".
struct Flywheel(PathBuf);

impl Flywheel {
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .arg("--config")
            .arg(&self.0)
            .args(args)
            .env("NO_COLOR", "1")
            .env("USER", "ops")
            .env_remove("SUDO_USER")
            .env_remove("RUST_LOG")
            .output()
            .await
            .expect("the flywheel binary runs");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args).await;
        assert_eq!(code, 0, "flywheel {}:\n{out}\n{err}", args.join(" "));
        out
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.ok(&all).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// The first alert `alerts --all` lists that passes `pick`.
    async fn alert(&self, pick: impl Fn(&Value) -> bool) -> Value {
        let list = self.json(&["alerts", "--all"]).await;
        list["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| pick(a))
            .unwrap_or_else(|| panic!("no such alert in {list:#}"))
            .clone()
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A day's silence on the spatula's stockout.
const SILENCE_SPATULA: &[&str] = &[
    "silence",
    "--rule",
    "stockout_risk",
    "--sku",
    "FW-SPATULA-01",
    "--for",
    "1d",
];

/// The silence id in `silence`'s confirmation ("silence #3: ...").
fn silence_id(out: &str) -> String {
    let rest = &out[out.find('#').expect("a silence id") + 1..];
    rest.chars().take_while(char::is_ascii_digit).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silences_list_and_expire_and_acks_undo() {
    let h = common::start(common::Opts::new("demo")).await;
    h.sync_settled(&[]).await;
    let en_dir = h.dir.path().join("en");
    let zh_dir = h.dir.path().join("zh");
    let en = Flywheel(h.language_copy("en", &en_dir));
    let zh = Flywheel(h.language_copy("zh-CN", &zh_dir));
    let db = en_dir.join("flywheel.db");

    en.ok(&["evaluate"]).await;
    assert_eq!(common::emails(&en_dir.join("mail")).len(), 1);
    assert_eq!(
        en.ok(&["silences"]).await,
        "no silences in force (flywheel silences --all lists ended ones too)\n"
    );

    // A silence on the spatula's stockout, an ack on another alert, and an
    // ack on the unanswered feedback (which marks it handled).
    let spatula = |a: &Value| a["rule"] == "stockout_risk" && a["labels"]["sku"] == "FW-SPATULA-01";
    // Any other alert notified in the first round.
    let other = |a: &Value| {
        a["state"] == "firing"
            && a["notify_count"] == 1
            && !["stockout_risk", "feedback_response_sla", "data_freshness"]
                .contains(&a["rule"].as_str().unwrap())
    };
    let out = en
        .ok(&[SILENCE_SPATULA, &["--note", "promo week"]].concat())
        .await;
    let id = silence_id(&out);
    let listed = en.ok(&["silences"]).await;
    println!("{listed}");
    let row = listed
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("silence {id} not in\n{listed}"));
    for words in ["stockout_risk", "sku FW-SPATULA-01", "promo week", "ops"] {
        assert!(row.contains(words), "{words:?} not in {row}");
    }
    assert!(listed.starts_with("ID  RULE"), "{listed}");
    let json = en.json(&["silences"]).await;
    let s = &json["silences"][0];
    assert_eq!(s["id"].to_string(), id, "{json:#}");
    assert_eq!(s["rule"], "stockout_risk");
    assert_eq!(s["sku"], "FW-SPATULA-01");
    assert_eq!(s["note"], "promo week");
    assert_eq!(s["created_by"], "ops");
    assert_eq!(s["in_force"], true);
    assert!(s.get("asin").is_none(), "{s}");

    let acked = en.alert(other).await;
    let acked_rule = acked["rule"].as_str().unwrap().to_string();
    let acked = acked["id"].as_str().unwrap().to_string();
    let acked = acked.as_str();
    let by_id = |id: &str| {
        let id = id.to_string();
        move |a: &Value| a["id"] == id.as_str()
    };
    en.ok(&["ack", acked, "--for", "2d"]).await;
    let feedback = en.alert(|a| a["rule"] == "feedback_response_sla").await;
    let feedback = feedback["id"].as_str().unwrap();
    let out = en
        .ok(&["ack", feedback, "--note", "answered by phone"])
        .await;
    assert!(out.contains("feedback order"), "{out}");
    let handled = "SELECT COUNT(*) FROM seller_feedback WHERE acknowledged_at IS NOT NULL";
    let marked = count(&db, handled);
    assert!(marked > 0);

    // Two hours on (repeats due after one): the muted ones stay quiet.
    h.advance("2h").await;
    en.ok(&["evaluate"]).await;
    let notified = |a: &Value| a["notify_count"].as_i64().unwrap();
    assert_eq!(notified(&en.alert(spatula).await), 1);
    assert_eq!(notified(&en.alert(by_id(acked)).await), 1);
    en.alert(|a| a["notify_count"] == 2).await; // the others repeated

    // End the silence and undo the acks.
    let out = en.ok(&["silence", "--expire", &id]).await;
    assert!(
        out.starts_with(&format!(
            "ended silence #{id}: rule stockout_risk, sku FW-SPATULA-01"
        )),
        "{out}"
    );
    assert!(out.contains("notify again when due"), "{out}");
    assert!(en
        .ok(&["silences"])
        .await
        .starts_with("no silences in force"));
    let all = en.ok(&["silences", "--all"]).await;
    let words = |l: &str| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert!(
        all.lines().any(|l| words(l) == format!("{id} ended")),
        "{all}"
    );
    let json = en.json(&["silences", "--all"]).await;
    assert_eq!(json["silences"][0]["in_force"], false, "{json:#}");
    let out = en.ok(&["silence", "--expire", &id]).await;
    assert!(out.contains("already ended"), "{out}");
    let (code, _, err) = en.run(&["silence", "--expire", "999"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no silence has the id 999"), "{err}");
    let (code, _, err) = en.run(&["silence", "--expire", &id, "--rule", "*"]).await;
    assert_eq!(code, 2, "{err}");

    let out = en.ok(&["ack", "--undo", acked]).await;
    assert!(
        out.starts_with(&format!(
            "undid the acknowledgement of {acked} ({acked_rule} "
        )),
        "{out}"
    );
    let out = en.ok(&["ack", "--undo", acked]).await;
    assert!(out.contains("nothing to undo"), "{out}");
    let (code, _, err) = en.run(&["ack", "--undo", "ffffffff"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no alert has the id"), "{err}");
    let out = en.ok(&["ack", "--undo", feedback]).await;
    assert!(out.contains(&format!("; {marked} feedback order")), "{out}");
    assert!(out.contains("unhandled again"), "{out}");
    assert_eq!(count(&db, handled), 0);

    // Nothing deleted: the silence and both acks are kept, ended.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM silences"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM alert_acks"), 2);

    // The next round: the silenced and the acked alert repeat; the
    // feedback fires again.
    h.advance("2h").await;
    en.ok(&["evaluate"]).await;
    assert_eq!(notified(&en.alert(spatula).await), 2);
    assert_eq!(notified(&en.alert(by_id(acked)).await), 2);
    let check = en.json(&["check", "--rule", "feedback_response_sla"]).await;
    assert!(
        check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["status"] == "firing"),
        "{check:#}"
    );

    // In Chinese: no English fixed words.
    zh.ok(&["evaluate"]).await;
    let out = zh.ok(SILENCE_SPATULA).await;
    let id = silence_id(&out);
    let acked = zh.alert(other).await;
    let acked = acked["id"].as_str().unwrap();
    zh.ok(&["ack", acked]).await;
    let mut text = String::new();
    for args in [
        vec!["silences"],
        vec!["silence", "--expire", &id],
        vec!["silence", "--expire", &id],
        vec!["silences"],
        vec!["silences", "--all"],
        vec!["ack", "--undo", acked],
        vec!["ack", "--undo", acked],
    ] {
        text.push_str(&zh.ok(&args).await);
    }
    println!("{text}");
    for e in [
        "ID",
        "RULE",
        "MATCHES",
        "EXPIRES",
        "NOTE",
        "CREATED",
        "in force",
        "ended",
        "muted",
        "until",
        "times in",
        "sku ",
        "stockout_risk",
        "undid",
        "acknowledg",
        "nothing",
    ] {
        assert!(!text.contains(e), "{e:?} in\n{text}");
    }
    for words in [
        "SKU FW-SPATULA-01",
        "已结束静默",
        "已结束",
        "没有生效中的静默",
        "已撤销",
        "无需撤销",
    ] {
        assert!(text.contains(words), "{words:?} not in\n{text}");
    }
}

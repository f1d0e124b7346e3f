//! A rule finding as the alert tests build them: firing, with a fixed
//! threshold, evidence and "check first", so a test states only the rule,
//! severity, subject and value it is about.
#![allow(dead_code)]

use flywheel::config::{RuleId, Severity};
use flywheel::rules::{Finding, Status, Subject};

pub fn finding(rule: RuleId, severity: Severity, subject: Subject, value: f64) -> Finding {
    Finding {
        rule,
        severity,
        status: Status::Firing,
        subject,
        value: Some(value),
        threshold: Some(8.0),
        window: None,
        evidence: vec![
            ("sessions".into(), 1200.into()),
            ("units".into(), 49.into()),
        ],
        summary: format!("{} at {value}", rule.as_str()),
        check_first: "the listing's main image and price".into(),
        diagnosis: None,
    }
}

//! The one clock every command reads: the system clock in production, or a
//! simulated marketplace's `GET /_sim/now` when `[daemon] clock` points at
//! it (DESIGN §4, §6), so sync cursors, rule windows and alert timers all
//! follow sim time in the demo and the end-to-end tests; or a fixed instant
//! (`fixed:…`), which the demo leaves in its config when its simulated
//! marketplace is gone, so the read-only commands see the data as it was
//! at the demo's last round instead of failing or calling it stale.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::config::ClockSource;

/// Where `now` comes from.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Sim {
        url: String,
        http: reqwest::Client,
    },
    /// A fixed instant (`[daemon] clock = "fixed:…"`, tests, `check --at`).
    Fixed(DateTime<Utc>),
}

#[derive(serde::Deserialize)]
struct SimNow {
    now: DateTime<Utc>,
    #[serde(default)]
    speed: Option<f64>,
}

/// One reading of the clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub now: DateTime<Utc>,
    /// Clock seconds per wall second: 1 for the system clock, the sim's
    /// `--speed` otherwise (0 when frozen).
    pub speed: f64,
}

impl Clock {
    pub fn from_source(source: &ClockSource) -> Clock {
        match source {
            ClockSource::System => Clock::System,
            ClockSource::Sim(url) => Clock::Sim {
                url: url.clone(),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("reqwest client"),
            },
            ClockSource::Fixed(t) => Clock::Fixed(*t),
        }
    }

    /// The current time. Read it once per round and pass it down.
    pub async fn now(&self) -> anyhow::Result<DateTime<Utc>> {
        Ok(self.read().await?.now)
    }

    /// The current time and the clock's pace.
    pub async fn read(&self) -> anyhow::Result<Reading> {
        match self {
            Clock::System => Ok(Reading {
                now: Utc::now(),
                speed: 1.0,
            }),
            Clock::Fixed(t) => Ok(Reading {
                now: *t,
                speed: 0.0,
            }),
            Clock::Sim { url, http } => {
                let resp = http
                    .get(url)
                    .send()
                    .await
                    .with_context(|| format!("cannot read the simulated clock at {url}"))?;
                let body: SimNow = resp
                    .error_for_status()
                    .with_context(|| format!("the simulated clock at {url} answered an error"))?
                    .json()
                    .await
                    .with_context(|| {
                        format!("the simulated clock at {url} answered no {{\"now\"}}")
                    })?;
                Ok(Reading {
                    now: body.now,
                    speed: body.speed.unwrap_or(1.0),
                })
            }
        }
    }
}

//! Each platform's own sending rate per robot, and a [`Pacer`] that
//! keeps to it, so flywheel waits instead of provoking a throttle answer
//! (which DingTalk punishes with ten minutes of silence).
//!
//! The rates, as documented:
//! - WeCom: "每个机器人发送的消息不能超过20条/分钟"
//!   (<https://developer.work.weixin.qq.com/document/path/91770>).
//! - DingTalk: 20 messages a minute per robot; over it the robot is
//!   throttled for 10 minutes
//!   (<https://open.dingtalk.com/document/robots/custom-robot-access>).
//! - Feishu/Lark custom bots: 100 a minute and 5 a second per bot
//!   (<https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot>).
//! - Slack incoming webhooks: about one message a second, short bursts
//!   tolerated (<https://docs.slack.dev/apis/web-api/rate-limits>).
//! - Webhook: none documented (it is the operator's own endpoint).
//!
//! The pacer is a sliding window per limit, pure: every method takes
//! `now`, so tests drive it without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Platform;

/// At most `messages` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub messages: u32,
    pub per: Duration,
}

const fn limit(messages: u32, per_secs: u64) -> RateLimit {
    RateLimit {
        messages,
        per: Duration::from_secs(per_secs),
    }
}

const PER_MINUTE_20: &[RateLimit] = &[limit(20, 60)];
const FEISHU: &[RateLimit] = &[limit(5, 1), limit(100, 60)];
const SLACK: &[RateLimit] = &[limit(1, 1)];

/// The platform's documented rate per robot (none for a webhook).
pub fn rate_limits(p: Platform) -> &'static [RateLimit] {
    match p {
        Platform::Wecom | Platform::Dingtalk => PER_MINUTE_20,
        Platform::Feishu | Platform::Lark => FEISHU,
        Platform::Slack => SLACK,
        Platform::Webhook => &[],
    }
}

/// When one robot may be sent to next: its rate limits over the
/// messages sent lately, and any wait a throttle answer asked for.
#[derive(Debug, Clone)]
pub struct Pacer {
    limits: &'static [RateLimit],
    /// Send times within the longest window, oldest first.
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Pacer {
    pub fn new(p: Platform) -> Pacer {
        Pacer {
            limits: rate_limits(p),
            sent: VecDeque::new(),
            blocked_until: None,
        }
    }

    /// How long to wait before the next message (zero: send now).
    pub fn delay(&self, now: Instant) -> Duration {
        let mut until = self.blocked_until.unwrap_or(now);
        for l in self.limits {
            let n = l.messages as usize;
            let recent: Vec<&Instant> = self
                .sent
                .iter()
                .filter(|t| now.saturating_duration_since(**t) < l.per)
                .collect();
            if n > 0 && recent.len() >= n {
                // The window frees a slot when the n-th latest send leaves it.
                until = until.max(*recent[recent.len() - n] + l.per);
            }
        }
        until.saturating_duration_since(now)
    }

    /// A message was sent at `now`.
    pub fn sent(&mut self, now: Instant) {
        self.sent.push_back(now);
        let longest = self.limits.iter().map(|l| l.per).max().unwrap_or_default();
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= longest)
        {
            self.sent.pop_front();
        }
    }

    /// The platform answered "too fast": nothing goes before `now + wait`.
    pub fn throttled(&mut self, now: Instant, wait: Duration) {
        let until = now + wait;
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as the pacer allows over `secs` seconds; the count
    /// sent in every window never exceeds the platform's limit.
    fn drive(p: Platform, secs: u64) -> Vec<Duration> {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(p);
        let mut now = t0;
        let mut sent = Vec::new();
        while now < t0 + Duration::from_secs(secs) && sent.len() < 10_000 {
            now += pacer.delay(now);
            pacer.sent(now);
            sent.push(now - t0);
        }
        sent
    }

    #[test]
    fn each_platform_is_paced_to_its_documented_rate() {
        for p in [
            Platform::Wecom,
            Platform::Dingtalk,
            Platform::Feishu,
            Platform::Slack,
        ] {
            let sent = drive(p, 180);
            for l in rate_limits(p) {
                for (i, t) in sent.iter().enumerate() {
                    let in_window = sent[i..].iter().take_while(|u| **u < *t + l.per).count();
                    assert!(in_window <= l.messages as usize, "{p:?} {l:?} at {t:?}");
                }
            }
            // Not slower than needed: the longest window is filled.
            let l = rate_limits(p).iter().max_by_key(|l| l.per).unwrap();
            let first_window = sent.iter().filter(|t| **t < l.per).count();
            assert_eq!(first_window, l.messages as usize, "{p:?}");
        }
        assert_eq!(
            Pacer::new(Platform::Webhook).delay(Instant::now()),
            Duration::ZERO
        );
    }

    #[test]
    fn a_throttle_answer_holds_everything_until_it_passes() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(Platform::Dingtalk);
        pacer.throttled(t0, Duration::from_secs(600));
        assert_eq!(
            pacer.delay(t0 + Duration::from_secs(60)),
            Duration::from_secs(540)
        );
        assert_eq!(pacer.delay(t0 + Duration::from_secs(700)), Duration::ZERO);
    }
}

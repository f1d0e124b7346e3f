//! The signatures DingTalk and Feishu/Lark robots check when "加签" /
//! "签名校验" is on. Both are HMAC-SHA256 with the robot's secret and a
//! timestamp the platform compares with its own clock (within an hour),
//! so the timestamp is the system time the caller passes, never the
//! configured clock (DESIGN §6). Pure: the time is an argument.
//!
//! The two differ in what is the key and what the message:
//! - DingTalk (<https://open.dingtalk.com/document/robots/customize-robot-security-settings>):
//!   key = the secret, message = `timestamp + "\n" + secret`, timestamp in
//!   milliseconds; the base64 of the MAC is URL-encoded and sent as the
//!   `timestamp` and `sign` query parameters.
//! - Feishu/Lark (<https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot>,
//!   "签名校验"): key = `timestamp + "\n" + secret`, message = empty,
//!   timestamp in seconds; the base64 of the MAC goes in the JSON body as
//!   `timestamp` (a string) and `sign`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::hmac;

fn hmac_sha256_base64(key: &[u8], message: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, message).as_ref())
}

fn since_epoch(now: SystemTime) -> std::time::Duration {
    // A clock before 1970 signs with 0: the platform refuses it, and says so.
    now.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// DingTalk's `(timestamp, sign)`: milliseconds, and the URL-encoded
/// base64 of HMAC-SHA256(key = secret, timestamp + "\n" + secret).
pub fn dingtalk(secret: &str, now: SystemTime) -> (String, String) {
    let timestamp = since_epoch(now).as_millis().to_string();
    let mac = hmac_sha256_base64(
        secret.as_bytes(),
        format!("{timestamp}\n{secret}").as_bytes(),
    );
    // Base64's `+`, `/` and `=` are the only characters to encode.
    let sign =
        percent_encoding::utf8_percent_encode(&mac, percent_encoding::NON_ALPHANUMERIC).to_string();
    (timestamp, sign)
}

/// Feishu/Lark's `(timestamp, sign)`: seconds, and the base64 of
/// HMAC-SHA256(key = timestamp + "\n" + secret, empty message).
pub fn feishu(secret: &str, now: SystemTime) -> (String, String) {
    let timestamp = since_epoch(now).as_secs().to_string();
    let sign = hmac_sha256_base64(format!("{timestamp}\n{secret}").as_bytes(), b"");
    (timestamp, sign)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The values the platforms' own sample code (Python, in the pages
    /// cited above) prints for these inputs, computed with it once:
    /// DingTalk's `urllib.parse.quote_plus(base64.b64encode(hmac.new(
    /// secret, f"{ts}\n{secret}", sha256).digest()))` and Feishu's
    /// `base64.b64encode(hmac.new(f"{ts}\n{secret}", b"", sha256).digest())`.
    #[test]
    fn signatures_match_the_platforms_sample_code() {
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            dingtalk("SECthis-is-a-test-secret", at(1_700_000_000_000)),
            (
                "1700000000000".to_string(),
                "IRZT287QybIa2F%2FxrEkTcyuBS3Hp0ycAceupV5IhA5s%3D".to_string()
            )
        );
        assert_eq!(
            feishu("feishu-test-secret", at(1_700_000_000_999)),
            (
                "1700000000".to_string(),
                "e3MJ8Q5llVxGJ8pVkGPBhexDAgjvYqpjPP1GkY9XceI=".to_string()
            )
        );
    }
}

//! Pagination tokens that expire on sim time, for every paged operation.
//!
//! A token is stateless and opaque to clients: it carries the offset of the
//! next page, when it was issued (sim time) and a hash of the request's
//! filters, so a token cannot be replayed with other filters or after its
//! documented lifetime (Orders `searchOrders` 24 h, FBA Inventory
//! `getInventorySummaries` 30 s, ...). Decoding is pure: time is an input.
//!
//! ```ignore
//! let ctx = paging::context(&[&marketplace_id, &created_after]);
//! let offset = match &q.pagination_token {
//!     Some(t) => paging::decode(t, state.clock.now(), LIFETIME, ctx)
//!         .map_err(|e| rate.apply(errors::sp_invalid_input(&e.to_string())))?,
//!     None => 0,
//! };
//! let next = (end < total).then(|| paging::encode(end, state.clock.now(), ctx));
//! ```

use chrono::{DateTime, Duration, Utc};

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Invalid pagination token.")]
    Malformed,
    #[error("The pagination token has expired.")]
    Expired,
    #[error("The pagination token does not match the request parameters.")]
    WrongRequest,
}

/// A hash of the request parameters a token is bound to (FNV-1a, stable
/// across runs and platforms).
pub fn context(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A token for the page starting at `offset`, issued at `now`.
pub fn encode(offset: usize, now: DateTime<Utc>, context: u64) -> String {
    let raw = format!("{offset}:{}:{context:016x}", now.timestamp_millis());
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The offset a token points at, if it is well-formed, bound to `context`
/// and younger than `lifetime` at `now`.
pub fn decode(
    token: &str,
    now: DateTime<Utc>,
    lifetime: Duration,
    context: u64,
) -> Result<usize, TokenError> {
    if !token.len().is_multiple_of(2) || token.len() > 256 {
        return Err(TokenError::Malformed);
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let raw = String::from_utf8(bytes.ok_or(TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?;
    let mut it = raw.split(':');
    let (Some(offset), Some(issued), Some(ctx), None) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(TokenError::Malformed);
    };
    let offset: usize = offset.parse().map_err(|_| TokenError::Malformed)?;
    let issued = issued
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or(TokenError::Malformed)?;
    let ctx = u64::from_str_radix(ctx, 16).map_err(|_| TokenError::Malformed)?;
    if ctx != context {
        return Err(TokenError::WrongRequest);
    }
    if now - issued >= lifetime {
        return Err(TokenError::Expired);
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn round_trip_expiry_and_binding() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let ctx = context(&["ATVPDKIKX0DER", "2026-01-01"]);
        let tok = encode(100, t0, ctx);
        let life = Duration::seconds(30);
        assert_eq!(decode(&tok, t0 + Duration::seconds(29), life, ctx), Ok(100));
        assert_eq!(
            decode(&tok, t0 + Duration::seconds(30), life, ctx),
            Err(TokenError::Expired)
        );
        assert_eq!(
            decode(&tok, t0, life, context(&["ATVPDKIKX0DER", "2026-01-02"])),
            Err(TokenError::WrongRequest)
        );
        assert_eq!(decode("zz", t0, life, ctx), Err(TokenError::Malformed));
        assert_eq!(decode("abc", t0, life, ctx), Err(TokenError::Malformed));
        assert_ne!(context(&["ab", "c"]), context(&["a", "bc"]));
    }
}

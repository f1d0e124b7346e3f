//! The SP-API's self-authorization: where Seller Central shows the refresh
//! token, and the check of what was pasted.

use super::AuthError;
use crate::amazon::http::Api;
use crate::amazon::lwa::LwaError;
use crate::config::Secret;
use crate::model::marketplace::Region;

pub(super) fn sp_instructions(account: &str, region: Region, client_id: &str) -> String {
    let central = match region {
        Region::Na => "https://sellercentral.amazon.com",
        Region::Eu => "https://sellercentral-europe.amazon.com",
        Region::Fe => "https://sellercentral.amazon.co.jp (or .com.au, .amazon.sg)",
    };
    format!(
        "Connecting account \"{account}\" to the Selling Partner API (self-authorization).\n\n\
         1. Sign in to Seller Central ({central}) as the account's primary user.\n\
         2. Open Apps and Services > Develop Apps and find the app whose LWA client id is\n   \
            {client_id} (the client_id in [accounts.sp_api]).\n\
         3. Open the arrow next to Edit App, choose Authorize, then Authorize app.\n\
         4. Copy the refresh token it shows (it starts with Atzr|). Authorizing again issues a\n   \
            new token; earlier ones keep working until you revoke them.\n\
         5. Paste it here and press Enter.\n\n"
    )
}

/// A pasted SP-API refresh token, checked for shape (pure).
pub fn check_refresh_token(pasted: &str) -> Result<Secret, String> {
    let t = pasted.trim().trim_matches(['"', '\'']);
    if t.is_empty() {
        return Err(
            "the refresh token is empty: paste the Atzr|... value Seller Central shows".into(),
        );
    }
    if t.starts_with("Atza|") {
        return Err("that is an access token (Atza|..., valid one hour), not a refresh token: paste the Atzr|... value Seller Central shows after Authorize app".into());
    }
    if t.starts_with("amzn1.application-oa2-client.") {
        return Err("that is the app's LWA client id, not a refresh token: paste the Atzr|... value Seller Central shows after Authorize app".into());
    }
    if t.starts_with("amzn1.oa2-cs.") {
        return Err("that is the app's LWA client secret, not a refresh token: paste the Atzr|... value Seller Central shows after Authorize app".into());
    }
    match t.strip_prefix("Atzr|") {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => {
            Ok(Secret::new(t))
        }
        _ => Err("that does not look like a refresh token (one word starting with `Atzr|`): paste the value Seller Central shows after Authorize app".into()),
    }
}

pub(super) fn from_lwa(operation: &'static str, api: Api, e: LwaError) -> AuthError {
    match e {
        LwaError::InvalidGrant { description } => AuthError::Refused {
            operation,
            api,
            error: "invalid_grant".into(),
            description,
        },
        LwaError::InvalidClient { description } => AuthError::Refused {
            operation,
            api,
            error: "invalid_client".into(),
            description,
        },
        LwaError::Rejected {
            code, description, ..
        } => AuthError::Refused {
            operation,
            api,
            error: code,
            description,
        },
        LwaError::Transient { status } => AuthError::Transient {
            operation,
            api,
            status,
        },
        LwaError::Network(message) => AuthError::Unreachable { operation, message },
        LwaError::Decode(message) => AuthError::Decode { operation, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_refresh_tokens_are_checked() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("Atzr|IwEBIabc", Ok("Atzr|IwEBIabc")),
            ("\t Atzr|IwEBIabc \r\n", Ok("Atzr|IwEBIabc")),
            ("\"Atzr|IwEBIabc\"", Ok("Atzr|IwEBIabc")),
            ("", Err("empty")),
            ("Atza|IwEBIabc", Err("access token")),
            ("amzn1.application-oa2-client.abc", Err("client id")),
            ("amzn1.oa2-cs.v1.abc", Err("client secret")),
            ("Atzr|", Err("does not look like a refresh token")),
            ("Atzr|a b", Err("does not look like a refresh token")),
            (
                "ANdNAVhyhqirUelHGEHA",
                Err("does not look like a refresh token"),
            ),
        ];
        for (pasted, want) in cases {
            match (check_refresh_token(pasted), want) {
                (Ok(got), Ok(w)) => assert_eq!(got.expose(), *w, "{pasted:?}"),
                (Err(got), Err(w)) => assert!(got.contains(w), "{pasted:?}: {got}"),
                (got, want) => panic!("{pasted:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}

//! The simulator's OAuth access tokens: JWTs signed with HS256 under a key drawn when the
//! simulator starts, carrying the claims Lever's tokens carry (the account and the user who
//! authorized). Written by hand on `hmac`, `sha2` and `base64`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The payload of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub azp: String,
    pub iat: i64,
    pub exp: i64,
    pub scope: String,
    /// Tells apart two tokens of one grant issued in the same second; the simulator's key to
    /// the token's record.
    pub jti: String,
    #[serde(rename = "https://oauth.lever.co/accountId")]
    pub account_id: String,
    #[serde(rename = "https://oauth.lever.co/userId")]
    pub user_id: String,
}

/// `header.payload.signature`, each base64url without padding.
pub(crate) fn sign(key: &[u8], claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = mac(key, &signing_input).finalize().into_bytes();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The claims of a token signed with `key`; `None` for anything else (a bad signature, another
/// algorithm, a malformed token). Expiry is the caller's to check.
pub(crate) fn verify(key: &[u8], token: &str) -> Option<Claims> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    mac(key, signing_input).verify_slice(&signature).ok()?;
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header["alg"] != "HS256" {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

fn mac(key: &[u8], signing_input: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "http://127.0.0.1:1/".into(),
            sub: "user-1".into(),
            aud: vec!["http://127.0.0.1:1/v1/".into()],
            azp: "client-1".into(),
            iat: 1_700_000_000,
            exp: 1_700_003_600,
            scope: "offline_access users:read:admin".into(),
            jti: "jti-1".into(),
            account_id: "acct-1".into(),
            user_id: "user-1".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_names_lever_s_claims() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"key", &token), Some(claims()));
        let payload = token.split('.').nth(1).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(json["https://oauth.lever.co/accountId"], "acct-1");
        assert_eq!(json["https://oauth.lever.co/userId"], "user-1");
    }

    #[test]
    fn another_key_a_changed_payload_or_alg_none_does_not_verify() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"other", &token), None);
        let mut forged = claims();
        forged.account_id = "acct-2".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let swapped = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(verify(b"key", &swapped), None);
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert_eq!(verify(b"key", &none), None);
        assert_eq!(verify(b"key", "not a token"), None);
    }
}

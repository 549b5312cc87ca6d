//! Device cookies (OWASP's defence against sign-in lockout): a browser that signed in to an
//! account gets a signed cookie naming that account and a random nonce. Failed sign-ins from it
//! are counted for that browser alone, so a stranger's wrong passwords, which lock the account
//! for unknown browsers, do not lock out the browser its owner uses.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::SecretKey;

pub const COOKIE_NAME: &str = "leverbridge_device";
/// A browser stays known for a year after its last sign-in.
const LIFETIME_DAYS: i64 = 365;

/// Signs and checks device cookies with a key derived from the server's secret key.
#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 64],
    secure: bool,
}

impl DeviceCookies {
    pub fn new(secret: &SecretKey, secure: bool) -> DeviceCookies {
        DeviceCookies {
            key: secret.derive("device-cookie"),
            secure,
        }
    }

    /// The MAC over a cookie's account and nonce.
    fn mac(&self, account: &str, nonce: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(account.as_bytes());
        mac.update(b"\n");
        mac.update(nonce.as_bytes());
        mac
    }

    /// A new cookie for a browser that just signed in to `account` (a normalised e-mail address).
    pub fn issue(&self, account: &str) -> Cookie<'static> {
        let nonce = crate::crypto::random_token(22);
        let value = format!(
            "{}.{nonce}.{}",
            URL_SAFE_NO_PAD.encode(account),
            URL_SAFE_NO_PAD.encode(self.mac(account, &nonce).finalize().into_bytes())
        );
        Cookie::build(COOKIE_NAME, value)
            .path("/login")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(time::Duration::days(LIFETIME_DAYS))
            .finish()
    }

    /// The nonce of `req`'s device cookie when it is genuine and was issued for `account`.
    pub fn presented_for(&self, req: &HttpRequest, account: &str) -> Option<String> {
        let cookie = req.cookie(COOKIE_NAME)?;
        let mut parts = cookie.value().splitn(3, '.');
        let (named, nonce, signature) = (parts.next()?, parts.next()?, parts.next()?);
        let named = String::from_utf8(URL_SAFE_NO_PAD.decode(named).ok()?).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let genuine = self.mac(&named, nonce).verify_slice(&signature).is_ok();
        (genuine && named == account).then(|| nonce.to_owned())
    }
}

//! `CsrfForm<T>`: a url-encoded form that is rejected (403, nothing changed) unless it carries
//! the session's CSRF token in the `csrf_token` field.

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{session, WebError};

/// Largest form body accepted.
const FORM_LIMIT: usize = 256 * 1024;

pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct TokenOnly {
    csrf_token: Option<String>,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|_| WebError::PayloadTooLarge)?;
            if body.len() > FORM_LIMIT {
                return Err(WebError::PayloadTooLarge);
            }
            let token: TokenOnly = serde_urlencoded::from_bytes(&body)
                .map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
            if !session::csrf_matches(&session, token.csrf_token.as_deref()) {
                return Err(WebError::CsrfRejected);
            }
            serde_urlencoded::from_bytes(&body)
                .map(CsrfForm)
                .map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}.")))
        })
    }
}

/// For forms that carry nothing but the token (sign out, delete, rotate …).
#[derive(Deserialize)]
pub struct NoFields {}

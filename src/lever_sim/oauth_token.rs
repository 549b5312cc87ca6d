//! `POST /oauth/token` and `POST /oauth/revoke`, answering as Lever's Auth0 does: RFC 6749
//! error JSON, `invalid_grant` with a 403, the client authenticated by form fields or HTTP Basic.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::auth;
use super::control::Data;
use super::oauth::{InvalidGrant, Tokens};
use super::state::SimState;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth/token", web::post().to(token))
        .route("/oauth/revoke", web::post().to(revoke));
}

/// An RFC 6749 error answer: `{"error", "error_description"}`.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "error": self.error, "error_description": self.description }))
    }
}

impl From<InvalidGrant> for OAuthError {
    /// Auth0 answers `invalid_grant` with a 403.
    fn from(e: InvalidGrant) -> Self {
        Self::new(StatusCode::FORBIDDEN, "invalid_grant", e.0)
    }
}

/// The fields of both endpoints' forms.
#[derive(Deserialize, Default)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    token: Option<String>,
}

impl TokenForm {
    /// Form-encoded as documented; a JSON body too, as Auth0 also accepts one.
    fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let json = req
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json {
            serde_json::from_slice(body)
                .map_err(|e| OAuthError::invalid_request(format!("Invalid JSON body: {e}")))
        } else {
            serde_urlencoded::from_bytes(body)
                .map_err(|e| OAuthError::invalid_request(format!("Invalid form body: {e}")))
        }
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("Missing required parameter: {name}")))
}

/// Decodes one `application/x-www-form-urlencoded` value (RFC 6749 §2.3.1 encodes the client
/// id and secret this way before HTTP Basic); raw `&` and `=` stand for themselves.
fn form_decode(value: &str) -> String {
    let escaped = value.replace('&', "%26").replace('=', "%3D");
    url::form_urlencoded::parse(escaped.as_bytes())
        .next()
        .map(|(decoded, _)| decoded.into_owned())
        .unwrap_or_default()
}

/// The authenticated client's id: from HTTP Basic when sent (form-decoded as RFC 6749 §2.3.1
/// asks, or else taken as sent), otherwise from the form's fields.
fn authenticate(
    state: &SimState,
    req: &HttpRequest,
    form: &TokenForm,
) -> Result<String, OAuthError> {
    let candidates = match (auth::basic(req), &form.client_id, &form.client_secret) {
        (Some((id, secret)), _, _) => vec![(form_decode(&id), form_decode(&secret)), (id, secret)],
        (None, Some(id), Some(secret)) => vec![(id.clone(), secret.clone())],
        _ => {
            return Err(OAuthError::invalid_client(
                "Client authentication required: client_id and client_secret, or HTTP Basic",
            ))
        }
    };
    let world = state.lock();
    candidates
        .into_iter()
        .find(|(id, secret)| {
            world.oauth.app(id).is_some_and(|app| {
                bool::from(app.client_secret.as_bytes().ct_eq(secret.as_bytes()))
            })
        })
        .map(|(id, _)| id)
        .ok_or_else(|| OAuthError::invalid_client("Unknown client or wrong client secret"))
}

fn tokens_json(tokens: Tokens) -> HttpResponse {
    let mut body = json!({
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "scope": tokens.scope,
        "expires_in": tokens.expires_in,
    });
    if let Some(refresh) = tokens.refresh_token {
        body["refresh_token"] = json!(refresh);
    }
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(body)
}

async fn token(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    exchange(&state, &req, &body).unwrap_or_else(|e| e.response())
}

fn exchange(state: &SimState, req: &HttpRequest, body: &[u8]) -> Result<HttpResponse, OAuthError> {
    let form = TokenForm::parse(req, body)?;
    let client_id = authenticate(state, req, &form)?;
    let issuer = format!("{}/", state.base_url);
    let grant_type = required(&form.grant_type, "grant_type")?;
    let tokens = match grant_type {
        "authorization_code" => {
            let code = required(&form.code, "code")?;
            let redirect_uri = required(&form.redirect_uri, "redirect_uri")?;
            state
                .lock()
                .oauth
                .exchange_code(&client_id, code, redirect_uri, &issuer)?
        }
        "refresh_token" => {
            let refresh_token = required(&form.refresh_token, "refresh_token")?;
            state
                .lock()
                .oauth
                .refresh(&client_id, refresh_token, &issuer)?
        }
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Unsupported grant type: {other}"),
            ))
        }
    };
    Ok(tokens_json(tokens))
}

/// RFC 7009: revokes the refresh token's whole grant; an unknown token is no error.
async fn revoke(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let result = TokenForm::parse(&req, &body).and_then(|form| {
        let client_id = authenticate(&state, &req, &form)?;
        let token = required(&form.token, "token")?;
        state.lock().oauth.revoke_refresh_token(&client_id, token);
        Ok(HttpResponse::Ok().finish())
    });
    result.unwrap_or_else(|e| e.response())
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decode("a%2Bb+c"), "a+b c");
        assert_eq!(form_decode("x&y=z"), "x&y=z");
        assert_eq!(form_decode("plain"), "plain");
    }
}

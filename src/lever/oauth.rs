//! Lever's OAuth, which runs on Auth0: the authorize URL, the code exchange, the refresh (with
//! rotation), revocation, and the claims of an access token: the protocol only. No database
//! here: the connection made with it, its tokens sealed and stored, is `connection::oauth`.

use std::time::Duration;

use base64::Engine;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Lever's OAuth hosts per environment (LEVER_API.md, "Hosts").
const AUTH_HOSTS: &[(&str, &str)] = &[
    ("production", "https://auth.lever.co"),
    ("sandbox", "https://sandbox-lever.auth0.com"),
];

/// The `audience` of each environment's tokens: it names Lever's API and never follows the
/// address the API is reached at (Auth0 refuses any other value; LEVER_API.md).
pub const AUDIENCES: &[(&str, &str)] = &[
    ("production", "https://api.lever.co/v1/"),
    ("sandbox", "https://api.sandbox.lever.co/v1/"),
];

/// The audience for `environment` (production's for an unknown one, as the hosts).
pub fn audience(environment: &str) -> &'static str {
    AUDIENCES
        .iter()
        .find(|(name, _)| *name == environment)
        .map_or(AUDIENCES[0].1, |(_, audience)| audience)
}

/// The JWT claims naming the Lever account and the user who authorized.
pub const ACCOUNT_ID_CLAIM: &str = "https://oauth.lever.co/accountId";
pub const USER_ID_CLAIM: &str = "https://oauth.lever.co/userId";

/// The registered OAuth app: leverbridge's client id and secret in Lever's partner program.
#[derive(Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

/// Where one environment's authorization server is, and the audience its tokens are for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthEndpoints {
    pub authorize: String,
    pub token: String,
    pub revoke: String,
    /// Lever's API for the environment ([`audience`]), whatever address it is reached at.
    pub audience: String,
}

impl OAuthEndpoints {
    /// `auth_override` replaces Lever's OAuth host (the simulator's base URL in tests and the
    /// demo); the audience stays Lever's for `environment`.
    pub fn new(environment: &str, auth_override: Option<&str>) -> OAuthEndpoints {
        let host = auth_override
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| {
                AUTH_HOSTS
                    .iter()
                    .find(|(name, _)| *name == environment)
                    .map_or(AUTH_HOSTS[0].1, |(_, host)| host)
                    .to_owned()
            });
        OAuthEndpoints {
            authorize: format!("{host}/authorize"),
            token: format!("{host}/oauth/token"),
            revoke: format!("{host}/oauth/revoke"),
            audience: audience(environment).to_owned(),
        }
    }

    /// The origin of the authorize page, which the Connection page's form may be sent on to.
    pub fn authorize_origin(&self) -> Option<String> {
        url::Url::parse(&self.authorize)
            .ok()
            .map(|url| url.origin().ascii_serialization())
    }
}

/// What a successful token request gave.
pub struct Tokens {
    pub access_token: SecretString,
    /// Absent when Lever did not rotate it (or `offline_access` was not granted).
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<Duration>,
    /// As granted, which may be fewer than asked for.
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The code or refresh token is no good: revoked, rotated, expired, or unused for 90 days.
    /// Only a new authorization helps.
    #[error("Lever refused the authorization ({0})")]
    InvalidGrant(String),
    /// Lever refused the request for another reason (the client id or secret, a parameter).
    #[error("Lever's authorization server refused the request: {0}")]
    Refused(String),
    /// Lever could not be reached or answered nonsense: worth trying again.
    #[error("could not reach Lever's authorization server: {0}")]
    Transport(String),
}

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(
    app: &OAuthApp,
    endpoints: &OAuthEndpoints,
    redirect_uri: Option<&str>,
) -> Result<ConfiguredClient, OAuthError> {
    let invalid = |what: &str, e: url::ParseError| OAuthError::Refused(format!("{what}: {e}"));
    let client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            app.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(
            AuthUrl::new(endpoints.authorize.clone())
                .map_err(|e| invalid("the authorize URL", e))?,
        )
        .set_token_uri(
            TokenUrl::new(endpoints.token.clone()).map_err(|e| invalid("the token URL", e))?,
        )
        // Lever's documentation sends the client's credentials in the form.
        .set_auth_type(AuthType::RequestBody);
    Ok(match redirect_uri {
        Some(uri) => client.set_redirect_uri(
            RedirectUrl::new(uri.to_owned()).map_err(|e| invalid("the redirect URI", e))?,
        ),
        None => client,
    })
}

/// Where to send the admin: Lever's consent page for `scopes`, coming back with `state`.
pub fn authorize_url(
    app: &OAuthApp,
    endpoints: &OAuthEndpoints,
    redirect_uri: &str,
    state: &str,
    scopes: &[&str],
) -> Result<String, OAuthError> {
    let state = state.to_owned();
    let (url, _) = client(app, endpoints, Some(redirect_uri))?
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .add_extra_param("audience", endpoints.audience.clone())
        // As Lever's example does: Lever asks for consent each time.
        .add_extra_param("prompt", "consent")
        .url();
    Ok(url.to_string())
}

/// Trades the code from the callback for tokens.
#[tracing::instrument(skip_all)]
pub async fn exchange_code(
    http: &reqwest::Client,
    app: &OAuthApp,
    endpoints: &OAuthEndpoints,
    redirect_uri: &str,
    code: &str,
) -> Result<Tokens, OAuthError> {
    let response = client(app, endpoints, Some(redirect_uri))?
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .request_async(http)
        .await;
    tokens(response)
}

/// A new access token (and, Lever rotating them, a new refresh token) for `refresh_token`.
#[tracing::instrument(skip_all)]
pub async fn refresh(
    http: &reqwest::Client,
    app: &OAuthApp,
    endpoints: &OAuthEndpoints,
    refresh_token: &str,
) -> Result<Tokens, OAuthError> {
    let token = RefreshToken::new(refresh_token.to_owned());
    let response = client(app, endpoints, None)?
        .exchange_refresh_token(&token)
        .request_async(http)
        .await;
    tokens(response)
}

/// Ends the grant behind `refresh_token` (RFC 7009, as Auth0 offers it). `Ok(false)` when the
/// server offers no revocation (404): the grant then lasts until revoked in Lever.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    http: &reqwest::Client,
    app: &OAuthApp,
    endpoints: &OAuthEndpoints,
    refresh_token: &str,
) -> Result<bool, OAuthError> {
    let response = http
        .post(&endpoints.revoke)
        .timeout(Duration::from_secs(15))
        .form(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.expose_secret()),
            ("token", refresh_token),
        ])
        .send()
        .await
        .map_err(|e| OAuthError::Transport(e.to_string()))?;
    match response.status() {
        status if status.is_success() => Ok(true),
        reqwest::StatusCode::NOT_FOUND => Ok(false),
        status => Err(OAuthError::Refused(format!(
            "revocation answered {status}: {}",
            response.text().await.unwrap_or_default().trim()
        ))),
    }
}

type TokenResult = Result<
    oauth2::basic::BasicTokenResponse,
    RequestTokenError<
        oauth2::HttpClientError<reqwest::Error>,
        oauth2::StandardErrorResponse<BasicErrorResponseType>,
    >,
>;

fn tokens(response: TokenResult) -> Result<Tokens, OAuthError> {
    match response {
        Ok(token) => Ok(Tokens {
            access_token: SecretString::from(token.access_token().secret().to_owned()),
            refresh_token: token
                .refresh_token()
                .map(|t| SecretString::from(t.secret().to_owned())),
            expires_in: token.expires_in(),
            scopes: token
                .scopes()
                .map(|scopes| scopes.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        }),
        Err(RequestTokenError::ServerResponse(error)) => {
            let text = match error.error_description() {
                Some(description) => format!("{}: {description}", error.error()),
                None => error.error().to_string(),
            };
            Err(match error.error() {
                BasicErrorResponseType::InvalidGrant => OAuthError::InvalidGrant(text),
                _ => OAuthError::Refused(text),
            })
        }
        Err(RequestTokenError::Request(e)) => Err(OAuthError::Transport(e.to_string())),
        Err(RequestTokenError::Parse(e, _)) => Err(OAuthError::Transport(format!(
            "the answer could not be read: {e}"
        ))),
        Err(RequestTokenError::Other(message)) => Err(OAuthError::Transport(message)),
    }
}

/// What leverbridge reads from an access token: which Lever account it is for and who granted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    pub account_id: String,
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    #[serde(rename = "https://oauth.lever.co/accountId")]
    account_id: Option<String>,
    #[serde(rename = "https://oauth.lever.co/userId")]
    user_id: Option<String>,
}

/// Reads the claims of a JWT access token. The signature is not checked: the token came
/// straight from Lever over TLS, and Lever checks it on every call.
pub fn claims(access_token: &str) -> Result<Claims, String> {
    let payload = access_token
        .split('.')
        .nth(1)
        .filter(|_| access_token.split('.').count() == 3)
        .ok_or("the access token is not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("the access token's claims are not base64url: {e}"))?;
    let raw: RawClaims = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the access token's claims are not JSON: {e}"))?;
    let account_id = raw
        .account_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| format!("the access token names no Lever account ({ACCOUNT_ID_CLAIM})"))?;
    Ok(Claims {
        account_id,
        user_id: raw.user_id.filter(|id| !id.trim().is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(payload))
    }

    #[test]
    fn the_account_and_user_come_from_the_claims() {
        let token = jwt(
            r#"{"sub":"u","https://oauth.lever.co/accountId":"acct-1","https://oauth.lever.co/userId":"user-9"}"#,
        );
        assert_eq!(
            claims(&token),
            Ok(Claims {
                account_id: "acct-1".into(),
                user_id: Some("user-9".into())
            })
        );
        let no_user = jwt(r#"{"https://oauth.lever.co/accountId":"acct-1"}"#);
        assert_eq!(claims(&no_user).unwrap().user_id, None);
    }

    #[test]
    fn a_token_without_an_account_or_not_a_jwt_is_refused() {
        assert!(claims(&jwt(r#"{"sub":"u"}"#))
            .unwrap_err()
            .contains("names no Lever account"));
        assert!(claims("opaque-token").unwrap_err().contains("not a JWT"));
        assert!(claims("a.!!!.c").unwrap_err().contains("base64url"));
    }

    #[test]
    fn hosts_follow_the_environment_unless_overridden() {
        let production = OAuthEndpoints::new("production", None);
        assert_eq!(production.authorize, "https://auth.lever.co/authorize");
        assert_eq!(production.token, "https://auth.lever.co/oauth/token");
        assert_eq!(production.audience, "https://api.lever.co/v1/");
        let sandbox = OAuthEndpoints::new("sandbox", None);
        assert_eq!(
            sandbox.authorize,
            "https://sandbox-lever.auth0.com/authorize"
        );
        assert_eq!(sandbox.audience, "https://api.sandbox.lever.co/v1/");
        let sim = OAuthEndpoints::new("production", Some("http://127.0.0.1:9/"));
        assert_eq!(sim.token, "http://127.0.0.1:9/oauth/token");
        assert_eq!(
            sim.audience, "https://api.lever.co/v1/",
            "the audience names Lever's API wherever it is reached"
        );
        assert_eq!(
            sim.authorize_origin().as_deref(),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn the_authorize_url_carries_every_parameter_lever_requires() {
        let app = OAuthApp {
            client_id: "cid".into(),
            client_secret: SecretString::from("secret".to_owned()),
        };
        let endpoints = OAuthEndpoints::new("production", None);
        let url = authorize_url(
            &app,
            &endpoints,
            "https://lb.example/oauth/lever/callback",
            "STATE",
            &["offline_access", "stages:read:admin"],
        )
        .unwrap();
        let url = url::Url::parse(&url).unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], "cid");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["state"], "STATE");
        assert_eq!(
            query["redirect_uri"],
            "https://lb.example/oauth/lever/callback"
        );
        assert_eq!(query["audience"], "https://api.lever.co/v1/");
        assert_eq!(query["scope"], "offline_access stages:read:admin");
        assert_eq!(query["prompt"], "consent");
        assert!(!url.as_str().contains("secret"));
    }
}

//! The one Lever client: authentication, rate limiting, retries and a record of every call.
//! The endpoints themselves are in `endpoints.rs`, the connection test in `permissions.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rand::Rng;
use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::error::{error_message, LeverError};
use super::permission_table::permission_for_segments;
use super::rate_limit::{RateLimiters, TokenBucket};
use super::request::{ApiRequest, RequestBody};

/// The longest leverbridge waits between two attempts, whatever `Retry-After` says.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// How the connection authenticates.
pub enum Credentials {
    /// An API key, sent as HTTP Basic user name with an empty password.
    ApiKey(SecretString),
    /// An OAuth access token, used as it is.
    Bearer(SecretString),
    /// An OAuth access token that is renewed when Lever answers 401 to it (once per request).
    OAuth {
        token: SecretString,
        renew: Arc<dyn RenewToken>,
    },
}

/// Renews an OAuth connection's access token. Whoever implements it makes sure concurrent
/// renewals of one connection come to one refresh.
pub trait RenewToken: Send + Sync {
    /// A working access token in place of `stale`, which Lever refused.
    fn renew<'a>(&'a self, stale: &'a str) -> BoxFuture<'a, Result<SecretString, LeverError>>;
}

impl Credentials {
    pub fn is_bearer(&self) -> bool {
        !matches!(self, Credentials::ApiKey(_))
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::ApiKey(_) => "ApiKey([REDACTED])",
            Credentials::Bearer(_) | Credentials::OAuth { .. } => "Bearer([REDACTED])",
        })
    }
}

/// The credentials as the client holds them: an OAuth token changes when it is renewed.
enum Held {
    ApiKey(SecretString),
    Bearer {
        token: Mutex<SecretString>,
        renew: Option<Arc<dyn RenewToken>>,
    },
}

impl From<Credentials> for Held {
    fn from(credentials: Credentials) -> Held {
        match credentials {
            Credentials::ApiKey(key) => Held::ApiKey(key),
            Credentials::Bearer(token) => Held::Bearer {
                token: Mutex::new(token),
                renew: None,
            },
            Credentials::OAuth { token, renew } => Held::Bearer {
                token: Mutex::new(token),
                renew: Some(renew),
            },
        }
    }
}

impl Held {
    fn bearer_token(&self) -> Option<SecretString> {
        match self {
            Held::ApiKey(_) => None,
            Held::Bearer { token, .. } => {
                Some(token.lock().unwrap_or_else(|p| p.into_inner()).clone())
            }
        }
    }
}

/// Where Lever is and how patiently to talk to it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://api.lever.co/v1`, or the simulator's `http://127.0.0.1:PORT/v1`.
    pub api_base: String,
    /// Per attempt.
    pub timeout: Duration,
    /// Retries after the first attempt, for 429, 5xx and connection failures.
    pub max_retries: u32,
    /// The first backoff; it doubles on every retry, plus jitter.
    pub backoff_base: Duration,
}

impl ClientConfig {
    pub fn new(api_base: impl Into<String>) -> Self {
        ClientConfig {
            api_base: api_base.into(),
            ..ClientConfig::default()
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            api_base: "https://api.lever.co/v1".to_owned(),
            timeout: Duration::from_secs(15),
            max_retries: 4,
            backoff_base: Duration::from_millis(500),
        }
    }
}

/// One HTTP attempt, kept so the Events page can show what was sent to Lever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeverCall {
    pub method: String,
    /// Path and query relative to the API base, e.g. `/opportunities/ID/addTags?perform_as=U`.
    /// Credentials never appear in it: they travel in the `Authorization` header.
    pub path: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub duration_ms: u64,
}

/// The shared HTTP client: connect/read timeouts and leverbridge's user agent.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("leverbridge/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(30))
        .build()
        .expect("the TLS backend and the default HTTP client settings are valid")
}

/// A Lever API client for one connection. Cheap to clone; clones share the rate-limit bucket
/// and the call record.
#[derive(Clone)]
pub struct LeverClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    credentials: Held,
    bucket: Arc<TokenBucket>,
    calls: Mutex<Vec<LeverCall>>,
}

impl std::fmt::Debug for LeverClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverClient")
            .field("api_base", &self.inner.config.api_base)
            .field("oauth", &self.is_oauth())
            .finish_non_exhaustive()
    }
}

impl LeverClient {
    pub fn new(
        http: reqwest::Client,
        config: ClientConfig,
        credentials: Credentials,
        limiter_key: String,
        limiters: RateLimiters,
    ) -> Self {
        LeverClient {
            inner: Arc::new(Inner {
                http,
                bucket: limiters.bucket(&limiter_key),
                config,
                credentials: credentials.into(),
                calls: Mutex::new(Vec::new()),
            }),
        }
    }

    /// True for an OAuth connection, whose scopes (not API-key permissions) decide access.
    pub fn is_oauth(&self) -> bool {
        matches!(self.inner.credentials, Held::Bearer { .. })
    }

    /// After Lever answered 401 to an OAuth token: a renewed token to try again with, unless
    /// this request has renewed once already or the token cannot be renewed.
    async fn renewed_token(&self, renewed: &mut bool) -> Option<Result<(), LeverError>> {
        let Held::Bearer {
            token,
            renew: Some(renew),
        } = &self.inner.credentials
        else {
            return None;
        };
        if std::mem::replace(renewed, true) {
            return None;
        }
        let stale = self.inner.credentials.bearer_token()?;
        Some(match renew.renew(stale.expose_secret()).await {
            Ok(fresh) => {
                *token.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
                Ok(())
            }
            Err(e) => Err(e),
        })
    }

    /// Drains the calls recorded since the last time.
    pub fn take_calls(&self) -> Vec<LeverCall> {
        std::mem::take(&mut *self.lock_calls())
    }

    fn lock_calls(&self) -> std::sync::MutexGuard<'_, Vec<LeverCall>> {
        self.inner
            .calls
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Sends `request`, retrying what may succeed later, and returns the parsed JSON body
    /// (`Value::Null` when the body is empty).
    pub(crate) async fn execute(&self, request: &ApiRequest) -> Result<Value, LeverError> {
        let (url, shown_path) = self.url_for(request)?;
        if let RequestBody::File { content_type, .. } = &request.body {
            if reqwest::multipart::Part::bytes(Vec::new())
                .mime_str(content_type)
                .is_err()
            {
                return Err(LeverError::BadRequest {
                    message: format!("{content_type:?} is not a valid content type"),
                });
            }
        }
        let mut attempt: u32 = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            self.inner.bucket.acquire().await;
            let started = std::time::Instant::now();
            let outcome = self.send_once(request, url.clone()).await;
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let may_retry = attempt <= self.inner.config.max_retries;
            match outcome {
                Ok((status, retry_after, body)) => {
                    let error = (!status.is_success()).then(|| error_message(status, &body));
                    self.record(
                        request,
                        &shown_path,
                        Some(status.as_u16()),
                        error,
                        attempt,
                        duration_ms,
                    );
                    if status.is_success() {
                        return parse_body(&body);
                    }
                    if status == StatusCode::UNAUTHORIZED {
                        match self.renewed_token(&mut renewed).await {
                            Some(Ok(())) => continue,
                            Some(Err(e)) => return Err(e),
                            None => {}
                        }
                    }
                    // A 5xx may come after Lever did the work: creations are not re-sent.
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && !request.creates);
                    if retryable && may_retry {
                        tokio::time::sleep(self.backoff(attempt, retry_after)).await;
                        continue;
                    }
                    let permission =
                        permission_for_segments(request.method.as_str(), &request.segments);
                    return Err(LeverError::from_response(
                        status,
                        retry_after,
                        &body,
                        permission,
                    ));
                }
                Err(error) => {
                    let message = transport_message(&error, self.inner.config.timeout);
                    self.record(
                        request,
                        &shown_path,
                        None,
                        Some(message.clone()),
                        attempt,
                        duration_ms,
                    );
                    let retryable = error.is_connect()
                        || (!request.creates
                            && (error.is_timeout() || error.is_request() || error.is_body()));
                    if retryable && may_retry {
                        tokio::time::sleep(self.backoff(attempt, None)).await;
                        continue;
                    }
                    return Err(LeverError::Transport(message));
                }
            }
        }
    }

    /// One HTTP attempt: status, `Retry-After` and the whole body.
    async fn send_once(
        &self,
        request: &ApiRequest,
        url: Url,
    ) -> Result<(StatusCode, Option<Duration>, Vec<u8>), reqwest::Error> {
        let builder = self
            .inner
            .http
            .request(request.method.clone(), url)
            .timeout(self.inner.config.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        let builder = match &self.inner.credentials {
            Held::ApiKey(key) => builder.basic_auth(key.expose_secret(), Some("")),
            Held::Bearer { token, .. } => {
                let token = token.lock().unwrap_or_else(|p| p.into_inner()).clone();
                builder.bearer_auth(token.expose_secret())
            }
        };
        let builder = match &request.body {
            RequestBody::Empty => builder,
            RequestBody::Json(body) => builder.json(body),
            RequestBody::File {
                filename,
                content_type,
                bytes,
            } => {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(filename.clone())
                    .mime_str(content_type)?;
                builder.multipart(reqwest::multipart::Form::new().part("file", part))
            }
        };
        let response = builder.send().await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.bytes().await?.to_vec();
        Ok((status, retry_after, body))
    }

    /// The URL to call and the path+query shown in the call record.
    fn url_for(&self, request: &ApiRequest) -> Result<(Url, String), LeverError> {
        let base = &self.inner.config.api_base;
        let invalid = || {
            LeverError::Transport(format!(
                "the Lever API address {base:?} is not a valid http(s) URL"
            ))
        };
        let mut url = Url::parse(base).map_err(|_| invalid())?;
        let base_path_len = url.path().trim_end_matches('/').len();
        url.path_segments_mut()
            .map_err(|_| invalid())?
            .pop_if_empty()
            .extend(&request.segments);
        let query = query_string(request);
        if !query.is_empty() {
            url.set_query(Some(&query));
        }
        let mut shown = url.path()[base_path_len..].to_owned();
        if let Some(query) = url.query() {
            shown.push('?');
            shown.push_str(query);
        }
        Ok((url, shown))
    }

    fn record(
        &self,
        request: &ApiRequest,
        path: &str,
        status: Option<u16>,
        error: Option<String>,
        attempt: u32,
        duration_ms: u64,
    ) {
        tracing::debug!(
            method = %request.method, path, status, error = error.as_deref(), attempt, duration_ms,
            "Lever call"
        );
        super::call_metrics::observe(
            request.method.as_str(),
            &request.segments,
            status,
            Duration::from_millis(duration_ms),
        );
        self.lock_calls().push(LeverCall {
            method: request.method.to_string(),
            path: path.to_owned(),
            status,
            error,
            attempt,
            duration_ms,
        });
    }

    /// `Retry-After` when Lever sent one (capped), else exponential backoff with jitter.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        backoff_delay(self.inner.config.backoff_base, attempt, retry_after)
    }
}

/// The query: ordinary parameters form-encoded, then the verbatim ones as Lever gave them.
fn query_string(request: &ApiRequest) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&request.query)
        .finish();
    for (name, value) in &request.verbatim_query {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&already_encoded(value));
    }
    query
}

/// A value that is already percent-encoded, unchanged except for the characters that cannot
/// stand in a query parameter at all (`&`, `#`, spaces, quotes, non-ASCII …), which are
/// encoded so that a token Lever sent unencoded still arrives whole. `%` and `+` are kept:
/// they are the encoding.
fn already_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~%+!$'()*,;:@/?[]=".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub(crate) fn backoff_delay(
    base: Duration,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_RETRY_WAIT);
    }
    let exponential = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_RETRY_WAIT);
    let jitter_ms = u64::try_from(exponential.as_millis() / 2).unwrap_or(u64::MAX);
    let jitter = Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms));
    (exponential + jitter).min(MAX_RETRY_WAIT)
}

/// `Retry-After` in (possibly fractional) seconds; HTTP dates are ignored.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds = value.trim().parse::<f64>().ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(MAX_RETRY_WAIT.as_secs_f64())))
}

fn parse_body(body: &[u8]) -> Result<Value, LeverError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map(super::lenient::storable)
        .map_err(|error| LeverError::Decode(error.to_string()))
}

/// A transport failure in words, without the URL (which carries `perform_as`).
fn transport_message(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!(
            "timed out after {} s talking to Lever",
            timeout.as_secs_f64()
        );
    }
    let mut message = String::from(if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    });
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_but_is_capped() {
        let base = Duration::from_millis(500);
        assert_eq!(
            backoff_delay(base, 1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            backoff_delay(base, 1, Some(Duration::from_secs(600))),
            MAX_RETRY_WAIT
        );
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("99999"), Some(MAX_RETRY_WAIT));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn backoff_doubles_with_up_to_half_again_of_jitter() {
        let base = Duration::from_millis(500);
        for attempt in 1..=4u32 {
            let exponential = base * 2u32.pow(attempt - 1);
            let delay = backoff_delay(base, attempt, None);
            assert!(
                delay >= exponential && delay <= exponential * 3 / 2,
                "{attempt}: {delay:?}"
            );
        }
        assert_eq!(backoff_delay(base, 40, None), MAX_RETRY_WAIT);
    }

    #[test]
    fn an_encoded_offset_token_is_sent_as_received() {
        let token = "%5B1%2C1750233409740%2C%22a1b2-c3%22%5D";
        let request = ApiRequest::new(reqwest::Method::GET, &["users"])
            .query("limit", "100")
            .query_verbatim("offset", token);
        assert_eq!(query_string(&request), format!("limit=100&offset={token}"));
        // A token that arrived unencoded cannot break the query apart.
        assert_eq!(already_encoded("a&b#c d\"é"), "a%26b%23c%20d%22%C3%A9");
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let credentials = Credentials::ApiKey("very-secret".to_owned().into());
        assert_eq!(format!("{credentials:?}"), "ApiKey([REDACTED])");
    }
}

//! `GET /metrics`: the Prometheus text exposition (`telemetry`), for a scraper on this host, or
//! one elsewhere that sends `Authorization: Bearer` with the token `LEVERBRIDGE_METRICS_TOKEN`
//! sets. The queue's depth is read from the database on each scrape.

use std::net::IpAddr;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::AppState;
use crate::config::MetricsToken;
use crate::db::DbError;
use crate::queue::table as queue;
use crate::telemetry;

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = decide(&Scraper::of(&req), state.settings.metrics_token.as_ref()) {
        return refusal.response();
    }
    let now = state.settings.tuning.clock.now();
    let depth = state
        .db
        .run(move |conn| queue::depth(conn, now).map_err(DbError::from))
        .await;
    match depth {
        Ok(depth) => {
            let waited: Vec<_> = depth
                .oldest_due
                .iter()
                .map(|(lane, due)| (*lane, due.map(|d| (now - d).to_std().unwrap_or_default())))
                .collect();
            telemetry::queue_depth(&depth.counts, &waited);
        }
        // The counters are still worth having; the queue gauges keep their last values.
        Err(e) => tracing::warn!(error = %e, "could not read the queue's depth for /metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(telemetry::render())
}

/// What the access rule looks at in a request for the metrics.
#[derive(Clone, Copy, Debug)]
pub struct Scraper<'a> {
    /// The address of the connection's other end; `None` when unknown.
    pub peer: Option<IpAddr>,
    /// Whether the request says a proxy forwarded it (`Forwarded`, `X-Forwarded-For`,
    /// `X-Real-IP`): behind a proxy on this host every client would look local.
    pub forwarded: bool,
    /// The `Authorization` header, when there is one.
    pub authorization: Option<&'a str>,
}

impl<'a> Scraper<'a> {
    pub fn of(req: &'a HttpRequest) -> Scraper<'a> {
        let headers = req.headers();
        Scraper {
            peer: req.peer_addr().map(|addr| addr.ip()),
            forwarded: ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|name| headers.contains_key(*name)),
            // A header that is not text is presented but unreadable: refused as not `Bearer`.
            authorization: headers
                .get(header::AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or("")),
        }
    }

    fn is_local(&self) -> bool {
        !self.forwarded && self.peer.is_some_and(|ip| ip.to_canonical().is_loopback())
    }
}

/// Why a request may not read the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// From another host, and no token is configured that could let it in.
    NotLocal,
    /// From another host without a token, while one is configured.
    TokenRequired,
    /// A bearer token that is not the configured one.
    WrongToken,
    /// A bearer token, but none is configured.
    NoTokenConfigured,
    /// An `Authorization` header that is not `Bearer <token>`.
    NotBearer,
}

/// The access rule. A request that presents a token is judged by its token wherever it comes
/// from (a scraper sending one expects it to be checked); one without is let in only from
/// loopback, not forwarded by a proxy.
pub fn decide(scraper: &Scraper<'_>, token: Option<&MetricsToken>) -> Result<(), Refusal> {
    if let Some(authorization) = scraper.authorization {
        let presented = bearer(authorization).ok_or(Refusal::NotBearer)?;
        return match token {
            Some(token) if token.matches(presented) => Ok(()),
            Some(_) => Err(Refusal::WrongToken),
            None => Err(Refusal::NoTokenConfigured),
        };
    }
    match (scraper.is_local(), token) {
        (true, _) => Ok(()),
        (false, Some(_)) => Err(Refusal::TokenRequired),
        (false, None) => Err(Refusal::NotLocal),
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::NotLocal => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotLocal => {
                "GET /metrics answers only requests from this host. To scrape it from elsewhere, \
                 set LEVERBRIDGE_METRICS_TOKEN and send `Authorization: Bearer <token>`."
            }
            Refusal::TokenRequired => {
                "GET /metrics from another host needs `Authorization: Bearer <token>` with the \
                 token LEVERBRIDGE_METRICS_TOKEN sets."
            }
            Refusal::WrongToken => {
                "The bearer token is not the one LEVERBRIDGE_METRICS_TOKEN sets on this server."
            }
            Refusal::NoTokenConfigured => {
                "A bearer token was sent, but LEVERBRIDGE_METRICS_TOKEN is not set on this server, \
                 so none is accepted: scrape from this host without one, or set it."
            }
            Refusal::NotBearer => "The Authorization header must be `Bearer <token>`.",
        }
    }

    fn response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status())
            .content_type("text/plain; charset=utf-8")
            .body(format!("{}\n", self.message()));
        let challenge = match self {
            Refusal::NotLocal => None,
            Refusal::WrongToken => Some("Bearer realm=\"metrics\", error=\"invalid_token\""),
            _ => Some("Bearer realm=\"metrics\""),
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> MetricsToken {
        MetricsToken::parse("metrics-token-0123456789").unwrap()
    }

    fn from(peer: &str, authorization: Option<&'static str>) -> Scraper<'static> {
        Scraper {
            peer: Some(peer.parse().unwrap()),
            forwarded: false,
            authorization,
        }
    }

    #[test]
    fn loopback_may_scrape_without_a_token() {
        for peer in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(decide(&from(peer, None), None), Ok(()), "{peer}");
            assert_eq!(decide(&from(peer, None), Some(&token())), Ok(()), "{peer}");
        }
    }

    #[test]
    fn another_host_is_refused_without_the_token() {
        for peer in ["10.0.0.7", "192.168.1.20", "2001:db8::1", "::ffff:10.0.0.7"] {
            assert_eq!(
                decide(&from(peer, None), None),
                Err(Refusal::NotLocal),
                "{peer}"
            );
            assert_eq!(
                decide(&from(peer, None), Some(&token())),
                Err(Refusal::TokenRequired),
                "{peer}"
            );
        }
        let unknown = Scraper {
            peer: None,
            forwarded: false,
            authorization: None,
        };
        assert_eq!(decide(&unknown, None), Err(Refusal::NotLocal));
        assert_eq!(Refusal::NotLocal.status(), StatusCode::FORBIDDEN);
        assert_eq!(Refusal::TokenRequired.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn another_host_with_the_token_may_scrape() {
        let good = from("203.0.113.9", Some("Bearer metrics-token-0123456789"));
        assert_eq!(decide(&good, Some(&token())), Ok(()));
        let lower = from("203.0.113.9", Some("bearer   metrics-token-0123456789 "));
        assert_eq!(decide(&lower, Some(&token())), Ok(()));
    }

    #[test]
    fn a_token_is_judged_wherever_it_comes_from() {
        for peer in ["203.0.113.9", "127.0.0.1"] {
            let wrong = from(peer, Some("Bearer metrics-token-0123456788"));
            assert_eq!(decide(&wrong, Some(&token())), Err(Refusal::WrongToken));
            let unset = from(peer, Some("Bearer metrics-token-0123456789"));
            assert_eq!(decide(&unset, None), Err(Refusal::NoTokenConfigured));
            for header in [
                "Basic bWV0cmljczp4",
                "Bearer",
                "metrics-token-0123456789",
                "",
            ] {
                assert_eq!(
                    decide(&from(peer, Some(header)), Some(&token())),
                    Err(Refusal::NotBearer),
                    "{header:?}"
                );
            }
        }
    }

    #[test]
    fn a_request_forwarded_by_a_local_proxy_is_not_local() {
        let proxied = Scraper {
            forwarded: true,
            ..from("127.0.0.1", None)
        };
        assert_eq!(decide(&proxied, None), Err(Refusal::NotLocal));
        let with_token = Scraper {
            authorization: Some("Bearer metrics-token-0123456789"),
            ..proxied
        };
        assert_eq!(decide(&with_token, Some(&token())), Ok(()));
    }

    #[test]
    fn every_refusal_says_what_to_do_in_plain_text() {
        for refusal in [
            Refusal::NotLocal,
            Refusal::TokenRequired,
            Refusal::WrongToken,
            Refusal::NoTokenConfigured,
            Refusal::NotBearer,
        ] {
            let response = refusal.response();
            assert_eq!(response.status(), refusal.status());
            assert!(refusal.message().contains("Bearer") || refusal.message().contains("token"));
            let challenged = response.headers().contains_key(header::WWW_AUTHENTICATE);
            assert_eq!(challenged, refusal.status() == StatusCode::UNAUTHORIZED);
        }
    }
}

//! The tracing span of each request names its route pattern (`/webhooks/lever/{key}`,
//! `/a/{token}`), never the path itself: paths carry the webhook endpoint key and candidates'
//! link tokens, which must not reach the logs.
//!
//! A request that ended in an error is logged at the level its status deserves ([`level_for`]):
//! ERROR is for what an operator must look at, so a visitor sent to sign in, or a browser asking
//! for an icon that is not there, is not one.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::Error;
use tracing::{Level, Span};
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(no route)".into());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
        let (status, path, error) = match outcome {
            Ok(response) => match response.response().error() {
                Some(error) => (response.status(), response.request().path(), error),
                None => return,
            },
            Err(error) => (error.as_response_error().status_code(), "", error),
        };
        let error = error.as_response_error();
        const ENDED: &str = "Error encountered while processing the incoming HTTP request";
        match level_for(status, path) {
            Level::ERROR => tracing::error!("{ENDED}: {error:?}"),
            Level::WARN => tracing::warn!("{ENDED}: {error:?}"),
            Level::INFO => tracing::info!("{ENDED}: {error:?}"),
            _ => tracing::debug!("{ENDED}: {error:?}"),
        }
    }
}

/// The level a request that ended in an error is logged at: ERROR for a server error, DEBUG for
/// a redirect (a visitor who is not signed in is sent to sign in: the normal way in) and for a
/// browser's guess at an icon that is not there, WARN for any other client error.
pub fn level_for(status: StatusCode, path: &str) -> Level {
    if status.is_server_error() {
        Level::ERROR
    } else if status.is_redirection() || (status == StatusCode::NOT_FOUND && icon_guess(path)) {
        Level::DEBUG
    } else if status.is_client_error() {
        Level::WARN
    } else {
        Level::INFO
    }
}

/// Paths browsers and crawlers ask for on their own, whatever the pages link to.
fn icon_guess(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name == "favicon.ico" || name.starts_with("apple-touch-icon")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::test::TestRequest;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::Layer;

    use super::*;
    use crate::web::WebError;

    /// The levels of the events logged while it is the subscriber.
    #[derive(Clone, Default)]
    struct Levels(Arc<Mutex<Vec<Level>>>);

    impl<S: tracing::Subscriber> Layer<S> for Levels {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            self.0.lock().unwrap().push(*event.metadata().level());
        }
    }

    /// The levels logged when a request for `path` ends in `error`.
    fn logged(path: &str, error: WebError) -> Vec<Level> {
        let response = TestRequest::with_uri(path)
            .to_srv_request()
            .error_response(error);
        let levels = Levels::default();
        let subscriber = tracing_subscriber::registry().with(levels.clone());
        tracing::subscriber::with_default(subscriber, || {
            RedactedRootSpan::on_request_end(Span::none(), &Ok(response));
        });
        let logged = levels.0.lock().unwrap().clone();
        logged
    }

    #[test]
    fn a_visitor_sent_to_sign_in_is_not_an_error() {
        let next = "/orgs/acme/events".to_owned();
        assert_eq!(
            logged("/orgs/acme/events", WebError::LoginRequired { next }),
            [Level::DEBUG]
        );
    }

    #[test]
    fn a_missing_favicon_is_not_a_warning_but_a_missing_page_is() {
        assert_eq!(logged("/favicon.ico", WebError::NotFound), [Level::DEBUG]);
        assert_eq!(
            logged("/apple-touch-icon-precomposed.png", WebError::NotFound),
            [Level::DEBUG]
        );
        assert_eq!(
            logged("/orgs/acme/nothing", WebError::NotFound),
            [Level::WARN]
        );
        assert_eq!(
            logged("/orgs/acme", WebError::Forbidden("no".into())),
            [Level::WARN]
        );
    }

    #[test]
    fn a_server_error_is_an_error() {
        let failure = WebError::Unexpected(anyhow::anyhow!("the database went away"));
        assert_eq!(logged("/orgs/acme", failure), [Level::ERROR]);
        assert_eq!(
            level_for(StatusCode::SERVICE_UNAVAILABLE, "/favicon.ico"),
            Level::ERROR
        );
    }
}

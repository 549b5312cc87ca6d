//! A request body must arrive within `Tuning::request_body_timeout` of its headers. actix cuts
//! slow headers on its own, but a body trickled in a byte at a time would hold a connection (and
//! whatever the handler holds) for ever; past the deadline the body ends in an error, the answer
//! is 408 and the connection is closed.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::AppState;

/// Middleware (`from_fn`): gives the request a body that fails at the deadline, and turns a
/// response to such a request into 408.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.tuning.request_body_timeout);
    let Some(timeout) = timeout else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let expired = Arc::new(AtomicBool::new(false));
    let body = DeadlineBody {
        inner: req.take_payload(),
        deadline: Instant::now() + timeout,
        timer: None,
        expired: expired.clone(),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let response = next.call(req).await?;
    if !expired.load(Ordering::Relaxed) {
        return Ok(response.map_into_boxed_body());
    }
    tracing::warn!(
        timeout_ms = timeout.as_millis() as u64,
        "request body did not arrive in time"
    );
    let (req, _) = response.into_parts();
    let mut page = super::error::error_page(
        StatusCode::REQUEST_TIMEOUT,
        "Request timed out",
        format!(
            "The request did not arrive within {} seconds, so it was dropped and nothing was \
             changed. Check your connection and send it again.",
            timeout.as_secs_f32().ceil()
        ),
    );
    page.head_mut().set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(req, page))
}

struct DeadlineBody {
    inner: Payload,
    deadline: Instant,
    /// Armed the first time the body has to wait for the client.
    timer: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.expired.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

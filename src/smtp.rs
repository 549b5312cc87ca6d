//! Sending a candidate email through the organization's mail server, with `lettre` over rustls
//! (on ring). Everything about SMTP is here; what an email says is `assessments::emails`.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio_rustls::rustls;

use crate::domain::org_settings::{SmtpServer, SmtpTls};

/// One email to send.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub use crate::config::SmtpRoots as ExtraRoots;

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused the recipient for good (550, 551, 553), or the address is not one:
    /// sending again cannot help.
    #[error("{0}")]
    Refused(String),
    /// Anything else (the server unreachable, TLS, sign-in, a busy server): worth retrying, and
    /// the message says what to check.
    #[error("{0}")]
    Failed(String),
}

/// Sends `mail` through `server`, signing in when a username is set; with TLS the server's
/// certificate must chain to a public root or to one of `roots`. The whole conversation
/// (connecting, TLS, every command and reply) must end within `deadline`: lettre's own timeout
/// bounds each read only, so a server that trickles a line at a time would hold it for ever.
#[tracing::instrument(skip_all, fields(host = %server.host, port = server.port))]
pub async fn send(
    server: &SmtpServer,
    password: Option<&str>,
    mail: &Outgoing<'_>,
    roots: &ExtraRoots,
    deadline: Duration,
) -> Result<(), SendError> {
    if server.host.is_empty() || server.from.is_empty() {
        return Err(SendError::Failed(
            "no mail server is set: enter its host and the From address on the Settings page"
                .into(),
        ));
    }
    let from: Mailbox = server.from.parse().map_err(|e| {
        SendError::Failed(format!(
            "the From address “{}” is not valid ({e}); correct it on the Settings page",
            server.from
        ))
    })?;
    let to: Mailbox = mail.to.parse().map_err(|e| {
        SendError::Refused(format!(
            "Lever's address for the candidate, “{}”, is not a valid email address ({e})",
            mail.to
        ))
    })?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.to_owned())
        .map_err(|e| SendError::Failed(format!("the email could not be composed: {e}")))?;
    let transport = transport(server, password, roots, deadline)?;
    match tokio::time::timeout(deadline, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(server, &e, deadline)),
        Err(_) => Err(timed_out(server, deadline)),
    }
}

fn transport(
    server: &SmtpServer,
    password: Option<&str>,
    roots: &ExtraRoots,
    deadline: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let tls_error = |e: lettre::transport::smtp::Error| {
        SendError::Failed(format!(
            "TLS could not be set up for {}: {}",
            server.host,
            chain(&e)
        ))
    };
    // What lettre's `starttls_relay` and `relay` set up, with the extra roots added.
    let parameters = || -> Result<TlsParameters, SendError> {
        let mut builder = TlsParameters::builder(server.host.clone());
        for der in roots.certificates() {
            builder = builder
                .add_root_certificate(Certificate::from_der(der.clone()).map_err(tls_error)?);
        }
        builder.build_rustls().map_err(tls_error)
    };
    let tls = match server.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(parameters()?),
        SmtpTls::Implicit => Tls::Wrapper(parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
        .tls(tls)
        .port(server.port)
        .timeout(Some(deadline));
    if !server.username.is_empty() {
        builder = builder.credentials(Credentials::new(
            server.username.clone(),
            password.unwrap_or_default().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// An error and its causes, joined: lettre's own message is often just "Connection error".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The TLS error behind `error`, if TLS is what failed: lettre reports a failed handshake as a
/// connection error, with rustls's error inside an `io::Error` (whose `source` skips it).
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if inner.is_some() {
            return inner;
        }
        current = e.source();
    }
    None
}

/// The mail server did not finish the conversation within `deadline`.
fn timed_out(server: &SmtpServer, deadline: Duration) -> SendError {
    SendError::Failed(format!(
        "timed out after {} s talking to the mail server {}:{} (connecting, TLS and the whole exchange must end by then): check that the host and port are a mail server that answers",
        deadline.as_secs_f64(),
        server.host,
        server.port
    ))
}

fn classify(
    server: &SmtpServer,
    error: &lettre::transport::smtp::Error,
    deadline: Duration,
) -> SendError {
    let at = format!("{}:{}", server.host, server.port);
    let detail = chain(error);
    let code = error.status().map(|c| c.to_string());
    match code.as_deref() {
        Some("550" | "551" | "553") => SendError::Refused(format!(
            "the mail server {at} refused the recipient for good ({detail})"
        )),
        Some("530" | "534" | "535" | "538") => SendError::Failed(format!(
            "the mail server {at} refused to sign in ({detail}): check the username and password on the Settings page"
        )),
        Some(_) => SendError::Failed(format!("the mail server {at} answered: {detail}")),
        None if error.is_timeout() => timed_out(server, deadline),
        None if matches!(rustls_error(error), Some(rustls::Error::InvalidCertificate(_))) => {
            SendError::Failed(format!(
                "the mail server {at} presented a certificate leverbridge does not trust ({detail}): it must be valid for “{}” and issued by a public certificate authority; check the host on the Settings page",
                server.host
            ))
        }
        None if error.is_tls() || rustls_error(error).is_some() => SendError::Failed(format!(
            "TLS with the mail server {at} failed ({detail}): check the encryption and port on the Settings page"
        )),
        None => SendError::Failed(format!(
            "the mail server {at} could not be reached ({detail}): check the host, port and encryption on the Settings page"
        )),
    }
}

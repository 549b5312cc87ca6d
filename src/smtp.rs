//! Sending a candidate email through the organization's mail server, with `lettre` over rustls
//! (on ring). Everything about SMTP is here; what an email says is `assessments::emails`.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::org_settings::{SmtpServer, SmtpTls};

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One email to send.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

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

/// Sends `mail` through `server`, signing in when a username is set.
#[tracing::instrument(skip_all, fields(host = %server.host, port = server.port))]
pub async fn send(
    server: &SmtpServer,
    password: Option<&str>,
    mail: &Outgoing<'_>,
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
    let transport = transport(server, password)?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err(classify(server, &e)),
    }
}

fn transport(
    server: &SmtpServer,
    password: Option<&str>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let tls_error = |e: lettre::transport::smtp::Error| {
        SendError::Failed(format!(
            "TLS could not be set up for {}: {}",
            server.host,
            chain(&e)
        ))
    };
    let builder = match server.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host),
        SmtpTls::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&server.host).map_err(tls_error)?
        }
        SmtpTls::Implicit => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&server.host).map_err(tls_error)?
        }
    };
    let mut builder = builder.port(server.port).timeout(Some(TIMEOUT));
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

fn classify(server: &SmtpServer, error: &lettre::transport::smtp::Error) -> SendError {
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
        None if error.is_timeout() => SendError::Failed(format!(
            "the mail server {at} did not answer in time ({detail})"
        )),
        None if error.is_tls() => SendError::Failed(format!(
            "TLS with the mail server {at} failed ({detail}): check the encryption and port on the Settings page"
        )),
        None => SendError::Failed(format!(
            "the mail server {at} could not be reached ({detail}): check the host, port and encryption on the Settings page"
        )),
    }
}

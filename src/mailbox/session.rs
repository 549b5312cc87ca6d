//! One SMTP conversation (RFC 5321's minimum, plus EHLO, STARTTLS (RFC 3207) and AUTH PLAIN and
//! LOGIN (RFC 4954)): commands a line at a time, the message between DATA and the lone dot,
//! dot-unstuffed.

use std::borrow::Cow;

use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::net::TcpStream;

use super::lines::{read_line, send};
use super::message::ReceivedMail;
use super::security::{Account, TlsMode};
use super::sign_in::authenticate;
use super::Mailbox;

/// The largest message accepted.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// Where a conversation stands with TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    /// Plain SMTP; no TLS offered.
    Plain,
    /// Plain so far; STARTTLS is offered and required before anything else.
    BeforeStartTls,
    /// Inside TLS, after STARTTLS or from the first byte.
    Tls,
}

/// The address inside `FROM:<…>` / `TO:<…>` (parameters after it are ignored).
fn path_argument<'a>(argument: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = argument.get(..keyword.len())?;
    if !rest.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(&rest[..end])
}

pub(super) async fn serve(socket: TcpStream, mailbox: &Mailbox) -> std::io::Result<()> {
    match mailbox.tls() {
        None => converse(socket, mailbox, Layer::Plain, true)
            .await
            .map(drop),
        Some((TlsMode::Implicit, acceptor)) => {
            let stream = acceptor.accept(socket).await?;
            converse(stream, mailbox, Layer::Tls, true).await.map(drop)
        }
        Some((TlsMode::StartTls, acceptor)) => {
            let Some(socket) = converse(socket, mailbox, Layer::BeforeStartTls, true).await? else {
                return Ok(());
            };
            let stream = acceptor.accept(socket).await?;
            // No second greeting: the client begins again with EHLO (RFC 3207).
            converse(stream, mailbox, Layer::Tls, false).await.map(drop)
        }
    }
}

/// The EHLO reply: what this conversation offers now.
fn ehlo(layer: Layer, account: Option<&Account>) -> String {
    let mut lines = vec!["leverbridge-mailbox".to_owned(), "8BITMIME".to_owned()];
    if layer == Layer::BeforeStartTls {
        lines.push("STARTTLS".into());
    }
    // Like a provider's relay, no sign-in is offered before TLS when TLS is on offer.
    if let Some(account) = account.filter(|_| layer != Layer::BeforeStartTls) {
        let names: Vec<&str> = account.mechanisms.iter().map(|m| m.as_str()).collect();
        lines.push(format!("AUTH {}", names.join(" ")));
    }
    lines.push("SIZE 10485760".into());
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
        .collect()
}

/// Talks SMTP on `stream` until QUIT or the end; returns the stream when the client asked for
/// STARTTLS (only offered in `Layer::BeforeStartTls`), for the caller to wrap in TLS.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    mailbox: &Mailbox,
    layer: Layer,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut io = BufReader::new(stream);
    if greet {
        send(&mut io, "220 leverbridge-mailbox ESMTP ready\r\n").await?;
    }
    let account = mailbox.account();
    let mut signed_in: Option<String> = None;
    let mut envelope = Envelope::default();
    let mut line = Vec::new();
    loop {
        if !read_line(&mut io, &mut line).await? {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, argument) = text.split_once(' ').unwrap_or((text, ""));
        let verb = verb.to_ascii_uppercase();
        let needs_tls = layer == Layer::BeforeStartTls;
        let reply: Cow<'static, str> = match verb.as_str() {
            "EHLO" => ehlo(layer, account).into(),
            "HELO" => "250 leverbridge-mailbox\r\n".into(),
            "STARTTLS" if needs_tls => return start_tls(io).await.map(Some),
            "STARTTLS" if layer == Layer::Tls => "503 5.5.1 TLS is already on\r\n".into(),
            "STARTTLS" => "502 5.5.1 STARTTLS is not offered here\r\n".into(),
            "AUTH" | "MAIL" if needs_tls => {
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
            }
            "AUTH" => match account {
                None => "502 5.5.1 AUTH is not offered here\r\n".into(),
                Some(_) if signed_in.is_some() => "503 5.5.1 Already signed in\r\n".into(),
                Some(account) => {
                    let (reply, who) =
                        authenticate(&mut io, &mut line, mailbox, account, argument).await?;
                    signed_in = who;
                    reply.into()
                }
            },
            "MAIL" if account.is_some() && signed_in.is_none() => {
                "530 5.7.0 Authentication required\r\n".into()
            }
            "MAIL" => envelope.mail_from(argument).into(),
            "RCPT" => envelope.rcpt_to(argument, mailbox).into(),
            "DATA" if envelope.from.is_none() || envelope.to.is_empty() => {
                "503 MAIL and RCPT first\r\n".into()
            }
            "DATA" => {
                send(&mut io, "354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let Some(data) = read_data(&mut io, &mut line).await? else {
                    send(&mut io, "552 Message too large\r\n").await?;
                    return Ok(None);
                };
                let mut mail = envelope.seal(data);
                mail.over_tls = layer == Layer::Tls;
                mail.signed_in_as = signed_in.clone();
                mailbox.keep(mail);
                "250 OK: kept\r\n".into()
            }
            "RSET" => {
                envelope = Envelope::default();
                "250 OK\r\n".into()
            }
            "NOOP" => "250 OK\r\n".into(),
            "QUIT" => {
                send(&mut io, "221 Bye\r\n").await?;
                return Ok(None);
            }
            _ => "502 Command not implemented\r\n".into(),
        };
        send(&mut io, &reply).await?;
    }
}

/// Agrees to STARTTLS and hands back the stream for the TLS handshake.
async fn start_tls<S: AsyncRead + AsyncWrite + Unpin>(mut io: BufReader<S>) -> std::io::Result<S> {
    send(&mut io, "220 2.0.0 Ready to start TLS\r\n").await?;
    if !io.buffer().is_empty() {
        // Anything sent before the handshake could be an attacker's (RFC 3207).
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "commands pipelined after STARTTLS",
        ));
    }
    Ok(io.into_inner())
}

/// The sender and recipients of the message being sent (MAIL FROM, RCPT TO), until DATA takes
/// them or RSET drops them.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

impl Envelope {
    /// MAIL FROM: a new sender, and no recipients yet.
    fn mail_from(&mut self, argument: &str) -> &'static str {
        match path_argument(argument, "FROM:") {
            Some(address) => {
                self.from = Some(address.to_owned());
                self.to.clear();
                "250 OK\r\n"
            }
            None => "501 Syntax: MAIL FROM:<address>\r\n",
        }
    }

    /// RCPT TO: one more recipient, unless the mailbox refuses the address.
    fn rcpt_to(&mut self, argument: &str, mailbox: &Mailbox) -> &'static str {
        match (path_argument(argument, "TO:"), &self.from) {
            (_, None) => "503 MAIL first\r\n",
            (None, _) => "501 Syntax: RCPT TO:<address>\r\n",
            (Some(address), _) if mailbox.refuses(address) => "550 5.1.1 No such mailbox here\r\n",
            (Some(address), _) => {
                self.to.push(address.to_owned());
                "250 OK\r\n"
            }
        }
    }

    /// The message `data` with this envelope, which it empties.
    fn seal(&mut self, data: Vec<u8>) -> ReceivedMail {
        ReceivedMail::new(
            self.from.take().unwrap_or_default(),
            std::mem::take(&mut self.to),
            data,
            crate::db::now(),
        )
    }
}

/// The message up to the line holding a lone dot, with each line's doubled leading dot undone;
/// `None` when it is larger than `MAX_MESSAGE` (or the stream ends first).
async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    loop {
        if !read_line(reader, line).await? {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(line);
        if data.len() + unstuffed.len() > MAX_MESSAGE {
            return Ok(None);
        }
        data.extend_from_slice(unstuffed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::{Mechanism, Security};
    use tokio::io::AsyncWriteExt;

    #[test]
    fn paths_are_read_from_their_brackets() {
        assert_eq!(
            path_argument("FROM:<a@b.c> SIZE=12", "FROM:"),
            Some("a@b.c")
        );
        assert_eq!(path_argument("to: <x@y.z>", "TO:"), Some("x@y.z"));
        assert_eq!(path_argument("FROM:<>", "FROM:"), Some(""));
        assert_eq!(path_argument("FROM a@b.c", "FROM:"), None);
    }

    #[tokio::test]
    async fn the_message_ends_at_the_lone_dot_and_is_unstuffed() {
        let wire: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nplain\r\n.\r\nQUIT\r\n";
        let mut reader = BufReader::new(wire);
        let mut line = Vec::new();
        let data = read_data(&mut reader, &mut line).await.unwrap().unwrap();
        assert_eq!(data, b"Subject: x\r\n\r\n.leading dot\r\nplain\r\n");
    }

    #[test]
    fn ehlo_offers_starttls_first_and_sign_in_only_inside_tls() {
        let account = Account::new("u", "p");
        let before = ehlo(Layer::BeforeStartTls, Some(&account));
        assert!(before.contains("250-STARTTLS\r\n") && !before.contains("AUTH"));
        let inside = ehlo(Layer::Tls, Some(&account));
        assert!(inside.contains("250-AUTH PLAIN LOGIN\r\n") && !inside.contains("STARTTLS"));
        assert!(ehlo(Layer::Plain, None).ends_with("250 SIZE 10485760\r\n"));
    }

    /// A client's side of one conversation: each line sent, and the reply it got.
    async fn talk(mailbox: &Mailbox, lines: &[&str]) -> Vec<String> {
        let socket = TcpStream::connect(mailbox.address()).await.unwrap();
        let mut io = BufReader::new(socket);
        let mut replies = Vec::new();
        let mut line = Vec::new();
        read_line(&mut io, &mut line).await.unwrap();
        for sent in lines {
            io.write_all(format!("{sent}\r\n").as_bytes())
                .await
                .unwrap();
            // A multi-line reply ends at the line whose code is followed by a space.
            let mut reply = String::new();
            loop {
                assert!(read_line(&mut io, &mut line).await.unwrap(), "{sent}");
                let text = String::from_utf8_lossy(&line).into_owned();
                let last = text.as_bytes().get(3) != Some(&b'-');
                reply.push_str(&text);
                if last {
                    break;
                }
            }
            replies.push(reply);
        }
        replies
    }

    fn code(reply: &str) -> &str {
        &reply[..3]
    }

    #[tokio::test]
    async fn mail_waits_for_a_sign_in_and_wrong_credentials_get_535() {
        let mailbox = Mailbox::start_on_loopback_with(Security {
            tls: None,
            account: Some(Account::new("jobs@acme.test", "s3cret")),
        })
        .await
        .unwrap();
        let plain = |user: &str, password: &str| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
        };
        let wrong = format!("AUTH PLAIN {}", plain("jobs@acme.test", "guess"));
        let right = format!("AUTH PLAIN {}", plain("jobs@acme.test", "s3cret"));
        let replies = talk(
            &mailbox,
            &[
                "EHLO me",
                "MAIL FROM:<a@b>",
                &wrong,
                "AUTH CRAM-MD5",
                &right,
                &right,
                "MAIL FROM:<a@b>",
            ],
        )
        .await;
        let codes: Vec<&str> = replies.iter().map(|r| code(r)).collect();
        assert_eq!(codes, ["250", "530", "535", "504", "235", "503", "250"]);
        assert!(replies[0].contains("AUTH PLAIN LOGIN"));

        // LOGIN: the username and password each answer a challenge; `*` cancels.
        use base64::Engine;
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let replies = talk(
            &mailbox,
            &[
                "EHLO me",
                "AUTH LOGIN",
                &b64("jobs@acme.test"),
                "*",
                "AUTH LOGIN",
                &b64("jobs@acme.test"),
                &b64("s3cret"),
            ],
        )
        .await;
        let codes: Vec<&str> = replies.iter().map(|r| code(r)).collect();
        assert_eq!(codes, ["250", "334", "334", "501", "334", "334", "235"]);
        assert_eq!(replies[1], "334 VXNlcm5hbWU6\r\n");

        let seen: Vec<(Mechanism, String, bool)> = mailbox
            .sign_ins()
            .into_iter()
            .map(|s| (s.mechanism, s.password, s.accepted))
            .collect();
        assert_eq!(
            seen,
            [
                (Mechanism::Plain, "guess".into(), false),
                (Mechanism::Plain, "s3cret".into(), true),
                (Mechanism::Login, "s3cret".into(), true),
            ]
        );
    }
}

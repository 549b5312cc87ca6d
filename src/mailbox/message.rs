//! A received message, readable: its envelope, its headers (folded lines joined, RFC 2047
//! encoded words decoded) and its body (quoted-printable or base64 undone).

use base64::Engine;
use chrono::NaiveDateTime;

/// One message as the mailbox received it.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// MAIL FROM.
    pub envelope_from: String,
    /// Every RCPT TO.
    pub envelope_to: Vec<String>,
    /// The message as sent, after dot-unstuffing.
    pub raw: String,
    pub received_at: NaiveDateTime,
    /// Whether it came inside TLS (after STARTTLS, or from the first byte).
    pub over_tls: bool,
    /// The account the client signed in to before sending it, if it did.
    pub signed_in_as: Option<String>,
}

impl ReceivedMail {
    pub(super) fn new(
        from: String,
        to: Vec<String>,
        data: Vec<u8>,
        at: NaiveDateTime,
    ) -> ReceivedMail {
        ReceivedMail {
            envelope_from: from,
            envelope_to: to,
            raw: String::from_utf8_lossy(&data).into_owned(),
            received_at: at,
            over_tls: false,
            signed_in_as: None,
        }
    }

    fn split(&self) -> (&str, &str) {
        let raw = self.raw.as_str();
        raw.split_once("\r\n\r\n")
            .or_else(|| raw.split_once("\n\n"))
            .unwrap_or((raw, ""))
    }

    /// The header `name` (case-insensitive), unfolded and decoded; `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let mut found: Option<String> = None;
        let mut current: Option<String> = None;
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = current.as_mut() {
                    value.push_str(line);
                }
                continue;
            }
            if let Some(value) = current.take() {
                found.get_or_insert(value);
            }
            if let Some((field, value)) = line.split_once(':') {
                if field.trim().eq_ignore_ascii_case(name) {
                    current = Some(value.trim().to_owned());
                }
            }
        }
        if let Some(value) = current {
            found.get_or_insert(value);
        }
        found.map(|v| decode_words(&v))
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The From header (falls back to the envelope's sender).
    pub fn from(&self) -> String {
        self.header("From")
            .unwrap_or_else(|| self.envelope_from.clone())
    }

    /// The To header (falls back to the envelope's recipients).
    pub fn to(&self) -> String {
        self.header("To")
            .unwrap_or_else(|| self.envelope_to.join(", "))
    }

    /// The body as text, its transfer encoding undone, with plain `\n` line breaks.
    pub fn body(&self) -> String {
        let (_, body) = self.split();
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let decoded = match encoding.as_str() {
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_else(|_| body.to_owned())
            }
            "quoted-printable" => quoted_printable(body, false),
            _ => body.to_owned(),
        };
        decoded.replace("\r\n", "\n")
    }
}

/// Undoes quoted-printable (`in_header`: `_` stands for a space, as in a `Q` encoded word).
fn quoted_printable(text: &str, in_header: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1..i + 3) == Some(b"\r\n") => i += 3,
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' => match bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(b'=');
                    i += 1;
                }
            },
            b'_' if in_header => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); the space between two
/// adjacent encoded words is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending_space = String::new();
    let mut last_was_word = false;
    for token in value.split_inclusive([' ', '\t']) {
        let word = token.trim_end_matches([' ', '\t']);
        let gap = &token[word.len()..];
        match decode_word(word) {
            Some(decoded) => {
                if !last_was_word {
                    out.push_str(&pending_space);
                }
                out.push_str(&decoded);
                last_was_word = true;
            }
            None => {
                out.push_str(&pending_space);
                out.push_str(word);
                last_was_word = false;
            }
        }
        pending_space = gap.to_owned();
    }
    out.push_str(&pending_space);
    out.trim_end().to_owned()
}

fn decode_word(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (_charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
    match encoding {
        "b" | "B" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        "q" | "Q" => Some(quoted_printable(text, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(raw: &str) -> ReceivedMail {
        ReceivedMail::new(
            "a@x".into(),
            vec!["b@y".into()],
            raw.into(),
            crate::db::now(),
        )
    }

    #[test]
    fn headers_are_unfolded_and_decoded() {
        let m = mail("From: \"Acme\" <a@x>\r\nSubject: =?utf-8?b?WW91ciB0ZXN0?=\r\n =?utf-8?q?_=E2=80=93_Acme?=\r\n\r\nHi\r\n");
        assert_eq!(m.subject(), "Your test – Acme");
        assert_eq!(m.from(), "\"Acme\" <a@x>");
        assert_eq!(m.body(), "Hi\n");
        assert_eq!(mail("Subject: plain words\n\nx").subject(), "plain words");
    }

    #[test]
    fn bodies_are_decoded() {
        let qp = mail(
            "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 and a long=\r\n line\r\n",
        );
        assert_eq!(qp.body(), "Café and a long line\n");
        let b64 = mail("Content-Transfer-Encoding: base64\r\n\r\nSMOpbGxv\r\n");
        assert_eq!(b64.body(), "Héllo");
    }
}

//! Signing in (AUTH PLAIN and LOGIN, RFC 4954) to the mailbox's one account: the exchange of
//! challenges and what the client's base64 answers say.

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};

use super::lines::{read_line, send};
use super::security::{Account, Mechanism, SignIn};
use super::Mailbox;

/// Sends a `334` challenge and reads the client's answer; `None` when the client cancels (`*`).
async fn challenge<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    line: &mut Vec<u8>,
    prompt: &str,
) -> std::io::Result<Option<String>> {
    send(io, &format!("334 {prompt}\r\n")).await?;
    if !read_line(io, line).await? {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let answer = String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .to_owned();
    Ok((answer != "*").then_some(answer))
}

/// AUTH against the mailbox's one account (`argument`: the mechanism and any initial
/// response); records the attempt. Returns the reply and, when it succeeded, who signed in.
pub(super) async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    line: &mut Vec<u8>,
    mailbox: &Mailbox,
    account: &Account,
    argument: &str,
) -> std::io::Result<(&'static str, Option<String>)> {
    const CANCELLED: &str = "501 5.7.0 Authentication cancelled\r\n";
    const UNREADABLE: &str = "501 5.5.2 Cannot decode the response\r\n";
    let (name, initial) = match argument.trim().split_once(' ') {
        Some((name, initial)) => (name, Some(initial.trim().to_owned())),
        None => (argument.trim(), None),
    };
    let Some(mechanism) = Mechanism::parse(name).filter(|m| account.mechanisms.contains(m)) else {
        return Ok(("504 5.5.4 Unrecognized authentication type\r\n", None));
    };
    let (username, password) = match mechanism {
        Mechanism::Plain => {
            let response = match initial {
                Some(response) => response,
                None => match challenge(io, line, "").await? {
                    Some(response) => response,
                    None => return Ok((CANCELLED, None)),
                },
            };
            match plain_credentials(&response) {
                Some(credentials) => credentials,
                None => return Ok((UNREADABLE, None)),
            }
        }
        Mechanism::Login => {
            // "Username:" and "Password:", in base64.
            let username = match initial {
                Some(response) => response,
                None => match challenge(io, line, "VXNlcm5hbWU6").await? {
                    Some(response) => response,
                    None => return Ok((CANCELLED, None)),
                },
            };
            let Some(password) = challenge(io, line, "UGFzc3dvcmQ6").await? else {
                return Ok((CANCELLED, None));
            };
            match (decode(&username), decode(&password)) {
                (Some(username), Some(password)) => (username, password),
                _ => return Ok((UNREADABLE, None)),
            }
        }
    };
    let accepted = username == account.username && password == account.password;
    mailbox.record_sign_in(SignIn {
        mechanism,
        username: username.clone(),
        password,
        accepted,
    });
    Ok(if accepted {
        ("235 2.7.0 Authentication successful\r\n", Some(username))
    } else {
        ("535 5.7.8 Authentication credentials invalid\r\n", None)
    })
}

/// Base64 text as a client sends it in AUTH, decoded; `None` when it is not base64 or not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The username and password of a PLAIN response (`authzid NUL authcid NUL passwd`, RFC 4616).
fn plain_credentials(response: &str) -> Option<(String, String)> {
    let decoded = decode(response)?;
    let mut parts = decoded.split('\0');
    let (_authzid, username, password) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn plain_responses_give_the_username_and_password() {
        assert_eq!(
            plain_credentials(&encode("\0ada\0s3cret")),
            Some(("ada".into(), "s3cret".into()))
        );
        assert_eq!(
            plain_credentials(&encode("admin\0ada\0pass word")),
            Some(("ada".into(), "pass word".into()))
        );
        assert_eq!(plain_credentials(&encode("ada s3cret")), None);
        assert_eq!(plain_credentials("not base64!"), None);
        assert_eq!(decode(&encode("Username:")), Some("Username:".into()));
        assert_eq!(Mechanism::parse("login"), Some(Mechanism::Login));
        assert_eq!(Mechanism::parse("CRAM-MD5"), None);
    }
}

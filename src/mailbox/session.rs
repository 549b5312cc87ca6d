//! One SMTP conversation (RFC 5321's minimum, plus EHLO): commands a line at a time, the
//! message between DATA and the lone dot, dot-unstuffed.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::Mailbox;

/// The longest command line accepted (RFC 5321 allows 512 octets; text lines 1000).
const MAX_LINE: u64 = 4096;
/// The largest message accepted.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// Reads one line (up to `MAX_LINE` bytes) into `line`; `false` at the end of the stream.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let read = (&mut *reader)
        .take(MAX_LINE)
        .read_until(b'\n', line)
        .await?;
    Ok(read > 0)
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
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(b"220 leverbridge-mailbox ESMTP ready\r\n")
        .await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        if !read_line(&mut reader, &mut line).await? {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, argument) = text.split_once(' ').unwrap_or((text, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => b"250-leverbridge-mailbox\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 leverbridge-mailbox\r\n",
            "MAIL" => match path_argument(argument, "FROM:") {
                Some(address) => {
                    from = Some(address.to_owned());
                    to.clear();
                    b"250 OK\r\n"
                }
                None => b"501 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (path_argument(argument, "TO:"), &from) {
                (_, None) => b"503 MAIL first\r\n",
                (None, _) => b"501 Syntax: RCPT TO:<address>\r\n",
                (Some(address), _) if mailbox.refuses(address) => {
                    b"550 5.1.1 No such mailbox here\r\n"
                }
                (Some(address), _) => {
                    to.push(address.to_owned());
                    b"250 OK\r\n"
                }
            },
            "DATA" if from.is_none() || to.is_empty() => b"503 MAIL and RCPT first\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(data) = read_data(&mut reader, &mut line).await? else {
                    write.write_all(b"552 Message too large\r\n").await?;
                    return Ok(());
                };
                let at = crate::db::now();
                mailbox.keep(
                    from.take().unwrap_or_default(),
                    std::mem::take(&mut to),
                    data,
                    at,
                );
                b"250 OK: kept\r\n"
            }
            "RSET" => {
                from = None;
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
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
}

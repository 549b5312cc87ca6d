//! SMTP's line I/O, shared by the conversation and the sign-in exchange: a bounded line in, a
//! reply out (flushed, since TLS holds what is written until then).

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The longest command line accepted (RFC 5321 allows 512 octets; text lines 1000).
const MAX_LINE: u64 = 4096;

/// Reads one line (up to `MAX_LINE` bytes) into `line`; `false` at the end of the stream.
pub(super) async fn read_line<R: AsyncRead + Unpin>(
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

/// Writes `reply` and flushes it.
pub(super) async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    reply: &str,
) -> std::io::Result<()> {
    io.write_all(reply.as_bytes()).await?;
    // TLS holds what is written until flushed.
    io.flush().await
}

//! The first bytes of a connection, read by the server to tell HTTP/1.1 from h2c under a
//! deadline, and then given back to hyper in front of the rest of the stream.
//!
//! hyper-util's automatic detection reads the preface with no timeout at all, so a socket that
//! never sends anything (or half an h2 preface) would be held forever. Reading it here, inside
//! the connection's header deadline, closes that hole; the bytes are not lost because
//! [`Prefixed`] replays them before reading from the socket again.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// What a client opens an h2c (prior knowledge) connection with.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The longest HTTP/1.1 request line accepted on a connection's first request: hyper's own
/// URI limit (65534 bytes) with room for the method and version. Longer is answered 414.
pub const MAX_REQUEST_LINE: usize = 65_534 + 64;

/// The protocol a connection speaks, decided from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// What the first bytes of a connection said.
pub enum Opening {
    /// A protocol, and the bytes read to decide it (to be replayed).
    Speaks(Protocol, Vec<u8>),
    /// An HTTP/1.1 request line longer than [`MAX_REQUEST_LINE`].
    RequestLineTooLong,
    /// The client closed the connection (or it broke) before deciding anything.
    Closed,
}

/// Reads until the protocol is known: the whole h2 preface, or HTTP/1.1 bytes up to the end of
/// the request line (so an oversized request target is answered 414 rather than hyper's 431).
/// The caller bounds this with a deadline.
pub async fn read_opening<S: AsyncRead + Unpin>(stream: &mut S) -> Opening {
    let mut seen = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Opening::Closed,
            Ok(n) => n,
        };
        seen.extend_from_slice(&chunk[..n]);
        let common = seen.len().min(H2_PREFACE.len());
        if seen[..common] == H2_PREFACE[..common] {
            if common == H2_PREFACE.len() {
                return Opening::Speaks(Protocol::Http2, seen);
            }
            continue;
        }
        if seen.contains(&b'\n') {
            return Opening::Speaks(Protocol::Http1, seen);
        }
        if seen.len() > MAX_REQUEST_LINE {
            return Opening::RequestLineTooLong;
        }
    }
}

/// A stream with some bytes already read from it, which it yields first.
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    consumed: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Prefixed<S> {
        Prefixed {
            prefix,
            consumed: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.consumed < this.prefix.len() {
            let left = &this.prefix[this.consumed..];
            let n = left.len().min(buf.remaining());
            buf.put_slice(&left[..n]);
            this.consumed += n;
            if this.consumed == this.prefix.len() {
                this.prefix = Vec::new();
                this.consumed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opening(bytes: &[u8]) -> Opening {
        let mut reader = bytes;
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(read_opening(&mut reader))
    }

    #[test]
    fn the_first_bytes_decide_the_protocol() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(
            matches!(opening(request), Opening::Speaks(Protocol::Http1, seen) if seen == request)
        );
        let h2 = [H2_PREFACE, b"\0\0\0\x04"].concat();
        assert!(matches!(opening(&h2), Opening::Speaks(Protocol::Http2, seen) if seen == h2));
        // Half a preface and then the end: nothing was decided.
        assert!(matches!(opening(b"PRI * HTTP/2.0\r\n"), Opening::Closed));
        assert!(matches!(opening(b"GET /"), Opening::Closed));
        let long = [b"GET /".as_slice(), &vec![b'a'; MAX_REQUEST_LINE]].concat();
        assert!(matches!(opening(&long), Opening::RequestLineTooLong));
    }

    #[test]
    fn a_prefixed_stream_replays_its_prefix_first() {
        let rest: &[u8] = b" world";
        let mut stream = Prefixed::new(b"hello".to_vec(), rest);
        let mut all = String::new();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(stream.read_to_string(&mut all))
            .expect("reads");
        assert_eq!(all, "hello world");
    }
}

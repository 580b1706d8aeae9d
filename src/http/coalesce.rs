//! A connection's writes gathered into larger ones, under TLS.
//!
//! OpenSSL hands each TLS record (at most 16 KiB of plaintext) to the socket as its own write: a
//! 2.3 MB answer (a région's places) was 145 `send` calls, and on loopback each one runs the
//! kernel's whole transmit and receive path once (measured: the ceiling route spent 47% of its CPU
//! in the kernel, 6% of it copying). [`Coalesced`] sits between the TLS stream and the socket and
//! keeps the records in one buffer until it holds [`GATHER`] bytes, or until the connection is
//! flushed (actix flushes once a response, or the part of it at hand, has been written; OpenSSL
//! flushes after each handshake flight and each alert). Reads first push out what is held, so a
//! peer never waits for bytes the server has already written.
//!
//! The buffer is given back once drained, so an idle keep-alive connection holds none.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_rt::net::{ActixStream, Ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How many bytes are gathered before they are written.
pub const GATHER: usize = 256 * 1024;

/// A stream whose small writes are gathered (see the module's documentation).
#[derive(Debug)]
pub struct Coalesced<S> {
    inner: S,
    held: Vec<u8>,
    /// How much of `held` the stream has already taken.
    sent: usize,
}

impl<S> Coalesced<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner, held: Vec::new(), sent: 0 }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncWrite + Unpin> Coalesced<S> {
    /// Writes out everything held.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.held.len() {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &self.held[self.sent..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.sent += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.held.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Coalesced<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.held.len() + data.len() > GATHER {
            ready!(this.poll_drain(cx))?;
        }
        if data.len() >= GATHER {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        if this.held.capacity() == 0 {
            this.held.reserve_exact(GATHER);
        }
        this.held.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        this.held = Vec::new();
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Coalesced<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.sent < this.held.len() {
            // Pending: the socket is full; the writer's next flush finishes the job.
            if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                return Poll::Ready(Err(e));
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: ActixStream> ActixStream for Coalesced<S> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        self.inner.poll_read_ready(cx)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        self.inner.poll_write_ready(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_rt::net::{TcpListener, TcpStream};
    use std::future::poll_fn;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A connected pair of real loopback sockets: (the writer's, the reader's).
    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = l.local_addr().expect("an address");
        let (a, b) = tokio::join!(TcpStream::connect(addr), l.accept());
        (a.expect("connected"), b.expect("accepted").0)
    }

    /// Counts the writes that reach the socket.
    struct Counting {
        inner: TcpStream,
        writes: usize,
    }

    impl AsyncWrite for Counting {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
            let r = Pin::new(&mut self.inner).poll_write(cx, data);
            if let Poll::Ready(Ok(_)) = r {
                self.writes += 1;
            }
            r
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    impl AsyncRead for Counting {
        fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        }
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[actix_web::test]
    async fn records_arrive_whole_in_order_in_few_writes() {
        let (a, mut b) = pair().await;
        let mut w = Coalesced::new(Counting { inner: a, writes: 0 });
        let body = pattern(2_300_000);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.map(|_| got)
        });
        // As OpenSSL writes them: records of 16 KiB and a few bytes of framing.
        for record in body.chunks(16_413) {
            w.write_all(record).await.expect("written");
        }
        w.flush().await.expect("flushed");
        assert!(w.held.capacity() == 0, "the buffer is given back once drained");
        let writes = w.inner.writes;
        w.shutdown().await.expect("shut down");
        assert_eq!(reader.await.expect("joined").expect("read"), body);
        // 2.3 MB in 256 KiB writes: 9, where each record alone would have been 141.
        assert!(writes <= 2_300_000 / GATHER + 2, "{writes} writes");
    }

    #[actix_web::test]
    async fn a_flush_sends_what_is_held() {
        let (a, mut b) = pair().await;
        let mut w = Coalesced::new(a);
        w.write_all(b"hello").await.expect("written");
        let mut got = [0u8; 5];
        let early = tokio::time::timeout(std::time::Duration::from_millis(100), b.read_exact(&mut got)).await;
        assert!(early.is_err(), "nothing leaves before a flush");
        w.flush().await.expect("flushed");
        b.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"hello");
    }

    #[actix_web::test]
    async fn a_read_pushes_out_what_is_held() {
        let (a, mut b) = pair().await;
        let mut w = Coalesced::new(a);
        w.write_all(b"ping").await.expect("written");
        // The peer answers only once it has the bytes: the read must send them first.
        let peer = tokio::spawn(async move {
            let mut got = [0u8; 4];
            b.read_exact(&mut got).await?;
            b.write_all(b"pong").await?;
            Ok::<_, io::Error>(got)
        });
        let mut answer = [0u8; 4];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), w.read_exact(&mut answer)).await;
        read.expect("no deadlock").expect("read");
        assert_eq!((&answer, &peer.await.expect("joined").expect("peer")), (b"pong", b"ping"));
    }

    #[actix_web::test]
    async fn large_writes_go_straight_through_after_what_is_held() {
        let (a, mut b) = pair().await;
        let mut w = Coalesced::new(a);
        let big = pattern(GATHER + 10);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.map(|_| got)
        });
        w.write_all(b"head").await.expect("written");
        w.write_all(&big).await.expect("written");
        poll_fn(|cx| Pin::new(&mut w).poll_shutdown(cx)).await.expect("shut down");
        let mut want = b"head".to_vec();
        want.extend_from_slice(&big);
        assert_eq!(reader.await.expect("joined").expect("read"), want);
    }
}

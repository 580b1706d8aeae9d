//! Sending a file of any size without holding it in memory: a thread of its own reads it in
//! chunks, encodes them (gzip or Brotli, when the client asked) and hands them to the response
//! through a small channel; it stops when the client goes away. The number of such threads is
//! bounded by [`Streams`].

use std::io::{Read, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::ContentEncoding;
use actix_web::web::Bytes;
use tokio::sync::mpsc;

/// Bytes handed to the response at a time.
const CHUNK: usize = 256 * 1024;

/// Chunks waiting in the channel at most (the reader waits for the client beyond it).
const IN_FLIGHT: usize = 4;

/// A response body fed by a channel.
pub struct ChannelBody {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    size: BodySize,
}

impl MessageBody for ChannelBody {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        self.size
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

/// Writes into the channel, a chunk at a time; fails once the receiver is gone.
struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Counts the files being sent, up to a bound.
#[derive(Debug)]
pub struct Streams {
    running: Arc<AtomicUsize>,
    max: usize,
}

/// One file being sent: frees its place when dropped.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Streams {
    /// At most `max` files sent at once.
    pub fn new(max: usize) -> Self {
        Self { running: Arc::default(), max: max.max(1) }
    }

    fn enter(&self) -> Option<Place> {
        let prev = self.running.fetch_add(1, Ordering::SeqCst);
        let place = Place(self.running.clone());
        (prev < self.max).then_some(place)
    }

    /// The body of the file at `path`, in `encoding` (identity: with its length), or `None` when
    /// as many files as allowed are being sent. Errors: the file cannot be opened.
    pub fn file(&self, path: &Path, encoding: ContentEncoding) -> std::io::Result<Option<ChannelBody>> {
        let Some(place) = self.enter() else { return Ok(None) };
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        let size = if encoding == ContentEncoding::Identity { BodySize::Sized(len) } else { BodySize::Stream };
        std::thread::Builder::new().name("ror-file".into()).spawn(move || {
            let _place = place;
            let out = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK) };
            if let Err(e) = copy(file, out, encoding)
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                log::warn!("sending an export file failed: {e}");
                let _ = tx.blocking_send(Err(e));
            }
        })?;
        Ok(Some(ChannelBody { rx, size }))
    }
}

/// Copies `file` into `out` through the encoder of `encoding`.
fn copy(mut file: std::fs::File, mut out: ChannelWriter, encoding: ContentEncoding) -> std::io::Result<()> {
    match encoding {
        ContentEncoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
            std::io::copy(&mut file, &mut e)?;
            e.finish()?.flush()
        }
        ContentEncoding::Brotli => {
            let mut e = brotli::CompressorWriter::new(out, CHUNK, super::compress::BROTLI_QUALITY, 22);
            std::io::copy(&mut file, &mut e)?;
            e.flush()?;
            e.into_inner().flush()
        }
        _ => {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    return out.flush();
                }
                out.write_all(&buf[..n])?;
            }
        }
    }
}

//! Whether the client of a request is still connected.
//!
//! actix-http keeps polling a handler after its client has gone (it notes the end of the stream
//! but lets the handler finish), so a handler waiting for the database asks the socket itself:
//! each connection keeps a duplicate of its socket's descriptor, and a non-blocking peek that
//! reads the end of the stream (or an error) means nobody waits for the answer any more.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

/// The connection's socket (a duplicated descriptor, closed with the connection's data).
#[derive(Clone)]
pub struct PeerSocket(Arc<OwnedFd>);

impl PeerSocket {
    /// Whether the peer closed or reset the connection. Data waiting to be read (a pipelined
    /// request, a TLS record) means it is still there.
    pub fn gone(&self) -> bool {
        let sock = socket2::SockRef::from(self.0.as_ref());
        let mut buf = [MaybeUninit::<u8>::uninit(); 1];
        match sock.peek(&mut buf) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted),
        }
    }
}

/// `on_connect` hook: keeps the socket of a plain or TLS connection.
pub fn on_connect(tcp: &TcpStream, ext: &mut Extensions) {
    if let Ok(fd) = tcp.as_fd().try_clone_to_owned() {
        ext.insert(PeerSocket(Arc::new(fd)));
    }
}

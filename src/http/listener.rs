//! The FHIR listener, assembled as actix-web's `HttpServer` assembles it (the same HTTP settings,
//! ALPN, handshake timeout and `on_connect` hook), with one difference: under TLS, the socket is
//! wrapped in [`Coalesced`], so that a large answer leaves in writes of 256 KiB rather than one
//! per TLS record. `HttpServer` gives no way to wrap the socket under its TLS stream.

use std::any::Any;
use std::io;
use std::net::TcpListener;
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::error::DispatchError;
use actix_http::{Extensions, HttpService, KeepAlive, Protocol, Request, Response};
use actix_rt::net::TcpStream;
use actix_server::ServerBuilder;
use actix_service::{IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt as _, fn_service, map_config};
use actix_tls::accept::TlsError;
use actix_tls::accept::openssl::{Acceptor, TlsStream};
use actix_web::dev::AppConfig;
use openssl::ssl::{AlpnError, SslAcceptor, SslAcceptorBuilder, SslRef};

use super::coalesce::Coalesced;

/// A TLS connection as the handlers' `on_connect` hook sees it.
pub type TlsConnection = TlsStream<Coalesced<TcpStream>>;

/// What the listener's connections are held to (`HttpServer`'s defaults, which the server used).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a kept-alive connection may wait for its next request.
    pub keep_alive: Duration,
    /// How long a client may take to send a request's head.
    pub request_timeout: Duration,
    /// How long a closing connection is given to finish.
    pub disconnect_timeout: Duration,
    /// How long a client may take over its TLS handshake.
    pub handshake_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            keep_alive: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            disconnect_timeout: Duration::from_secs(1),
            handshake_timeout: Duration::from_secs(3),
        }
    }
}

/// A new connection, as the per-connection hook sees it.
pub enum Connection<'a> {
    /// Over TLS, once the handshake is done.
    Tls(&'a SslRef, &'a TcpStream),
    /// Plain TCP.
    Plain(&'a TcpStream),
}

/// The per-connection hook (client identity, peer socket).
pub type OnConnect = fn(Connection<'_>, &mut Extensions);

/// `conn` (a connection of either listener) as a [`Connection`].
fn connection(conn: &dyn Any) -> Option<Connection<'_>> {
    if let Some(tls) = conn.downcast_ref::<TlsConnection>() {
        return Some(Connection::Tls(tls.ssl(), tls.get_ref().get_ref()));
    }
    conn.downcast_ref::<TcpStream>().map(Connection::Plain)
}

/// What a connection's write buffer holds before it is written out (see `http_service!`).
const WRITE_BUFFER: usize = 112 * 1024;

/// `HttpServer`'s HTTP settings for a connection of type `$io` serving the application `$app`
/// (one per worker) on `$addr`.
macro_rules! http_service {
    ($io:ty, $signal:expr, $limits:expr, $addr:expr, $secure:expr, $on_connect:expr, $app:expr) => {{
        let (signal, limits, addr, on_connect) = ($signal, $limits, $addr, $on_connect);
        let app = $app.into_factory().map_err(|err| err.into().error_response());
        // What `HttpServer` gives each application: whether it is served over TLS, its host and
        // address (links are made from them: `handlers::base_url`).
        let app = map_config(app, move |_| AppConfig::__priv_test_new($secure, addr.to_string(), addr));
        HttpService::<$io, _, _>::build()
            .graceful_shutdown_signal(move || {
                let signal = signal.clone();
                async move { signal.notified().await }
            })
            .keep_alive(KeepAlive::Timeout(limits.keep_alive))
            .client_request_timeout(limits.request_timeout)
            .client_disconnect_timeout(limits.disconnect_timeout)
            .h1_allow_half_closed(true)
            // A body sent in parts (`pieces`) is copied into the connection's write buffer until
            // it holds this much, then written to TLS and flushed (one gathered send). At 112 KiB
            // the buffer, grown by doubling, stays within the 128 KiB actix-http keeps between
            // writes; past that it is dropped after each one and grown again from 8 KiB.
            .h1_write_buffer_size(WRITE_BUFFER)
            // Nagle's algorithm off on plain connections too (a TLS one has it off from its accept).
            .tcp_nodelay(true)
            .local_addr(addr)
            .on_connect_ext(move |io: &_, ext: _| {
                if let Some(conn) = connection(io as &dyn Any) {
                    on_connect(conn, ext);
                }
            })
            .finish(app)
    }};
}

/// Adds to `builder` the listener `lst` serving the applications `factory` makes, over TLS with
/// `tls` (records gathered: [`Coalesced`]), plain otherwise.
pub fn listen<F, I, S, B>(
    builder: ServerBuilder,
    lst: TcpListener,
    tls: Option<SslAcceptorBuilder>,
    limits: ConnectionLimits,
    on_connect: OnConnect,
    factory: F,
) -> io::Result<ServerBuilder>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = lst.local_addr()?;
    let signal = builder.graceful_shutdown_signal();
    let name = format!("fhir-{addr}");
    let Some(tls) = tls else {
        return builder.listen(name, lst, move || {
            http_service!(TcpStream, signal.clone(), limits, addr, false, on_connect, factory()).tcp()
        });
    };
    let acceptor = with_alpn(tls)?;
    builder.listen(name, lst, move || {
        let http = http_service!(TlsConnection, signal.clone(), limits, addr, true, on_connect, factory());
        let mut accept = Acceptor::new(acceptor.clone());
        accept.set_handshake_timeout(limits.handshake_timeout);
        fn_service(|tcp: TcpStream| async move {
            // Nagle's algorithm off from the first byte: the handshake's flights are small too.
            let _ = tcp.set_nodelay(true);
            Ok::<_, TlsError<openssl::ssl::Error, DispatchError>>(Coalesced::new(tcp))
        })
        .and_then(accept.map_err(TlsError::into_service_error))
        .map(|io: TlsConnection| {
            let peer = io.get_ref().get_ref().peer_addr().ok();
            (io, Protocol::Http1, peer)
        })
        .and_then(http.map_err(TlsError::Service))
    })
}

/// `tls` answering ALPN as `HttpServer` does without HTTP/2: `http/1.1`, or no protocol.
fn with_alpn(mut tls: SslAcceptorBuilder) -> io::Result<SslAcceptor> {
    tls.set_alpn_select_callback(|_, offered| {
        if offered.windows(9).any(|w| w == b"\x08http/1.1") { Ok(b"http/1.1") } else { Err(AlpnError::NOACK) }
    });
    tls.set_alpn_protos(b"\x08http/1.1")?;
    Ok(tls.build())
}

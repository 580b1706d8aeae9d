//! Mutual TLS with openssl: the acceptor (client certificate required, verified against the
//! configured CA chains, CRLs reloaded live, clientAuth usage required, TLS 1.2 minimum) and the
//! `on_connect` hook that keeps the verified peer certificate ([`PeerCertificate`]).
//!
//! A connection without an acceptable certificate fails during the handshake: it never reaches HTTP
//! (one exception: a certificate whose issuer's CRL is past `nextUpdate` connects, and is served
//! only a 503 that says so; see [`configured`]).

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::dev::Extensions;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    ClientHelloResponse, SslAcceptor, SslAcceptorBuilder, SslMethod, SslOptions, SslRef, SslSessionCacheMode,
    SslVerifyMode, SslVersion,
};
use openssl::x509::store::X509Store;
use openssl::x509::{X509, X509NameRef};

use super::handshakes::{self, HandshakeCounts};
use super::registry::ClientIdentity;
use super::trust::{self, ClientTrust, ContextFactory};

/// Files of the TLS set-up.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Server certificate chain (PEM: leaf first, then intermediates).
    pub cert_chain: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA certificates trusted for client certificates (PEM files; roots and intermediates).
    pub client_ca: Vec<PathBuf>,
    /// CRL files (PEM); when any is given, the client leaf is checked against them.
    pub crls: Vec<PathBuf>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// openssl refused a file or a setting.
    #[error("TLS set-up: {context}: {source}")]
    Ssl {
        /// What was being done.
        context: String,
        /// Cause.
        source: openssl::error::ErrorStack,
    },
    /// A file is missing.
    #[error("TLS set-up: {0}")]
    Missing(String),
}

pub(crate) fn ssl(context: impl Into<String>) -> impl FnOnce(openssl::error::ErrorStack) -> TlsError {
    let context = context.into();
    move |source| TlsError::Ssl { context, source }
}

/// The server's own certificate chain and key, read once.
struct ServerIdentity {
    chain: Vec<X509>,
    key: PKey<Private>,
}

impl ServerIdentity {
    fn load(cfg: &TlsConfig) -> Result<Self, TlsError> {
        let read = |p: &PathBuf| std::fs::read(p).map_err(|e| TlsError::Missing(format!("{}: {e}", p.display())));
        let chain =
            X509::stack_from_pem(&read(&cfg.cert_chain)?).map_err(ssl(format!("{}", cfg.cert_chain.display())))?;
        if chain.is_empty() {
            return Err(TlsError::Missing(format!("{} holds no certificate", cfg.cert_chain.display())));
        }
        let key = PKey::private_key_from_pem(&read(&cfg.key)?).map_err(ssl(format!("{}", cfg.key.display())))?;
        Ok(Self { chain, key })
    }
}

/// A TLS context configured for mutual TLS around `store` (the verification store: client CAs,
/// CRLs, clientAuth purpose; see `trust`); the certificates it refuses are counted in `refusals`.
fn configured(
    server: &ServerIdentity,
    cas: &[X509],
    store: X509Store,
    refusals: &Arc<HandshakeCounts>,
) -> Result<SslAcceptorBuilder, TlsError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(ssl("acceptor"))?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(ssl("TLS 1.2 minimum"))?;
    let (leaf, intermediates) =
        server.chain.split_first().ok_or_else(|| TlsError::Missing("no server certificate".into()))?;
    b.set_certificate(leaf).map_err(ssl("server certificate"))?;
    for c in intermediates {
        b.add_extra_chain_cert(c.clone()).map_err(ssl("server chain"))?;
    }
    b.set_private_key(&server.key).map_err(ssl("server key"))?;
    b.check_private_key().map_err(ssl("the key does not match the certificate"))?;
    b.set_cert_store(store);
    let mut names = openssl::stack::Stack::new().map_err(ssl("CA names"))?;
    for ca in cas {
        names.push(ca.subject_name().to_owned().map_err(ssl("CA name"))?).map_err(ssl("CA names"))?;
    }
    b.set_client_ca_list(names);
    // A CRL past its nextUpdate does not end the handshake: the leaf is still checked against it
    // (a certificate it lists is refused), and the connection is marked so that it is served
    // nothing but `/health` and `/ready` (which say why). Every other failure ends the handshake,
    // counted by its reason (openssl stops at the first refusal: once per handshake).
    let refusals = refusals.clone();
    b.set_verify_callback(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT, move |ok, ctx| {
        let accepted = ok || trust::is_crl_expired(ctx.error());
        if !accepted {
            handshakes::refused(ctx, &refusals);
        }
        accepted
    });
    // Without a session id context OpenSSL aborts any resumption attempt with an internal-error
    // alert when client certificates are verified. Resumption itself is off: every connection gets
    // a full handshake, so a revoked or expired certificate is never let back in on an old session
    // (keep-alive amortises the cost).
    b.set_session_id_context(b"ror-capacity").map_err(ssl("session id context"))?;
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b.set_options(SslOptions::NO_TICKET);
    Ok(b)
}

/// Builds the acceptor and the client trust it verifies against.
///
/// CRLs change while the server runs, and openssl copies a context's settings into each connection
/// when it is created, so the acceptor cannot simply be given a new store. Instead every reload
/// builds a complete new context around a new store (`trust`), and the acceptor's client-hello
/// callback switches each new connection to the context in force (`SSL_set_SSL_CTX`, the
/// mechanism SNI uses; it carries the verification store). Nothing is shared mutably with openssl,
/// a handshake in progress keeps the context it started with, and the header check of trusted
/// proxies verifies against the very store of that context.
///
/// Failed handshakes are counted by reason in the trust's `handshakes` (see [`handshakes`]): the
/// client-hello callback watches each connection, the verify callback of every context (the first
/// and those of reloads) counts the refused certificates, [`on_connect`] the completed handshakes.
pub fn acceptor(cfg: &TlsConfig) -> Result<(SslAcceptorBuilder, Arc<ClientTrust>), TlsError> {
    if cfg.client_ca.is_empty() {
        return Err(TlsError::Missing("at least one client CA file is required (mutual TLS)".into()));
    }
    for p in [&cfg.cert_chain, &cfg.key].into_iter().chain(&cfg.client_ca).chain(&cfg.crls) {
        if !p.exists() {
            return Err(TlsError::Missing(format!("{} does not exist", p.display())));
        }
    }
    let server = Arc::new(ServerIdentity::load(cfg)?);
    let counts = Arc::new(HandshakeCounts::default());
    let (for_reloads, counted) = (server.clone(), counts.clone());
    let factory: ContextFactory =
        Box::new(move |cas, store| Ok(configured(&for_reloads, cas, store, &counted)?.build().into_context()));
    let trust = ClientTrust::load(&cfg.client_ca, &cfg.crls, factory, counts.clone())?;
    let mut root = configured(&server, trust.cas(), trust.store()?, &counts)?;
    let live = trust.clone();
    root.set_client_hello_callback(move |ssl, _alert| {
        // Kept by the SSL object itself: switching its context below does not drop it.
        handshakes::watch(ssl, &counts);
        ssl.set_ssl_context(&live.current().context)?;
        Ok(ClientHelloResponse::SUCCESS)
    });
    Ok((root, trust))
}

/// A DN as `C=FR, O=…, CN=…` (certificate order, short names).
pub fn dn(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verified client certificate of a TLS connection (connection data).
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    /// The certificate.
    pub cert: X509,
    /// Its identity.
    pub identity: ClientIdentity,
    /// Verified while its issuer's CRL was past `nextUpdate`: its revocation status is unknown.
    pub revocation_unknown: bool,
}

/// The identity of a certificate.
pub fn identity(cert: &X509) -> Option<ClientIdentity> {
    let fp = cert.digest(MessageDigest::sha256()).ok()?;
    Some(ClientIdentity {
        subject: dn(cert.subject_name()),
        issuer: dn(cert.issuer_name()),
        fingerprint_sha256: fp.iter().map(|b| format!("{b:02X}")).collect(),
    })
}

/// The `on_connect` hook of a TLS connection: notes that the handshake completed (it is not a
/// failure) and stores the verified client identity in the connection data. (Nagle's algorithm
/// is turned off when the connection is accepted, `http::listener`: with it, a response whose last
/// TLS record is small waits for the client's delayed ACK, ~40 ms added to some answers.)
pub fn on_connect(ssl: &SslRef, ext: &mut Extensions) {
    handshakes::completed(ssl);
    if let Some(cert) = ssl.peer_certificate()
        && let Some(identity) = identity(&cert)
    {
        let revocation_unknown = trust::is_crl_expired(ssl.verify_result());
        ext.insert(PeerCertificate { cert, identity, revocation_unknown });
    }
}

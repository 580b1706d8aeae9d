//! Mutual TLS with openssl: the acceptor (client certificate required, verified against the
//! configured CA chains, optional CRLs, clientAuth usage required, TLS 1.2 minimum) and the
//! `on_connect` hook that turns the verified peer certificate into a [`ClientIdentity`].
//!
//! A connection without an acceptable certificate fails during the handshake: it never reaches HTTP.

use std::any::Any;
use std::path::PathBuf;

use actix_tls::accept::openssl::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use openssl::hash::MessageDigest;
use openssl::ssl::{
    SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod, SslOptions, SslSessionCacheMode, SslVerifyMode, SslVersion,
};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509NameRef, X509PurposeId};

use super::registry::ClientIdentity;

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

fn ssl(context: impl Into<String>) -> impl FnOnce(openssl::error::ErrorStack) -> TlsError {
    let context = context.into();
    move |source| TlsError::Ssl { context, source }
}

/// Builds the acceptor.
pub fn acceptor(cfg: &TlsConfig) -> Result<SslAcceptorBuilder, TlsError> {
    if cfg.client_ca.is_empty() {
        return Err(TlsError::Missing("at least one client CA file is required (mutual TLS)".into()));
    }
    for p in [&cfg.cert_chain, &cfg.key].into_iter().chain(&cfg.client_ca).chain(&cfg.crls) {
        if !p.exists() {
            return Err(TlsError::Missing(format!("{} does not exist", p.display())));
        }
    }
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(ssl("acceptor"))?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(ssl("TLS 1.2 minimum"))?;
    b.set_certificate_chain_file(&cfg.cert_chain).map_err(ssl(format!("{}", cfg.cert_chain.display())))?;
    b.set_private_key_file(&cfg.key, SslFiletype::PEM).map_err(ssl(format!("{}", cfg.key.display())))?;
    b.check_private_key().map_err(ssl("the key does not match the certificate"))?;

    let mut store = X509StoreBuilder::new().map_err(ssl("store"))?;
    let mut names = openssl::stack::Stack::new().map_err(ssl("CA names"))?;
    for path in &cfg.client_ca {
        let pem = std::fs::read(path).map_err(|e| TlsError::Missing(format!("{}: {e}", path.display())))?;
        let certs = X509::stack_from_pem(&pem).map_err(ssl(format!("{}", path.display())))?;
        if certs.is_empty() {
            return Err(TlsError::Missing(format!("{} holds no certificate", path.display())));
        }
        for cert in certs {
            names.push(cert.subject_name().to_owned().map_err(ssl("CA name"))?).map_err(ssl("CA names"))?;
            store.add_cert(cert).map_err(ssl(format!("{}", path.display())))?;
        }
    }
    if !cfg.crls.is_empty() {
        let lookup = store.add_lookup(X509Lookup::file()).map_err(ssl("CRL lookup"))?;
        for crl in &cfg.crls {
            lookup.load_crl_file(crl, SslFiletype::PEM).map_err(ssl(format!("{}", crl.display())))?;
        }
        store.set_flags(X509VerifyFlags::CRL_CHECK).map_err(ssl("CRL check"))?;
    }
    // The client certificate must be fit for TLS client authentication (extendedKeyUsage clientAuth).
    store.set_purpose(X509PurposeId::SSL_CLIENT).map_err(ssl("clientAuth purpose"))?;
    b.set_verify_cert_store(store.build()).map_err(ssl("verify store"))?;
    b.set_client_ca_list(names);
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    // Without a session id context OpenSSL aborts any resumption attempt with an internal-error
    // alert when client certificates are verified. Resumption itself is off: every connection gets
    // a full handshake, so a revoked or expired certificate is never let back in on an old session
    // (keep-alive amortises the cost).
    b.set_session_id_context(b"ror-capacity").map_err(ssl("session id context"))?;
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b.set_options(SslOptions::NO_TICKET);
    Ok(b)
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

/// The identity of a certificate.
pub fn identity(cert: &X509) -> Option<ClientIdentity> {
    let fp = cert.digest(MessageDigest::sha256()).ok()?;
    Some(ClientIdentity {
        subject: dn(cert.subject_name()),
        issuer: dn(cert.issuer_name()),
        fingerprint_sha256: fp.iter().map(|b| format!("{b:02X}")).collect(),
    })
}

/// `HttpServer::on_connect` hook: stores the verified client identity in the connection data, and
/// turns Nagle's algorithm off (with it, a response whose last TLS record is small waits for the
/// client's delayed ACK: ~40 ms added to some answers).
pub fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    if let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() {
        let _ = tls.get_ref().set_nodelay(true);
        if let Some(cert) = tls.ssl().peer_certificate()
            && let Some(id) = identity(&cert)
        {
            ext.insert(id);
        }
    } else if let Some(tcp) = conn.downcast_ref::<TcpStream>() {
        let _ = tcp.set_nodelay(true);
    }
}

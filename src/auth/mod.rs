//! Who is calling, and what they may see.
//!
//! - [`mtls`]: the TLS acceptor and the `on_connect` hook (verified certificate → [`ClientIdentity`]);
//! - [`trust`]: client CAs and live CRLs, the one verification store of handshakes and proxy
//!   headers; [`crl`]: reading CRL files and their `nextUpdate`;
//! - [`proxy`]: the certificate header of trusted reverse proxies;
//! - [`registry`]: consumers matched by certificate, with their access profile (reloaded live;
//!   files are read only once complete, [`stable_file`]);
//! - [`policy`]: the access-profile rules as data (pure); [`views`]: when each profile's view of a
//!   place last changed (pure);
//! - this module: how consumers are identified ([`AuthMode`]) and where audit lines are copied.
//!
//! The middleware that authenticates each request and writes its audit line is HTTP's
//! (`http::authenticate`).

pub mod crl;
pub mod mtls;
pub mod policy;
pub mod proxy;
pub mod registry;
pub mod stable_file;
pub mod trust;
pub mod views;

use std::sync::Arc;

use policy::Profile;
pub use proxy::ProxyTrust;
use registry::LiveRegistry;

/// How consumers are identified.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Mutual TLS (and optionally trusted proxies): consumers must be in the registry.
    Registry {
        /// The consumers.
        registry: Arc<LiveRegistry>,
        /// Trusted proxies, if any.
        proxy: Option<ProxyTrust>,
    },
    /// Development only: plain HTTP on loopback, every request acts as one fixed consumer.
    Insecure {
        /// The profile every request gets.
        profile: Profile,
    },
}

/// Where audit lines go besides the log (tests read them from here).
#[derive(Debug, Clone, Default)]
pub struct AuditCapture(pub Arc<std::sync::Mutex<Vec<String>>>);

impl AuditCapture {
    /// The lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

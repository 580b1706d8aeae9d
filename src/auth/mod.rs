//! Who is calling, and what they may see.
//!
//! - [`mtls`]: the TLS acceptor and the `on_connect` hook (verified certificate → [`ClientIdentity`]);
//!   [`handshakes`]: the handshakes it refused, by reason (for the metrics);
//! - [`trust`]: client CAs and live CRLs, the one verification store of handshakes and proxy
//!   headers; [`crl`]: reading CRL files and their `nextUpdate`;
//! - [`proxy`]: the certificate header of trusted reverse proxies;
//! - [`registry`]: consumers matched by certificate, with their access profile (reloaded live;
//!   files are read only once complete, [`stable_file`]);
//! - [`policy`]: the access-profile rules as data (pure); [`views`]: when each profile's view of a
//!   place last changed (pure);
//! - this module: how consumers are identified, as configured ([`AuthMode`], plain data) and while
//!   serving ([`Authenticator`], with the live registry).
//!
//! The middleware that authenticates each request is HTTP's (`http::authenticate`), and so is the
//! one that writes its audit line (`http::telemetry`).

pub mod crl;
pub mod handshakes;
pub mod mtls;
pub mod policy;
pub mod proxy;
pub mod registry;
pub mod stable_file;
pub mod trust;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use policy::Profile;
pub use proxy::ProxyTrust;
use registry::LiveRegistry;

/// How consumers are identified, as configured.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Mutual TLS (and optionally trusted proxies): consumers must be in the registry.
    Registry {
        /// The consumer registry file (reloaded while serving when it changes).
        consumers: PathBuf,
        /// Trusted proxies, if any.
        proxy: Option<ProxyTrust>,
    },
    /// Development only: plain HTTP on loopback, every request acts as one fixed consumer.
    Insecure {
        /// The profile every request gets.
        profile: Profile,
    },
}

/// How consumers are identified while serving: [`AuthMode`] with its registry loaded.
#[derive(Debug, Clone)]
pub enum Authenticator {
    /// Consumers must be in the registry (reloaded when its file changes).
    Registry {
        /// The consumers.
        registry: Arc<LiveRegistry>,
        /// Trusted proxies, if any.
        proxy: Option<ProxyTrust>,
    },
    /// Development only: every request acts as one fixed consumer.
    Insecure {
        /// The profile every request gets.
        profile: Profile,
    },
}

impl Authenticator {
    /// Loads what `mode` names (the registry must parse at start).
    pub fn load(mode: &AuthMode) -> Result<Self, String> {
        Ok(match mode {
            AuthMode::Registry { consumers, proxy } => {
                Self::Registry { registry: LiveRegistry::load(consumers)?, proxy: proxy.clone() }
            }
            AuthMode::Insecure { profile } => Self::Insecure { profile: *profile },
        })
    }
}

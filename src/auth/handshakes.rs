//! TLS handshakes that failed, by reason, for the metrics. actix-web ends a failed handshake
//! without a word, so they are counted with openssl's own hooks (see `mtls`):
//!
//! - the client-hello callback gives each connection a [`Pending`] mark, kept in the SSL object's
//!   extra data (per connection: switching the connection to the context in force keeps it);
//! - the verify callback, when it refuses a certificate, counts why ([`Reason::of`]) and settles
//!   the mark (openssl stops at the first refusal: a failed handshake is counted once);
//! - `mtls::on_connect`, reached only by a completed handshake, settles it too;
//! - a mark dropped unsettled (openssl frees the SSL object) is a handshake that ended before the
//!   certificate was judged: no certificate, no common protocol or cipher, the client gone, the
//!   handshake timed out. It counts as [`Reason::Incomplete`].
//!
//! A connection that never sends a ClientHello (plain HTTP on the TLS port, a port scan) reaches
//! none of these hooks and is not counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslRef};
use openssl::x509::{X509StoreContext, X509StoreContextRef, X509VerifyResult};

/// Why a handshake failed: a bounded set, the metric's label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The certificate does not chain to a client CA (unknown issuer, self-signed, untrusted).
    UnknownCa,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// A CRL in force lists the certificate.
    Revoked,
    /// The certificate is not fit for TLS client authentication (no clientAuth usage).
    WrongPurpose,
    /// No CRL of the certificate's issuer is loaded.
    NoCrl,
    /// Any other refusal of the certificate (a bad signature, a malformed certificate…).
    CertificateOther,
    /// The handshake ended before a certificate was judged (see the module's documentation).
    Incomplete,
}

impl Reason {
    /// Every reason, in the order of [`HandshakeCounts::get`].
    pub const ALL: [Reason; 8] = [
        Reason::UnknownCa,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::Revoked,
        Reason::WrongPurpose,
        Reason::NoCrl,
        Reason::CertificateOther,
        Reason::Incomplete,
    ];

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Reason::UnknownCa => "unknown-ca",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not-yet-valid",
            Reason::Revoked => "revoked",
            Reason::WrongPurpose => "wrong-purpose",
            Reason::NoCrl => "no-crl",
            Reason::CertificateOther => "certificate-other",
            Reason::Incomplete => "incomplete",
        }
    }

    /// The reason of openssl's verification result `e` (a refusal).
    pub fn of(e: X509VerifyResult) -> Reason {
        Self::of_raw(e.as_raw())
    }

    /// The reason of the verification result numbered `raw` (`X509_V_ERR_…`).
    fn of_raw(raw: std::ffi::c_int) -> Reason {
        use openssl_sys as ffi;
        match raw {
            ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
            | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
            | ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
            | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
            | ffi::X509_V_ERR_CERT_UNTRUSTED => Reason::UnknownCa,
            ffi::X509_V_ERR_CERT_HAS_EXPIRED => Reason::Expired,
            ffi::X509_V_ERR_CERT_NOT_YET_VALID => Reason::NotYetValid,
            ffi::X509_V_ERR_CERT_REVOKED => Reason::Revoked,
            ffi::X509_V_ERR_INVALID_PURPOSE => Reason::WrongPurpose,
            ffi::X509_V_ERR_UNABLE_TO_GET_CRL => Reason::NoCrl,
            _ => Reason::CertificateOther,
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// Failed handshakes of one server, by reason (its TLS contexts count, its metrics read).
#[derive(Debug, Default)]
pub struct HandshakeCounts {
    failed: [AtomicU64; Reason::ALL.len()],
}

impl HandshakeCounts {
    /// Counts one failed handshake.
    pub fn note(&self, reason: Reason) {
        self.failed[reason.slot()].fetch_add(1, Ordering::Relaxed);
    }

    /// Each reason with its count so far, in the order of [`Reason::ALL`].
    pub fn get(&self) -> [(Reason, u64); Reason::ALL.len()] {
        Reason::ALL.map(|r| (r, self.failed[r.slot()].load(Ordering::Relaxed)))
    }
}

/// A connection's handshake until it is settled (completed, or refused and counted); dropped
/// unsettled, it counts as [`Reason::Incomplete`].
#[derive(Debug)]
pub struct Pending {
    counts: Arc<HandshakeCounts>,
    settled: AtomicBool,
}

impl Pending {
    fn settle(&self) {
        self.settled.store(true, Ordering::Relaxed);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !*self.settled.get_mut() {
            self.counts.note(Reason::Incomplete);
        }
    }
}

/// The extra-data slot of [`Pending`] in SSL objects (one per process), if openssl gave one.
fn slot() -> Option<Index<Ssl, Pending>> {
    static INDEX: OnceLock<Option<Index<Ssl, Pending>>> = OnceLock::new();
    *INDEX.get_or_init(|| match Ssl::new_ex_index::<Pending>() {
        Ok(index) => Some(index),
        Err(e) => {
            log::error!("failed TLS handshakes will not be counted (no SSL extra-data slot): {e}");
            None
        }
    })
}

/// From the client-hello callback: watches this connection's handshake. A second ClientHello of
/// the same connection (after a HelloRetryRequest) keeps the first mark.
pub fn watch(ssl: &mut SslRef, counts: &Arc<HandshakeCounts>) {
    let Some(index) = slot() else { return };
    if ssl.ex_data(index).is_none() {
        ssl.set_ex_data(index, Pending { counts: counts.clone(), settled: AtomicBool::new(false) });
    }
}

/// From the verify callback, when it refuses the certificate: counts why, once for the handshake.
pub fn refused(ctx: &X509StoreContextRef, counts: &HandshakeCounts) {
    counts.note(Reason::of(ctx.error()));
    let ssl = X509StoreContext::ssl_idx().ok().and_then(|i| ctx.ex_data(i));
    if let (Some(ssl), Some(index)) = (ssl, slot())
        && let Some(pending) = ssl.ex_data(index)
    {
        pending.settle();
    }
}

/// From `on_connect`: the handshake of `ssl` completed.
pub fn completed(ssl: &SslRef) {
    if let Some(pending) = slot().and_then(|index| ssl.ex_data(index)) {
        pending.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_take_few_values() {
        let of = Reason::of_raw;
        assert_eq!(of(openssl_sys::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY), Reason::UnknownCa);
        assert_eq!(of(openssl_sys::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT), Reason::UnknownCa);
        assert_eq!(of(openssl_sys::X509_V_ERR_CERT_HAS_EXPIRED), Reason::Expired);
        assert_eq!(of(openssl_sys::X509_V_ERR_CERT_NOT_YET_VALID), Reason::NotYetValid);
        assert_eq!(of(openssl_sys::X509_V_ERR_CERT_REVOKED), Reason::Revoked);
        assert_eq!(of(openssl_sys::X509_V_ERR_INVALID_PURPOSE), Reason::WrongPurpose);
        assert_eq!(of(openssl_sys::X509_V_ERR_UNABLE_TO_GET_CRL), Reason::NoCrl);
        assert_eq!(of(openssl_sys::X509_V_ERR_CERT_SIGNATURE_FAILURE), Reason::CertificateOther);
        let labels: std::collections::BTreeSet<_> = Reason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), Reason::ALL.len());
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.slot(), i);
        }
    }

    #[test]
    fn an_unsettled_handshake_counts_as_incomplete_once() {
        let counts = Arc::new(HandshakeCounts::default());
        drop(Pending { counts: counts.clone(), settled: AtomicBool::new(false) });
        let settled = Pending { counts: counts.clone(), settled: AtomicBool::new(false) };
        settled.settle();
        drop(settled);
        let incomplete = counts.get().into_iter().find(|(r, _)| *r == Reason::Incomplete).map(|(_, n)| n);
        assert_eq!(incomplete, Some(1));
        assert_eq!(counts.get().iter().map(|(_, n)| n).sum::<u64>(), 1);
    }
}

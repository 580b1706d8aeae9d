//! The trust placed in client certificates: the `--client-ca` certificates and the current CRLs,
//! built by [`build_store`] into one X509 store. That store is the certificate store of the TLS
//! context new handshakes use (see `mtls`), and the one a trusted proxy's certificate header is
//! verified against ([`ClientTrust::verify`]): the two checks cannot drift apart.
//!
//! CRL files are re-read when they change (checked every 2 s, only once complete, see
//! `stable_file`); a broken file is logged and the previous lists stay in force. A list past its
//! `nextUpdate` is logged as an error at start, at each reload and every hour, and reported by
//! `/ready`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::ssl::{SslContext, SslFiletype};
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509Store, X509StoreBuilder, X509StoreRef};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509PurposeId, X509StoreContext, X509VerifyResult};

use super::crl::{self, CrlFile, CrlReport, Freshness};
use super::handshakes::HandshakeCounts;
use super::mtls::{TlsError, dn, ssl};
use super::stable_file::{self, Stamp};

/// How often a list that expired (or soon will) is logged again.
const REMIND_EVERY: Duration = Duration::from_secs(3600);

/// Makes the TLS context of new handshakes around a verification store (given the client CAs).
pub type ContextFactory = Box<dyn Fn(&[X509], X509Store) -> Result<SslContext, TlsError> + Send + Sync>;

/// What a certificate presented by a client (or passed on by a trusted proxy) is worth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It chains to a client CA, is within its dates, fit for clientAuth, and not revoked.
    Trusted,
    /// All of that but the revocation check: its issuer's CRL is past `nextUpdate` (the reason).
    RevocationUnknown(String),
    /// Refused, with openssl's reason.
    Refused(String),
}

/// The lists and the TLS context in force.
pub struct TrustState {
    /// The context new handshakes switch to; its certificate store is the verification store.
    pub context: SslContext,
    files: Vec<Arc<CrlFile>>,
}

/// Client CAs and the live CRL set.
pub struct ClientTrust {
    cas: Vec<X509>,
    crl_paths: Vec<PathBuf>,
    factory: ContextFactory,
    current: RwLock<Arc<TrustState>>,
    /// The file versions last looked at (a broken one is not re-read until it changes again).
    seen: Mutex<Vec<Option<Stamp>>>,
    /// CRL files reloaded, and changed ones refused.
    pub reloads: crate::base::reloads::ReloadCounts,
    /// The handshakes of the contexts made here that failed, by reason (`mtls` counts them).
    pub handshakes: Arc<HandshakeCounts>,
}

/// The verification store: `cas` as trust anchors and intermediates, the CRLs of `files` (checked
/// for the leaf when any CRL file is configured), the clientAuth purpose.
pub fn build_store(cas: &[X509], files: &[Arc<CrlFile>], crl_check: bool) -> Result<X509Store, TlsError> {
    let mut store = X509StoreBuilder::new().map_err(ssl("store"))?;
    for ca in cas {
        store.add_cert(ca.clone()).map_err(ssl("client CA"))?;
    }
    if crl_check {
        // openssl reads CRLs into a store from a file only: the exact bytes checked, not the
        // configured file (which may have changed since), go through a private temporary file.
        let mut tmp = tempfile::NamedTempFile::new().map_err(|e| TlsError::Missing(format!("temporary file: {e}")))?;
        for f in files {
            tmp.write_all(&f.pem).and_then(|()| tmp.write_all(b"\n")).map_err(|e| TlsError::Missing(e.to_string()))?;
        }
        tmp.flush().map_err(|e| TlsError::Missing(e.to_string()))?;
        let lookup = store.add_lookup(X509Lookup::file()).map_err(ssl("CRL lookup"))?;
        lookup.load_crl_file(tmp.path(), SslFiletype::PEM).map_err(ssl("CRLs"))?;
        store.set_flags(X509VerifyFlags::CRL_CHECK).map_err(ssl("CRL check"))?;
    }
    // The client certificate must be fit for TLS client authentication (extendedKeyUsage clientAuth).
    store.set_purpose(X509PurposeId::SSL_CLIENT).map_err(ssl("clientAuth purpose"))?;
    Ok(store.build())
}

fn read_cas(paths: &[PathBuf]) -> Result<Vec<X509>, TlsError> {
    let mut cas = Vec::new();
    for path in paths {
        let pem = std::fs::read(path).map_err(|e| TlsError::Missing(format!("{}: {e}", path.display())))?;
        let certs = X509::stack_from_pem(&pem).map_err(ssl(format!("{}", path.display())))?;
        if certs.is_empty() {
            return Err(TlsError::Missing(format!("{} holds no certificate", path.display())));
        }
        cas.extend(certs);
    }
    Ok(cas)
}

fn read_crl_file(path: &Path, cas: &[X509], quiet: Duration) -> Result<Option<CrlFile>, String> {
    let snap = match stable_file::read_stable(path, quiet) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let crls = crl::parse(&snap.bytes, cas)?;
    Ok(Some(CrlFile { path: path.to_owned(), stamp: Some(snap.stamp), pem: snap.bytes, crls }))
}

impl ClientTrust {
    /// Reads the CA and CRL files (all must be valid at start) and builds the first context;
    /// `handshakes` are the counts the factory's contexts keep.
    pub fn load(
        client_ca: &[PathBuf],
        crl_paths: &[PathBuf],
        factory: ContextFactory,
        handshakes: Arc<HandshakeCounts>,
    ) -> Result<Arc<Self>, TlsError> {
        let cas = read_cas(client_ca)?;
        let mut files = Vec::new();
        for path in crl_paths {
            let started = Instant::now();
            let file = loop {
                match read_crl_file(path, &cas, Duration::ZERO) {
                    Ok(Some(f)) => break f,
                    Ok(None) if started.elapsed() < Duration::from_secs(5) => {}
                    Ok(None) => return Err(TlsError::Missing(format!("{} keeps changing", path.display()))),
                    Err(e) => return Err(TlsError::Missing(format!("{}: {e}", path.display()))),
                }
            };
            files.push(Arc::new(file));
        }
        let seen = Mutex::new(files.iter().map(|f| f.stamp).collect());
        let context = factory(&cas, build_store(&cas, &files, !crl_paths.is_empty())?)?;
        let trust = Self {
            cas,
            crl_paths: crl_paths.to_vec(),
            factory,
            current: RwLock::new(Arc::new(TrustState { context, files })),
            seen,
            reloads: Default::default(),
            handshakes,
        };
        for r in trust.reports() {
            log_report(&r);
        }
        Ok(Arc::new(trust))
    }

    /// The client CA certificates.
    pub fn cas(&self) -> &[X509] {
        &self.cas
    }

    /// A new verification store with the lists in force (for a context that must own its store).
    pub fn store(&self) -> Result<X509Store, TlsError> {
        build_store(&self.cas, &self.current().files, !self.crl_paths.is_empty())
    }

    /// The lists and context in force.
    pub fn current(&self) -> Arc<TrustState> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Verifies a certificate (and the untrusted intermediates sent with it) against the store
    /// new handshakes use: chain to a client CA, dates, clientAuth purpose, CRL.
    pub fn verify(&self, leaf: &X509, chain: &[X509]) -> Verdict {
        let state = self.current();
        match verify_with(state.context.cert_store(), leaf, chain) {
            Ok((true, _)) => Verdict::Trusted,
            Ok((false, e)) if is_crl_expired(e) => {
                if crl::is_revoked(state.files.iter().flat_map(|f| &f.crls), leaf) {
                    Verdict::Refused("certificate revoked".into())
                } else {
                    Verdict::RevocationUnknown(stale_reason(leaf))
                }
            }
            Ok((false, e)) => Verdict::Refused(e.error_string().to_owned()),
            Err(e) => {
                log::error!("certificate verification could not run: {e}");
                Verdict::Refused("the certificate could not be verified".into())
            }
        }
    }

    /// Whether the lists in force revoke `cert` (a connection opened before its revocation).
    pub fn is_revoked(&self, cert: &X509) -> bool {
        crl::is_revoked(self.current().files.iter().flat_map(|f| &f.crls), cert)
    }

    /// The state of every list in force.
    pub fn reports(&self) -> Vec<CrlReport> {
        crl::reports(self.current().files.iter().map(|f| f.as_ref()))
    }

    /// Re-reads the CRL files that changed; a broken one keeps its previous lists. Returns whether
    /// new lists are in force.
    pub fn reload_changed(&self) -> bool {
        let state = self.current();
        let mut seen = match self.seen.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut files = state.files.clone();
        let mut changed = false;
        for (i, path) in self.crl_paths.iter().enumerate() {
            let stamp = Stamp::of(path).ok();
            if seen.get(i).copied().flatten() == stamp && stamp.is_some() {
                continue;
            }
            match read_crl_file(path, &self.cas, stable_file::QUIET) {
                Ok(None) => continue,
                Ok(Some(f)) => {
                    log::info!("CRL file {} reloaded: {} list(s)", path.display(), f.crls.len());
                    self.reloads.note(true);
                    seen[i] = f.stamp;
                    files[i] = Arc::new(f);
                    changed = true;
                }
                Err(e) if seen[i] != stamp => {
                    log::error!("CRL file {} NOT reloaded, its previous lists stay in force: {e}", path.display());
                    self.reloads.note(false);
                    seen[i] = stamp;
                }
                Err(_) => {}
            }
        }
        if !changed {
            return false;
        }
        let built = build_store(&self.cas, &files, true).and_then(|store| (self.factory)(&self.cas, store));
        match built {
            Ok(context) => {
                let next = Arc::new(TrustState { context, files });
                match self.current.write() {
                    Ok(mut g) => *g = next,
                    Err(p) => *p.into_inner() = next,
                }
                for r in self.reports() {
                    log_report(&r);
                }
                true
            }
            Err(e) => {
                log::error!("CRLs NOT reloaded, the previous ones stay in force: {e}");
                self.reloads.note(false);
                false
            }
        }
    }

    /// Starts a thread that reloads changed CRL files every `every`, and logs lists that expire
    /// (when their state changes, then every hour while it lasts).
    pub fn watch(self: &Arc<Self>, every: Duration) {
        if self.crl_paths.is_empty() {
            return;
        }
        let me = Arc::downgrade(self);
        std::thread::spawn(move || {
            // Start already logged every list.
            let mut logged: BTreeMap<String, (Freshness, Instant)> = match me.upgrade() {
                Some(t) => t.reports().into_iter().map(|r| (r.issuer, (r.freshness, Instant::now()))).collect(),
                None => return,
            };
            loop {
                std::thread::sleep(every);
                let Some(trust) = me.upgrade() else { break };
                trust.reload_changed();
                for r in trust.reports() {
                    let due = match logged.get(&r.issuer) {
                        None => r.freshness != Freshness::Current,
                        Some((f, at)) => {
                            *f != r.freshness || (r.freshness != Freshness::Current && at.elapsed() >= REMIND_EVERY)
                        }
                    };
                    if due {
                        log_report(&r);
                        logged.insert(r.issuer.clone(), (r.freshness, Instant::now()));
                    }
                }
            }
        });
    }
}

fn verify_with(store: &X509StoreRef, leaf: &X509, chain: &[X509]) -> Result<(bool, X509VerifyResult), ErrorStack> {
    let mut untrusted = Stack::new()?;
    for c in chain {
        untrusted.push(c.clone())?;
    }
    let mut ctx = X509StoreContext::new()?;
    ctx.init(store, leaf, &untrusted, |c| Ok((c.verify_cert()?, c.error())))
}

fn log_report(r: &CrlReport) {
    match r.freshness {
        Freshness::Current => log::info!("{}", r.describe()),
        Freshness::ExpiresSoon => log::warn!("{}", r.describe()),
        Freshness::Expired => log::error!("{}", r.describe()),
    }
}

/// openssl's "CRL has expired" (`X509_V_ERR_CRL_HAS_EXPIRED`).
pub fn is_crl_expired(e: X509VerifyResult) -> bool {
    e.as_raw() == openssl_sys::X509_V_ERR_CRL_HAS_EXPIRED
}

/// Why a certificate of `issuer` cannot be served while its CRL is past `nextUpdate`.
pub fn stale_reason(cert: &X509) -> String {
    format!(
        "the revocation list of {} has expired: certificates it covers cannot be checked, so nothing is served \
         until the server has a current one",
        dn(cert.issuer_name())
    )
}

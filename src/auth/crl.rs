//! Certificate revocation lists: reading a CRL file (every list in it must parse and be signed by
//! one of the client CAs), whether a certificate is listed, and whether each list is still current
//! (its `nextUpdate`).

use std::cmp::Ordering;
use std::path::PathBuf;

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::{CrlStatus, X509, X509Crl, X509CrlRef};

use super::mtls::dn;
use super::stable_file::Stamp;

const BEGIN: &str = "-----BEGIN X509 CRL-----";
const END: &str = "-----END X509 CRL-----";

/// The lists of one CRL file, as read.
pub struct CrlFile {
    /// The file.
    pub path: PathBuf,
    /// The version read.
    pub stamp: Option<Stamp>,
    /// Its bytes (PEM), as checked.
    pub pem: Vec<u8>,
    /// Its lists.
    pub crls: Vec<X509Crl>,
}

/// Parses the PEM lists of a CRL file; each must be signed by one of `cas`.
pub fn parse(pem: &[u8], cas: &[X509]) -> Result<Vec<X509Crl>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "not PEM text".to_owned())?;
    let mut crls = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let block = &rest[start..];
        let end = block.find(END).ok_or("a CRL is cut short (no END line)")? + END.len();
        let crl = X509Crl::from_pem(&block.as_bytes()[..end]).map_err(|e| format!("a CRL does not parse: {e}"))?;
        signed_by_a_ca(&crl, cas)?;
        crls.push(crl);
        rest = &block[end..];
    }
    if crls.is_empty() {
        return Err("no CRL in the file".into());
    }
    Ok(crls)
}

fn signed_by_a_ca(crl: &X509CrlRef, cas: &[X509]) -> Result<(), String> {
    let signed = cas.iter().any(|ca| {
        ca.subject_name().try_cmp(crl.issuer_name()).is_ok_and(|o| o == Ordering::Equal)
            && ca.public_key().and_then(|k| crl.verify(&k)).unwrap_or(false)
    });
    if signed {
        Ok(())
    } else {
        Err(format!("the CRL issued by {} is not signed by any --client-ca certificate", dn(crl.issuer_name())))
    }
}

/// Whether `cert` is listed as revoked by one of `crls` from its issuer.
pub fn is_revoked<'a>(crls: impl IntoIterator<Item = &'a X509Crl>, cert: &X509) -> bool {
    crls.into_iter().any(|crl| {
        crl.issuer_name().try_cmp(cert.issuer_name()).is_ok_and(|o| o == Ordering::Equal)
            && matches!(crl.get_by_cert(cert), CrlStatus::Revoked(_))
    })
}

/// How current a list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// More than a quarter of its validity left (or no `nextUpdate`).
    Current,
    /// Less than a quarter of its validity left: renew it.
    ExpiresSoon,
    /// Past its `nextUpdate`: certificates of its issuer cannot be checked.
    Expired,
}

/// The state of one list, for logs and `/ready`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlReport {
    /// Issuer DN.
    pub issuer: String,
    /// `nextUpdate`, as openssl prints it.
    pub next_update: String,
    /// How current it is.
    pub freshness: Freshness,
}

impl CrlReport {
    /// A sentence for the log and `/ready`.
    pub fn describe(&self) -> String {
        match self.freshness {
            Freshness::Current => format!("the CRL issued by {} is current until {}", self.issuer, self.next_update),
            Freshness::ExpiresSoon => format!(
                "the CRL issued by {} expires at {} (nextUpdate): install a newer one before then",
                self.issuer, self.next_update
            ),
            Freshness::Expired => format!(
                "the CRL issued by {} expired at {} (nextUpdate): certificates of that issuer cannot be checked \
                 and are served nothing until a current CRL is installed",
                self.issuer, self.next_update
            ),
        }
    }
}

fn seconds(from: &Asn1TimeRef, to: &Asn1TimeRef) -> Option<i64> {
    from.diff(to).ok().map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// The state of `crl` at `now`.
pub fn report(crl: &X509CrlRef, now: &Asn1TimeRef) -> CrlReport {
    let issuer = dn(crl.issuer_name());
    let Some(next) = crl.next_update() else {
        return CrlReport { issuer, next_update: "-".into(), freshness: Freshness::Current };
    };
    let left = seconds(now, next);
    let validity = seconds(crl.last_update(), next);
    let freshness = match (left, validity) {
        (Some(l), _) if l <= 0 => Freshness::Expired,
        (Some(l), Some(v)) if l < v / 4 => Freshness::ExpiresSoon,
        (Some(_), _) => Freshness::Current,
        // A date openssl cannot compare: treat the list as unusable, loudly.
        (None, _) => Freshness::Expired,
    };
    CrlReport { issuer, next_update: next.to_string(), freshness }
}

/// The state of every list in `files` now.
pub fn reports<'a>(files: impl IntoIterator<Item = &'a CrlFile>) -> Vec<CrlReport> {
    let Ok(now) = Asn1Time::days_from_now(0) else {
        return Vec::new();
    };
    files.into_iter().flat_map(|f| f.crls.iter().map(|c| report(c, &now))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::pki::{Issued, Usage, Validity};

    #[test]
    fn files_parse_only_when_whole_and_signed() {
        let root = Issued::root_ca("R", "T").unwrap();
        let ca = root.intermediate_ca("I", "T").unwrap();
        let other = Issued::root_ca("I", "T").unwrap();
        let leaf = ca.leaf("c", "T", Usage::Client, Validity::days(5), &[], &[]).unwrap();
        let cas = [root.cert.clone(), ca.cert.clone()];
        let pem = [root.crl(&[]).unwrap().to_pem().unwrap(), ca.crl(&[&leaf.cert]).unwrap().to_pem().unwrap()].concat();
        let crls = parse(&pem, &cas).unwrap();
        assert_eq!(crls.len(), 2);
        assert!(is_revoked(&crls, &leaf.cert));
        assert!(!is_revoked(&crls[..1], &leaf.cert), "a list of another issuer does not revoke it");
        assert!(parse(&pem[..pem.len() - 30], &cas).is_err(), "cut short");
        assert!(parse(b"", &cas).is_err());
        assert!(parse(b"garbage", &cas).is_err());
        let forged = other.crl(&[]).unwrap().to_pem().unwrap();
        assert!(parse(&forged, &cas).err().unwrap().contains("not signed"), "same issuer name, other key");
    }

    #[test]
    fn freshness_follows_next_update() {
        let ca = Issued::root_ca("R", "T").unwrap();
        let now = Asn1Time::days_from_now(0).unwrap();
        let at = |from, to| report(&ca.crl_valid(&[], Validity { from_days: from, to_days: to }).unwrap(), &now);
        assert_eq!(at(-1, 30).freshness, Freshness::Current);
        assert_eq!(at(-30, 2).freshness, Freshness::ExpiresSoon);
        let expired = at(-40, -10);
        assert_eq!(expired.freshness, Freshness::Expired);
        assert!(expired.describe().contains("expired at"), "{}", expired.describe());
    }
}

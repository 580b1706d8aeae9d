//! A development PKI shaped like IGC-Santé (root CA → intermediate CA → server and client
//! certificates), built with openssl. Used by `ror-capacity dev-pki DIR`, by `serve --demo`, and
//! by the tests (which also need expired, revoked, foreign and misused certificates). The files of
//! the development PKI, and their renewal, are in [`super::pki_files`].

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier,
};
use openssl::x509::{CrlNumber, X509, X509Builder, X509Crl, X509CrlBuilder, X509Name, X509RevokedBuilder};

/// A certificate with its private key.
pub struct Issued {
    /// The certificate.
    pub cert: X509,
    /// Its key.
    pub key: PKey<Private>,
}

/// What a client certificate is for (tests need misuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// TLS client authentication (extendedKeyUsage = clientAuth).
    Client,
    /// TLS server (extendedKeyUsage = serverAuth only).
    Server,
}

/// What a leaf certificate says.
#[derive(Debug, Clone, Copy)]
pub struct Leaf<'a> {
    /// Common name.
    pub cn: &'a str,
    /// Organisation.
    pub org: &'a str,
    /// Extended key usage.
    pub usage: Usage,
    /// Validity.
    pub validity: Validity,
    /// DNS subject alternative names.
    pub dns: &'a [&'a str],
    /// IP subject alternative names.
    pub ips: &'a [&'a str],
}

/// Validity window in days relative to now (negative = in the past).
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    /// Start, in days from now.
    pub from_days: i64,
    /// End, in days from now.
    pub to_days: i64,
}

impl Validity {
    /// Valid from yesterday for `days` days.
    pub fn days(days: i64) -> Self {
        Self { from_days: -1, to_days: days }
    }
}

fn new_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn name(cn: &str, org: &str) -> Result<X509Name, ErrorStack> {
    let mut b = X509Name::builder()?;
    b.append_entry_by_nid(Nid::COUNTRYNAME, "FR")?;
    b.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)?;
    b.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(b.build())
}

fn serial() -> Result<Asn1Integer, ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(120, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn now_secs_u32() -> u32 {
    u32::try_from(now_secs()).unwrap_or(u32::MAX)
}

fn time(days: i64) -> Result<Asn1Time, ErrorStack> {
    let t = i64::try_from(now_secs()).unwrap_or(0) + days * 86_400;
    Asn1Time::from_unix(t)
}

fn base(subject: &X509Name, key: &PKey<Private>, validity: Validity) -> Result<X509Builder, ErrorStack> {
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let sn = serial()?;
    b.set_serial_number(&sn)?;
    b.set_subject_name(subject)?;
    b.set_pubkey(key)?;
    let (from, to) = (time(validity.from_days)?, time(validity.to_days)?);
    b.set_not_before(&from)?;
    b.set_not_after(&to)?;
    Ok(b)
}

impl Issued {
    /// A self-signed root CA.
    pub fn root_ca(cn: &str, org: &str) -> Result<Self, ErrorStack> {
        Self::root_ca_with_key(new_key()?, cn, org)
    }

    /// A self-signed root CA for an existing key (a renewed root keeps what it signed valid).
    pub fn root_ca_with_key(key: PKey<Private>, cn: &str, org: &str) -> Result<Self, ErrorStack> {
        let subject = name(cn, org)?;
        let mut b = base(&subject, &key, Validity::days(3650))?;
        b.set_issuer_name(&subject)?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
        b.append_extension(ski)?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(Self { cert: b.build(), key })
    }

    /// An intermediate CA signed by `self`.
    pub fn intermediate_ca(&self, cn: &str, org: &str) -> Result<Self, ErrorStack> {
        self.intermediate_ca_with_key(new_key()?, cn, org)
    }

    /// An intermediate CA signed by `self` for an existing key.
    pub fn intermediate_ca_with_key(&self, key: PKey<Private>, cn: &str, org: &str) -> Result<Self, ErrorStack> {
        let mut b = base(&name(cn, org)?, &key, Validity::days(3000))?;
        b.set_issuer_name(self.cert.subject_name())?;
        b.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(ski)?;
        let aki = AuthorityKeyIdentifier::new().keyid(false).build(&b.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(aki)?;
        b.sign(&self.key, MessageDigest::sha256())?;
        Ok(Self { cert: b.build(), key })
    }

    /// A leaf certificate signed by `self`.
    pub fn leaf(
        &self,
        cn: &str,
        org: &str,
        usage: Usage,
        validity: Validity,
        dns: &[&str],
        ips: &[&str],
    ) -> Result<Self, ErrorStack> {
        self.leaf_with_key(new_key()?, &Leaf { cn, org, usage, validity, dns, ips })
    }

    /// A leaf certificate signed by `self` for an existing key.
    pub fn leaf_with_key(&self, key: PKey<Private>, leaf: &Leaf<'_>) -> Result<Self, ErrorStack> {
        let Leaf { cn, org, usage, validity, dns, ips } = *leaf;
        let mut b = base(&name(cn, org)?, &key, validity)?;
        b.set_issuer_name(self.cert.subject_name())?;
        b.append_extension(BasicConstraints::new().critical().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().key_agreement().build()?)?;
        let eku = match usage {
            Usage::Client => ExtendedKeyUsage::new().client_auth().build()?,
            Usage::Server => ExtendedKeyUsage::new().server_auth().build()?,
        };
        b.append_extension(eku)?;
        if !dns.is_empty() || !ips.is_empty() {
            let mut san = SubjectAlternativeName::new();
            for d in dns {
                san.dns(d);
            }
            for ip in ips {
                san.ip(ip);
            }
            let ext = san.build(&b.x509v3_context(Some(&self.cert), None))?;
            b.append_extension(ext)?;
        }
        let aki = AuthorityKeyIdentifier::new().keyid(false).build(&b.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(aki)?;
        b.sign(&self.key, MessageDigest::sha256())?;
        Ok(Self { cert: b.build(), key })
    }

    /// A CRL of `self` (a CA) revoking `revoked`, valid from yesterday for 30 days.
    pub fn crl(&self, revoked: &[&X509]) -> Result<X509Crl, ErrorStack> {
        self.crl_valid(revoked, Validity::days(30))
    }

    /// A CRL of `self` revoking `revoked`, with `lastUpdate`/`nextUpdate` at `validity`.
    pub fn crl_valid(&self, revoked: &[&X509], validity: Validity) -> Result<X509Crl, ErrorStack> {
        let serials = revoked.iter().map(|c| c.serial_number().to_bn()).collect::<Result<Vec<_>, _>>()?;
        self.crl_of_serials(&serials, validity)
    }

    /// A CRL of `self` revoking the certificates of these serial numbers. Its CRL number is the
    /// time in seconds, so a re-issued list always has a higher one.
    pub fn crl_of_serials(&self, serials: &[BigNum], validity: Validity) -> Result<X509Crl, ErrorStack> {
        let mut b = X509CrlBuilder::new()?;
        b.set_issuer_name(self.cert.subject_name())?;
        let (last, next) = (time(validity.from_days)?, time(validity.to_days)?);
        b.set_last_update(&last)?;
        b.set_next_update(&next)?;
        let dummy = X509::builder()?;
        let aki = AuthorityKeyIdentifier::new().keyid(true).build(&dummy.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(aki)?;
        b.append_extension(CrlNumber::new(BigNum::from_u32(now_secs_u32())?)?.build()?)?;
        for serial in serials {
            let mut r = X509RevokedBuilder::new()?;
            let serial = serial.to_asn1_integer()?;
            r.set_serial_number(&serial)?;
            let now = time(0)?;
            r.set_revocation_date(&now)?;
            b.add_revoked(r.build())?;
        }
        b.sign(&self.key, MessageDigest::sha256())?;
        b.build()
    }

    /// Certificate PEM.
    pub fn cert_pem(&self) -> Result<Vec<u8>, ErrorStack> {
        self.cert.to_pem()
    }

    /// Private key PEM (PKCS#8).
    pub fn key_pem(&self) -> Result<Vec<u8>, ErrorStack> {
        self.key.private_key_to_pem_pkcs8()
    }
}

pub use super::pki_files::{PkiError, files, pkcs12, renew_dev_pki, write_dev_pki};

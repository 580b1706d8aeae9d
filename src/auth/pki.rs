//! A development PKI shaped like IGC-Santé (root CA → intermediate CA → server and client
//! certificates), built with openssl. Used by `ror-capacity dev-pki DIR`, by `serve --demo`, and
//! by the tests (which also need expired, revoked, foreign and misused certificates).

use std::path::Path;

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

fn time(days: i64) -> Result<Asn1Time, ErrorStack> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let t = i64::try_from(now).unwrap_or(0) + days * 86_400;
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
        let key = new_key()?;
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
        let key = new_key()?;
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
        let key = new_key()?;
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

    /// A CRL of `self` (a CA) revoking `revoked`.
    pub fn crl(&self, revoked: &[&X509]) -> Result<X509Crl, ErrorStack> {
        let mut b = X509CrlBuilder::new()?;
        b.set_issuer_name(self.cert.subject_name())?;
        let (last, next) = (time(-1)?, time(30)?);
        b.set_last_update(&last)?;
        b.set_next_update(&next)?;
        let dummy = X509::builder()?;
        let aki = AuthorityKeyIdentifier::new().keyid(true).build(&dummy.x509v3_context(Some(&self.cert), None))?;
        b.append_extension(aki)?;
        b.append_extension(CrlNumber::new(BigNum::from_u32(1)?)?.build()?)?;
        for cert in revoked {
            let mut r = X509RevokedBuilder::new()?;
            r.set_serial_number(cert.serial_number())?;
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

/// Names of the files written by [`write_dev_pki`].
pub mod files {
    /// Root CA certificate.
    pub const ROOT_CA: &str = "root-ca.crt";
    /// Trust store for client certificates (intermediate + root).
    pub const CLIENT_TRUST: &str = "client-trust.pem";
    /// Server certificate chain (leaf + intermediate).
    pub const SERVER_CHAIN: &str = "server.crt";
    /// Server key.
    pub const SERVER_KEY: &str = "server.key";
    /// CRL of the intermediate CA.
    pub const CRL: &str = "intermediate.crl.pem";
    /// Consumer registry.
    pub const REGISTRY: &str = "consumers.toml";
}

/// Errors writing the PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// openssl.
    #[error("openssl: {0}")]
    Ssl(#[from] ErrorStack),
    /// Files.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn write(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    std::fs::write(path, parts.concat())
}

/// Writes the development PKI into `dir`: CAs, a server certificate for localhost/127.0.0.1, one
/// client certificate per access profile 0–5 (`client-profile-N.crt/.key`), an empty CRL and a
/// matching consumer registry. Returns the registry text.
pub fn write_dev_pki(dir: &Path) -> Result<String, PkiError> {
    std::fs::create_dir_all(dir)?;
    let org = "ror-capacity dev PKI";
    let root = Issued::root_ca("ROR Dev Root CA", org)?;
    let inter = root.intermediate_ca("ROR Dev Intermediate CA", org)?;
    let server =
        inter.leaf("localhost", org, Usage::Server, Validity::days(825), &["localhost"], &["127.0.0.1", "::1"])?;
    write(&dir.join(files::ROOT_CA), &[&root.cert_pem()?])?;
    write(&dir.join(files::CLIENT_TRUST), &[&inter.cert_pem()?, &root.cert_pem()?])?;
    write(&dir.join(files::SERVER_CHAIN), &[&server.cert_pem()?, &inter.cert_pem()?])?;
    write(&dir.join(files::SERVER_KEY), &[&server.key_pem()?])?;
    write(&dir.join(files::CRL), &[&inter.crl(&[])?.to_pem()?])?;
    write(&dir.join("intermediate-ca.crt"), &[&inter.cert_pem()?])?;
    write(&dir.join("intermediate-ca.key"), &[&inter.key_pem()?])?;
    let mut registry = String::from(
        "# Consumers of the development PKI: one per ROR access profile (0-5).\n\
         # A consumer is matched by the subject DN and the issuer DN of its certificate (both must\n\
         # match), or by its SHA-256 fingerprint, or by all three when all are given.\n",
    );
    for profile in 0..=5 {
        let cn = format!("dev-consumer-profile-{profile}");
        let client = inter.leaf(&cn, org, Usage::Client, Validity::days(825), &[], &[])?;
        write(&dir.join(format!("client-profile-{profile}.crt")), &[&client.cert_pem()?, &inter.cert_pem()?])?;
        write(&dir.join(format!("client-profile-{profile}.key")), &[&client.key_pem()?])?;
        registry.push_str(&format!(
            "\n[[consumer]]\nname = \"{cn}\"\nsubject = \"C=FR, O={org}, CN={cn}\"\nissuer = \"C=FR, O={org}, CN=ROR Dev Intermediate CA\"\nprofile = {profile}\n"
        ));
    }
    std::fs::write(dir.join(files::REGISTRY), &registry)?;
    Ok(registry)
}

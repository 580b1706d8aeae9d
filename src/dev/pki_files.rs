//! The development PKI on disk (what `ror-capacity dev-pki DIR` writes and `serve --demo` uses),
//! and its renewal: the demo must keep working however old its folder is, so what expires is
//! re-issued with the keys already there (CRL before its `nextUpdate`, certificates before their
//! end), and the subject and issuer DNs the registry matches stay the same.

use std::cmp::Ordering;
use std::path::Path;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Crl};

use super::pki::{Issued, Leaf, Usage, Validity};

/// Names of the files written by [`write_dev_pki`].
pub mod files {
    /// Root CA certificate.
    pub const ROOT_CA: &str = "root-ca.crt";
    /// Root CA key (kept so the CAs can be renewed).
    pub const ROOT_KEY: &str = "root-ca.key";
    /// Intermediate CA certificate.
    pub const INTERMEDIATE_CA: &str = "intermediate-ca.crt";
    /// Intermediate CA key.
    pub const INTERMEDIATE_KEY: &str = "intermediate-ca.key";
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
    /// Password of the PKCS#12 files (`client-profile-N.p12`) written for browsers.
    pub const P12_PASSWORD: &str = "ror";
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

const ORG: &str = "ror-capacity dev PKI";
const ROOT_CN: &str = "ROR Dev Root CA";
const INTERMEDIATE_CN: &str = "ROR Dev Intermediate CA";
const SERVER_DNS: &[&str] = &["localhost"];
const SERVER_IPS: &[&str] = &["127.0.0.1", "::1"];
/// Leaf and CA certificates are re-issued when they end within this many days.
const CERT_MARGIN_DAYS: u32 = 30;
/// The CRL is re-issued when its `nextUpdate` is within this many days.
const CRL_MARGIN_DAYS: u32 = 7;
/// Validity of leaf certificates.
const LEAF_DAYS: i64 = 825;

/// Writes through a temporary file and a rename, so a running server never reads half a file.
fn write(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, parts.concat())?;
    std::fs::rename(&tmp, path)
}

fn client_cn(profile: u8) -> String {
    format!("dev-consumer-profile-{profile}")
}

fn client_leaf(cn: &str) -> Leaf<'_> {
    Leaf { cn, org: ORG, usage: Usage::Client, validity: Validity::days(LEAF_DAYS), dns: &[], ips: &[] }
}

fn server_leaf() -> Leaf<'static> {
    Leaf {
        cn: "localhost",
        org: ORG,
        usage: Usage::Server,
        validity: Validity::days(LEAF_DAYS),
        dns: SERVER_DNS,
        ips: SERVER_IPS,
    }
}

/// Writes the development PKI into `dir`: CAs, a server certificate for localhost/127.0.0.1, one
/// client certificate per access profile 0–5 (`client-profile-N.crt/.key`), an empty CRL and a
/// matching consumer registry. Returns the registry text.
pub fn write_dev_pki(dir: &Path) -> Result<String, PkiError> {
    std::fs::create_dir_all(dir)?;
    let root = Issued::root_ca(ROOT_CN, ORG)?;
    let inter = root.intermediate_ca(INTERMEDIATE_CN, ORG)?;
    let l = server_leaf();
    let server = inter.leaf(l.cn, l.org, l.usage, l.validity, l.dns, l.ips)?;
    write(&dir.join(files::ROOT_CA), &[&root.cert_pem()?])?;
    write(&dir.join(files::ROOT_KEY), &[&root.key_pem()?])?;
    write(&dir.join(files::CLIENT_TRUST), &[&inter.cert_pem()?, &root.cert_pem()?])?;
    write(&dir.join(files::SERVER_CHAIN), &[&server.cert_pem()?, &inter.cert_pem()?])?;
    write(&dir.join(files::SERVER_KEY), &[&server.key_pem()?])?;
    write(&dir.join(files::CRL), &[&inter.crl(&[])?.to_pem()?])?;
    write(&dir.join(files::INTERMEDIATE_CA), &[&inter.cert_pem()?])?;
    write(&dir.join(files::INTERMEDIATE_KEY), &[&inter.key_pem()?])?;
    let mut registry = String::from(
        "# Consumers of the development PKI: one per ROR access profile (0-5).\n\
         # A consumer is matched by the subject DN and the issuer DN of its certificate (both must\n\
         # match), or by its SHA-256 fingerprint, or by all three when all are given.\n",
    );
    for profile in 0..=5 {
        let cn = client_cn(profile);
        let l = client_leaf(&cn);
        let client = inter.leaf(l.cn, l.org, l.usage, l.validity, l.dns, l.ips)?;
        write(&dir.join(format!("client-profile-{profile}.crt")), &[&client.cert_pem()?, &inter.cert_pem()?])?;
        write(&dir.join(format!("client-profile-{profile}.key")), &[&client.key_pem()?])?;
        write_p12(dir, profile)?;
        registry.push_str(&format!(
            "\n[[consumer]]\nname = \"{cn}\"\nsubject = \"C=FR, O={ORG}, CN={cn}\"\nissuer = \"C=FR, O={ORG}, CN={INTERMEDIATE_CN}\"\nprofile = {profile}\n"
        ));
    }
    write(&dir.join(files::REGISTRY), &[registry.as_bytes()])?;
    Ok(registry)
}

fn read_cert(path: &Path) -> Result<X509, PkiError> {
    let pem = std::fs::read(path)?;
    X509::stack_from_pem(&pem)?.into_iter().next().ok_or_else(|| {
        PkiError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} holds no certificate", path.display()),
        ))
    })
}

fn read_key(path: &Path) -> Result<PKey<Private>, PkiError> {
    Ok(PKey::private_key_from_pem(&std::fs::read(path)?)?)
}

/// Whether `cert` ends within `days` days (or has ended).
fn ends_within(cert: &X509, days: u32) -> Result<bool, ErrorStack> {
    let limit = Asn1Time::days_from_now(days)?;
    Ok(cert.not_after().compare(&limit)? == Ordering::Less)
}

/// Re-issues what expires in a development PKI written by [`write_dev_pki`], keeping every key:
/// the CAs and leaf certificates ending within 30 days, and the CRL when its `nextUpdate` is within
/// 7 days (or it is missing, unreadable or not signed by the intermediate CA), with the same
/// revoked serial numbers. A folder whose CA must be renewed but has no root key (written before
/// the key was kept) is written anew. Returns the files re-issued.
pub fn renew_dev_pki(dir: &Path) -> Result<Vec<String>, PkiError> {
    let mut renewed = Vec::new();
    let mut inter = Issued {
        cert: read_cert(&dir.join(files::INTERMEDIATE_CA))?,
        key: read_key(&dir.join(files::INTERMEDIATE_KEY))?,
    };
    let root_cert = read_cert(&dir.join(files::ROOT_CA))?;
    let root_ends = ends_within(&root_cert, CERT_MARGIN_DAYS)?;
    let inter_ends = ends_within(&inter.cert, CERT_MARGIN_DAYS)?;
    if root_ends || inter_ends {
        let Ok(root_key) = read_key(&dir.join(files::ROOT_KEY)) else {
            log::warn!("demo PKI {}: a CA expires and its root key is not kept: writing a new PKI", dir.display());
            write_dev_pki(dir)?;
            return Ok(vec!["every file (new PKI)".to_owned()]);
        };
        let root = if root_ends {
            let root = Issued::root_ca_with_key(root_key, ROOT_CN, ORG)?;
            write(&dir.join(files::ROOT_CA), &[&root.cert_pem()?])?;
            renewed.push(files::ROOT_CA.to_owned());
            root
        } else {
            Issued { cert: root_cert, key: root_key }
        };
        inter = root.intermediate_ca_with_key(inter.key, INTERMEDIATE_CN, ORG)?;
        write(&dir.join(files::INTERMEDIATE_CA), &[&inter.cert_pem()?])?;
        write(&dir.join(files::CLIENT_TRUST), &[&inter.cert_pem()?, &root.cert_pem()?])?;
        renewed.push(files::INTERMEDIATE_CA.to_owned());
    }
    let chains_stale = !renewed.is_empty();
    let mut leaves = vec![(files::SERVER_CHAIN.to_owned(), files::SERVER_KEY.to_owned(), None)];
    for profile in 0..=5u8 {
        leaves.push((format!("client-profile-{profile}.crt"), format!("client-profile-{profile}.key"), Some(profile)));
    }
    for (cert_file, key_file, profile) in leaves {
        let cert = read_cert(&dir.join(&cert_file))?;
        let leaf = if ends_within(&cert, CERT_MARGIN_DAYS)? {
            let key = read_key(&dir.join(&key_file))?;
            match profile {
                Some(p) => inter.leaf_with_key(key, &client_leaf(&client_cn(p)))?.cert,
                None => inter.leaf_with_key(key, &server_leaf())?.cert,
            }
        } else if chains_stale {
            cert
        } else {
            continue;
        };
        write(&dir.join(&cert_file), &[&leaf.to_pem()?, &inter.cert_pem()?])?;
        renewed.push(cert_file);
    }
    if renew_crl(dir, &inter, chains_stale)? {
        renewed.push(files::CRL.to_owned());
    }
    for profile in 0..=5u8 {
        let (crt, p12) =
            (dir.join(format!("client-profile-{profile}.crt")), dir.join(format!("client-profile-{profile}.p12")));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if modified(&p12).is_none_or(|at| modified(&crt).is_some_and(|c| c > at)) {
            write_p12(dir, profile)?;
        }
    }
    Ok(renewed)
}

/// A PKCS#12 file (DER) holding `chain_pem`'s first certificate as the leaf, the others as its
/// chain, and `key_pem`, under `name`, encrypted with `password` (OpenSSL's defaults: AES-256-CBC
/// with PBKDF2, a SHA-256 MAC; Firefox, Chromium's NSS and macOS read them).
pub fn pkcs12(chain_pem: &[u8], key_pem: &[u8], name: &str, password: &str) -> Result<Vec<u8>, PkiError> {
    let mut chain = X509::stack_from_pem(chain_pem)?.into_iter();
    let leaf = chain.next().ok_or_else(|| {
        PkiError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, "no certificate to put in a PKCS#12 file"))
    })?;
    let mut cas = openssl::stack::Stack::new()?;
    for ca in chain {
        cas.push(ca)?;
    }
    let key = PKey::private_key_from_pem(key_pem)?;
    let p12 = openssl::pkcs12::Pkcs12::builder().name(name).pkey(&key).cert(&leaf).ca(cas).build2(password)?;
    Ok(p12.to_der()?)
}

/// Writes `client-profile-N.p12` (for browsers) from the `.crt` and `.key` files of profile N.
fn write_p12(dir: &Path, profile: u8) -> Result<(), PkiError> {
    let chain = std::fs::read(dir.join(format!("client-profile-{profile}.crt")))?;
    let key = std::fs::read(dir.join(format!("client-profile-{profile}.key")))?;
    let der = pkcs12(&chain, &key, &client_cn(profile), files::P12_PASSWORD)?;
    Ok(write(&dir.join(format!("client-profile-{profile}.p12")), &[&der])?)
}

/// Re-issues the CRL when it is due; returns whether it did.
fn renew_crl(dir: &Path, inter: &Issued, force: bool) -> Result<bool, PkiError> {
    let path = dir.join(files::CRL);
    let old = std::fs::read(&path).ok().and_then(|pem| X509Crl::from_pem(&pem).ok());
    let soon = Asn1Time::days_from_now(CRL_MARGIN_DAYS)?;
    let due = match &old {
        None => true,
        Some(crl) => {
            force
                || !crl.verify(&inter.key).unwrap_or(false)
                || crl.next_update().is_none_or(|n| n.compare(&soon).map_or(true, |o| o == Ordering::Less))
        }
    };
    if !due {
        return Ok(false);
    }
    let serials: Vec<BigNum> = old
        .as_ref()
        .and_then(|c| c.get_revoked())
        .map(|list| list.iter().filter_map(|r| r.serial_number().to_bn().ok()).collect())
        .unwrap_or_default();
    let crl = inter.crl_of_serials(&serials, Validity::days(30))?;
    write(&path, &[&crl.to_pem()?])?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inter_of(dir: &Path) -> Issued {
        Issued {
            cert: read_cert(&dir.join(files::INTERMEDIATE_CA)).unwrap(),
            key: read_key(&dir.join(files::INTERMEDIATE_KEY)).unwrap(),
        }
    }

    #[test]
    fn an_old_demo_pki_is_renewed_with_its_keys() {
        let dir = std::env::temp_dir().join(format!("ror-devpki-{}", std::process::id()));
        write_dev_pki(&dir).unwrap();
        assert!(renew_dev_pki(&dir).unwrap().is_empty(), "a new PKI needs nothing");
        let inter = inter_of(&dir);
        // Thirty-one days later: the CRL has expired (it revoked one certificate), client 2 ends soon.
        let revoked = inter.leaf("gone", "x", Usage::Client, Validity::days(5), &[], &[]).unwrap();
        let old_crl = inter.crl_valid(&[&revoked.cert], Validity { from_days: -31, to_days: -1 }).unwrap();
        write(&dir.join(files::CRL), &[&old_crl.to_pem().unwrap()]).unwrap();
        let key2 = read_key(&dir.join("client-profile-2.key")).unwrap();
        let c2 = inter
            .leaf_with_key(
                key2,
                &Leaf { validity: Validity { from_days: -800, to_days: 3 }, ..client_leaf(&client_cn(2)) },
            )
            .unwrap();
        write(&dir.join("client-profile-2.crt"), &[&c2.cert_pem().unwrap(), &inter.cert_pem().unwrap()]).unwrap();
        let before = std::fs::read(dir.join("client-profile-1.crt")).unwrap();

        let renewed = renew_dev_pki(&dir).unwrap();
        assert_eq!(renewed, vec!["client-profile-2.crt".to_owned(), files::CRL.to_owned()]);
        let crl = X509Crl::from_pem(&std::fs::read(dir.join(files::CRL)).unwrap()).unwrap();
        assert!(
            crl.next_update().unwrap().compare(&Asn1Time::days_from_now(29).unwrap()).unwrap() == Ordering::Greater
        );
        assert!(crl.verify(&inter.key).unwrap(), "signed with the kept intermediate key");
        assert!(crate::auth::crl::is_revoked([&crl], &revoked.cert), "revocations are kept");
        let new2 = read_cert(&dir.join("client-profile-2.crt")).unwrap();
        assert!(!ends_within(&new2, 700).unwrap());
        assert_eq!(new2.subject_name().to_der().unwrap(), c2.cert.subject_name().to_der().unwrap());
        assert!(new2.public_key().unwrap().public_eq(&c2.key), "same key");
        assert_eq!(std::fs::read(dir.join("client-profile-1.crt")).unwrap(), before, "untouched");
        assert!(renew_dev_pki(&dir).unwrap().is_empty());
        let p12 = openssl::pkcs12::Pkcs12::from_der(&std::fs::read(dir.join("client-profile-2.p12")).unwrap()).unwrap();
        let parsed = p12.parse2(files::P12_PASSWORD).unwrap();
        assert_eq!(parsed.cert.unwrap().to_der().unwrap(), new2.to_der().unwrap(), "the .p12 follows the renewal");
        assert!(parsed.pkey.unwrap().public_eq(&c2.key));
        assert_eq!(parsed.ca.map(|c| c.len()), Some(1), "with the intermediate CA");
    }
}

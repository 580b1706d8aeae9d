//! The development PKI on disk (what `ror-capacity dev-pki DIR` writes and `serve --demo` uses).

use std::path::Path;

use openssl::error::ErrorStack;

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
        registry.push_str(&format!(
            "\n[[consumer]]\nname = \"{cn}\"\nsubject = \"C=FR, O={ORG}, CN={cn}\"\nissuer = \"C=FR, O={ORG}, CN={INTERMEDIATE_CN}\"\nprofile = {profile}\n"
        ));
    }
    write(&dir.join(files::REGISTRY), &[registry.as_bytes()])?;
    Ok(registry)
}

//! A test PKI shaped like IGC-Santé, with the misfits the handshake must refuse, and TLS clients.

use std::sync::OnceLock;

use openssl::x509::X509;
use ror_capacity::auth::mtls::TlsConfig;
use ror_capacity::auth::registry::ClientIdentity;
use ror_capacity::dev::pki::{Issued, Usage, Validity};

use crate::helpers::scratch_dir;

/// A client certificate with its key, in PEM.
pub struct ClientCert {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub identity: ClientIdentity,
}

/// Every file and certificate the TLS tests use.
pub struct TestPki {
    pub root_pem: Vec<u8>,
    pub tls: TlsConfig,
    /// Registered consumers, by profile 0..=5.
    pub profiles: Vec<ClientCert>,
    /// A registered consumer restricted to one region and 5 results per page.
    pub regional: ClientCert,
    pub expired: ClientCert,
    pub not_yet_valid: ClientCert,
    pub revoked: ClientCert,
    pub server_usage: ClientCert,
    pub self_signed: ClientCert,
    pub unknown_ca: ClientCert,
    pub unregistered: ClientCert,
    /// The intermediate CA (tests issue CRLs with it).
    pub inter: Issued,
    /// The revoked leaf (to list it in test CRLs).
    pub revoked_cert: X509,
    /// A reverse proxy's own certificate (registered, profile 1).
    pub proxy: ClientCert,
    /// Issued by a rogue CA bearing the intermediate's DN, to consumer-2's subject DN.
    pub rogue: ClientCert,
    /// Consumers limited by type: `HealthcareService` search only, `Location` search only, both.
    pub services_only: ClientCert,
    pub locations_only: ClientCert,
    pub both_types: ClientCert,
}

impl ClientCert {
    /// The leaf certificate alone, parsed.
    pub fn leaf(&self) -> X509 {
        X509::from_pem(&self.cert_pem).unwrap()
    }

    /// The leaf certificate alone, in PEM (what nginx forwards).
    pub fn leaf_pem(&self) -> String {
        String::from_utf8(self.leaf().to_pem().unwrap()).unwrap()
    }
}

fn client(ca: &Issued, cn: &str, usage: Usage, validity: Validity, chain: &[&Issued]) -> ClientCert {
    let leaf = ca.leaf(cn, "Test Hospital", usage, validity, &[], &[]).unwrap();
    let mut cert_pem = leaf.cert_pem().unwrap();
    for c in chain {
        cert_pem.extend(c.cert_pem().unwrap());
    }
    ClientCert {
        cert_pem,
        key_pem: leaf.key_pem().unwrap(),
        identity: ror_capacity::auth::mtls::identity(&leaf.cert).unwrap(),
    }
}

/// The registry entry of a consumer (matched by subject and issuer).
pub fn entry(name: &str, c: &ClientCert, profile: u8, extra: &str) -> String {
    format!(
        "[[consumer]]\nname = \"{name}\"\nsubject = \"{}\"\nissuer = \"{}\"\nprofile = {profile}\n{extra}\n",
        c.identity.subject, c.identity.issuer
    )
}

/// The shared test PKI.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = scratch_dir("pki");
        let root = Issued::root_ca("Test IGC Root", "Test ANS").unwrap();
        let inter = root.intermediate_ca("Test IGC Intermediate", "Test ANS").unwrap();
        let server = inter
            .leaf("localhost", "Test ANS", Usage::Server, Validity::days(30), &["localhost"], &["127.0.0.1"])
            .unwrap();
        let ok = Validity::days(30);
        let profiles: Vec<ClientCert> =
            (0..=5).map(|p| client(&inter, &format!("consumer-{p}"), Usage::Client, ok, &[&inter])).collect();
        let regional = client(&inter, "regional", Usage::Client, ok, &[&inter]);
        let expired = client(&inter, "expired", Usage::Client, Validity { from_days: -30, to_days: -1 }, &[&inter]);
        let not_yet_valid = client(&inter, "future", Usage::Client, Validity { from_days: 2, to_days: 30 }, &[&inter]);
        let revoked_leaf = inter.leaf("revoked", "Test Hospital", Usage::Client, ok, &[], &[]).unwrap();
        let revoked = ClientCert {
            cert_pem: [revoked_leaf.cert_pem().unwrap(), inter.cert_pem().unwrap()].concat(),
            key_pem: revoked_leaf.key_pem().unwrap(),
            identity: ror_capacity::auth::mtls::identity(&revoked_leaf.cert).unwrap(),
        };
        let server_usage = client(&inter, "server-usage", Usage::Server, ok, &[&inter]);
        let self_root = Issued::root_ca("self-signed", "Nobody").unwrap();
        let self_signed = ClientCert {
            cert_pem: self_root.cert_pem().unwrap(),
            key_pem: self_root.key_pem().unwrap(),
            identity: ror_capacity::auth::mtls::identity(&self_root.cert).unwrap(),
        };
        let other_root = Issued::root_ca("Other Root", "Elsewhere").unwrap();
        let unknown_ca = client(&other_root, "consumer-1", Usage::Client, ok, &[]);
        let unregistered = client(&inter, "unregistered", Usage::Client, ok, &[&inter]);
        let proxy = client(&inter, "reverse-proxy", Usage::Client, ok, &[&inter]);
        let rogue_ca = Issued::root_ca("Test IGC Intermediate", "Test ANS").unwrap();
        let rogue = client(&rogue_ca, "consumer-2", Usage::Client, ok, &[]);
        assert_eq!(rogue.identity.subject, profiles[2].identity.subject);
        assert_eq!(rogue.identity.issuer, profiles[2].identity.issuer);
        let services_only = client(&inter, "services-only", Usage::Client, ok, &[&inter]);
        let locations_only = client(&inter, "locations-only", Usage::Client, ok, &[&inter]);
        let both_types = client(&inter, "both-types", Usage::Client, ok, &[&inter]);
        let w = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, data).unwrap();
            p
        };
        let chain = w("server.crt", &[server.cert_pem().unwrap(), inter.cert_pem().unwrap()].concat());
        let key = w("server.key", &server.key_pem().unwrap());
        // Trust: root and intermediate in separate files, as IGC-Santé publishes them.
        let ca_root = w("root.pem", &root.cert_pem().unwrap());
        let ca_inter = w("intermediate.pem", &inter.cert_pem().unwrap());
        let crl = w("intermediate.crl", &inter.crl(&[&revoked_leaf.cert]).unwrap().to_pem().unwrap());
        TestPki {
            root_pem: root.cert_pem().unwrap(),
            tls: TlsConfig { cert_chain: chain, key, client_ca: vec![ca_root, ca_inter], crls: vec![crl] },
            profiles,
            regional,
            expired,
            not_yet_valid,
            revoked,
            server_usage,
            self_signed,
            unknown_ca,
            unregistered,
            revoked_cert: revoked_leaf.cert.clone(),
            inter,
            proxy,
            rogue,
            services_only,
            locations_only,
            both_types,
        }
    })
}

/// The registry text: profiles 0-5, the regional consumer, and every misfit except `unregistered`
/// (so that only the handshake can refuse them).
pub fn registry_text(p: &TestPki, region: &str) -> String {
    let mut s = String::new();
    for (i, c) in p.profiles.iter().enumerate() {
        s.push_str(&entry(&format!("consumer-{i}"), c, u8::try_from(i).unwrap(), ""));
    }
    s.push_str(&entry("regional", &p.regional, 1, &format!("regions = [\"{region}\"]\nmax_count = 5")));
    s.push_str(&entry("reverse-proxy", &p.proxy, 1, ""));
    s.push_str(&entry(
        "services-only",
        &p.services_only,
        1,
        "[consumer.interactions]\nHealthcareService = [\"search\"]",
    ));
    s.push_str(&entry("locations-only", &p.locations_only, 1, "[consumer.interactions]\nLocation = [\"search\"]"));
    s.push_str(&entry(
        "both-types",
        &p.both_types,
        1,
        "[consumer.interactions]\nLocation = [\"search\"]\nHealthcareService = [\"search\"]",
    ));
    for (name, c) in [
        ("expired", &p.expired),
        ("future", &p.not_yet_valid),
        ("revoked", &p.revoked),
        ("server-usage", &p.server_usage),
        ("self-signed", &p.self_signed),
        ("unknown-ca", &p.unknown_ca),
    ] {
        s.push_str(&entry(name, c, 1, ""));
    }
    s
}

/// A blocking HTTPS client presenting `cert` (or none) and trusting the test root.
pub fn https_client(p: &TestPki, cert: Option<&ClientCert>) -> reqwest::blocking::Client {
    let mut b = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .add_root_certificate(reqwest::Certificate::from_pem(&p.root_pem).unwrap());
    if let Some(c) = cert {
        b = b.identity(reqwest::Identity::from_pkcs8_pem(&c.cert_pem, &c.key_pem).unwrap());
    }
    b.build().unwrap()
}

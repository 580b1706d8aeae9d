//! `serve --demo` on a development PKI whose CRL and certificates have expired (issue 9, item 14):
//! the real binary renews them at start, and a real handshake with the demo's client certificate
//! works.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use openssl::pkey::PKey;
use openssl::x509::{X509, X509Crl};
use ror_capacity::dev::pki::{Issued, Leaf, Usage, Validity, files, write_dev_pki};

use crate::helpers::scratch_dir;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn reissue(dir: &std::path::Path, inter: &Issued, stem: &str, leaf: Leaf<'_>) {
    let key = PKey::private_key_from_pem(&std::fs::read(dir.join(format!("{stem}.key"))).unwrap()).unwrap();
    let old = inter.leaf_with_key(key, &leaf).unwrap();
    std::fs::write(dir.join(format!("{stem}.crt")), [old.cert_pem().unwrap(), inter.cert_pem().unwrap()].concat())
        .unwrap();
}

#[test]
fn an_expired_demo_pki_is_renewed_at_start() {
    let dir = scratch_dir("demo");
    let pki_dir = dir.join("dev-pki");
    write_dev_pki(&pki_dir).unwrap();
    let read = |f: &str| std::fs::read(pki_dir.join(f)).unwrap();
    let inter = Issued {
        cert: X509::from_pem(&read(files::INTERMEDIATE_CA)).unwrap(),
        key: PKey::private_key_from_pem(&read(files::INTERMEDIATE_KEY)).unwrap(),
    };
    // As if the folder were months old: CRL past nextUpdate, server and client certificates ended.
    let past = Validity { from_days: -900, to_days: -1 };
    std::fs::write(
        pki_dir.join(files::CRL),
        inter.crl_valid(&[], Validity { from_days: -31, to_days: -1 }).unwrap().to_pem().unwrap(),
    )
    .unwrap();
    let org = "ror-capacity dev PKI";
    let client = Leaf { cn: "dev-consumer-profile-1", org, usage: Usage::Client, validity: past, dns: &[], ips: &[] };
    reissue(&pki_dir, &inter, "client-profile-1", client);
    let server =
        Leaf { cn: "localhost", usage: Usage::Server, dns: &["localhost"], ips: &["127.0.0.1", "::1"], ..client };
    reissue(&pki_dir, &inter, "server", server);

    let stderr = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ror-capacity"))
        // No admin listener: its default port may be held by another server on this machine.
        .args([
            "serve",
            "--demo",
            "--demo-locations",
            "20",
            "--bind",
            "127.0.0.1:0",
            "--admin-bind",
            "off",
            "--pki-dir",
        ])
        .arg(&pki_dir)
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("demo.db").display()))
        .env("RUST_LOG", "info")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut server = Server(child);
    // Read the banner for the address, and keep reading (the server prints more after it).
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(base) = line.strip_prefix("ror-capacity serving").and_then(|l| l.split(" at ").nth(1)) {
                let _ = tx.send(base.to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("no banner; log: {}", std::fs::read_to_string(dir.join("server.log")).unwrap()));

    let crl = X509Crl::from_pem(&read(files::CRL)).unwrap();
    let now = openssl::asn1::Asn1Time::days_from_now(0).unwrap();
    assert!(crl.next_update().unwrap() > now, "the CRL was re-issued");
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(&read(files::ROOT_CA)).unwrap())
        .identity(
            reqwest::Identity::from_pkcs8_pem(&read("client-profile-1.crt"), &read("client-profile-1.key")).unwrap(),
        )
        .build()
        .unwrap();
    let r = client.get(format!("{base}/Location?_count=1")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let root = base.trim_end_matches("/fhir");
    let r = client.get(format!("{root}/ready")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    drop(server);
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap();
    assert!(log.contains("demo: renewed in"), "{log}");
}

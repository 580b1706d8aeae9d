//! Failed TLS handshakes as metrics (issue 15), with real handshakes against an mTLS server and its
//! admin listener: each refusal moves its reason's counter by one, a completed handshake moves
//! none, a client that leaves mid-handshake counts as `incomplete`, plain HTTP on the TLS port is
//! not seen, and the contexts built by CRL reloads count too.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslVerifyMode};
use ror_capacity::auth::mtls::TlsConfig;
use ror_capacity::config::ServerConfig;

use crate::admin::{get, sample};
use crate::helpers::{Backend, TestApp, scratch_dir};
use crate::pki::{ClientCert, https_client, pki};

const REASONS: [&str; 8] =
    ["unknown-ca", "expired", "not-yet-valid", "revoked", "wrong-purpose", "no-crl", "certificate-other", "incomplete"];

fn series(reason: &str) -> String {
    format!(r#"ror_tls_handshake_failures_total{{reason="{reason}"}}"#)
}

/// Every reason's count in one scrape.
fn counts(admin: &str) -> BTreeMap<&'static str, f64> {
    let (status, text) = get(&format!("{admin}/metrics"));
    assert_eq!(status, 200, "{text}");
    REASONS.iter().map(|r| (*r, sample(&text, &series(r)).unwrap_or_else(|| panic!("no {r}: {text}")))).collect()
}

/// Waits (10 s at most) until the counts are `expected`, then checks they stay so: connections are
/// freed, and their handshakes counted, a moment after the client sees its error.
fn expect_counts(admin: &str, expected: &BTreeMap<&'static str, f64>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while counts(admin) != *expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(counts(admin), *expected);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(counts(admin), *expected, "counted more than once");
}

/// A request on a new connection presenting `cert` (or none): whether an HTTP answer came back.
fn answered(base: &str, cert: Option<&ClientCert>) -> bool {
    match https_client(pki(), cert).get(format!("{base}/metadata")).send() {
        Ok(r) => {
            assert_eq!(r.status().as_u16(), 200);
            true
        }
        Err(_) => false,
    }
}

/// Whether a handshake presenting `cert` completes (an HTTP answer, 200 or a refusal, came back).
fn handshake_completes(base: &str, cert: &ClientCert) -> bool {
    https_client(pki(), Some(cert)).get(format!("{base}/metadata")).send().is_ok()
}

/// Writes to the socket, never reads: a client that sends its ClientHello and goes.
#[derive(Debug)]
struct SendOnly(TcpStream);

impl Read for SendOnly {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::WouldBlock.into())
    }
}

impl Write for SendOnly {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn hello_then_leave(addr: &str) {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    match b.build().connect("localhost", SendOnly(TcpStream::connect(addr).unwrap())) {
        Err(HandshakeError::WouldBlock(mid)) => drop(mid), // the ClientHello is sent: close
        Err(e) => panic!("the ClientHello was not sent: {e}"),
        Ok(_) => panic!("a handshake completed without reading"),
    }
}

fn plain_http(addr: &str) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest);
}

#[test]
fn failed_handshakes_are_counted_by_reason() {
    let p = pki();
    let path = scratch_dir("tls-metrics").join("intermediate.crl");
    std::fs::write(&path, p.inter.crl(&[&p.revoked_cert]).unwrap().to_pem().unwrap()).unwrap();
    let crls: Vec<PathBuf> = vec![path.clone()];
    let app = TestApp::builder(Backend::Sqlite)
        .empty()
        .tls()
        .config(|c: &mut ServerConfig| {
            c.tls = Some(TlsConfig { crls, ..pki().tls.clone() });
            c.admin_bind = Some("127.0.0.1:0".parse().unwrap());
        })
        .start();
    let admin = app.admin.clone().expect("the admin listener is configured");
    let addr = app.root().trim_start_matches("https://").to_owned();
    let mut expected: BTreeMap<&str, f64> = REASONS.iter().map(|r| (*r, 0.0)).collect();
    expect_counts(&admin, &expected);

    // Completed handshakes count nothing (a connection per request, each closed after it).
    for _ in 0..3 {
        assert!(answered(&app.base, Some(&p.profiles[1])));
    }
    // Refused certificates, each for its reason.
    let cases: [(&ClientCert, &str); 7] = [
        (&p.self_signed, "unknown-ca"),
        (&p.unknown_ca, "unknown-ca"),
        (&p.expired, "expired"),
        (&p.not_yet_valid, "not-yet-valid"),
        (&p.revoked, "revoked"),
        (&p.server_usage, "wrong-purpose"),
        (&p.rogue, "unknown-ca"),
    ];
    for (cert, reason) in cases {
        assert!(!answered(&app.base, Some(cert)), "{reason}: answered");
        *expected.get_mut(reason).unwrap() += 1.0;
    }
    // Handshakes that end before a certificate is judged: none sent, the client gone.
    assert!(!answered(&app.base, None));
    hello_then_leave(&addr);
    *expected.get_mut("incomplete").unwrap() += 2.0;
    // Plain HTTP on the TLS port sends no ClientHello: not seen (as the metric's help says).
    plain_http(&addr);
    expect_counts(&admin, &expected);

    // A context built by a CRL reload counts as the first one did.
    let victim = &p.profiles[3];
    std::fs::write(&path, p.inter.crl(&[&p.revoked_cert, &victim.leaf()]).unwrap().to_pem().unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Until the new context is built a handshake still completes; the HTTP layer may already
    // refuse the certificate (403, `http::authenticate` checks the reloaded lists): wait for the
    // handshake itself to refuse it.
    while handshake_completes(&app.base, victim) {
        assert!(Instant::now() < deadline, "the new CRL was not loaded");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(!answered(&app.base, Some(victim)));
    *expected.get_mut("revoked").unwrap() += 2.0;
    expect_counts(&admin, &expected);
    let (_, text) = get(&format!("{admin}/metrics"));
    assert!(text.contains("# TYPE ror_tls_handshake_failures_total counter"), "{text}");
}

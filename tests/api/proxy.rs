//! Trusted reverse proxies (issue 9, item 4): the certificate a proxy forwards in a header passes
//! the same checks as a TLS client certificate, over a real mTLS connection from the proxy.

use ror_capacity::auth::ProxyTrust;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, enc, issue_codes};
use crate::pki::{ClientCert, https_client, pki};

const HEADER: &str = "x-ssl-client-cert";

fn behind_proxy(backend: Backend, proxy_address: &str) -> TestApp {
    let trust = ProxyTrust { header: HEADER.into(), addresses: vec![proxy_address.parse().unwrap()] };
    TestApp::builder(backend).tls().proxy(trust).start()
}

/// A request from the proxy (its own TLS certificate) with these header values.
fn through_proxy(app: &TestApp, values: &[&str]) -> (u16, Value) {
    let mut rb = https_client(pki(), Some(&pki().proxy)).get(format!("{}/Location?_count=1", app.base));
    for v in values {
        rb = rb.header(HEADER, *v);
    }
    let r = rb.send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn forwarded(c: &ClientCert) -> String {
    enc(&c.leaf_pem())
}

fn refused(app: &TestApp, what: &str, values: &[&str], expect: &str) {
    let (status, body) = through_proxy(app, values);
    assert_eq!(status, 403, "{what}: {body}");
    assert_eq!(issue_codes(&body), ["forbidden"], "{what}");
    let diag = body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diag.contains(expect), "{what}: {diag:?} should say {expect:?}");
}

fn forwarded_certificates_are_verified(backend: Backend) {
    let p = pki();
    let app = behind_proxy(backend, "127.0.0.1");
    // The control: consumer-2's real certificate, as nginx forwards it (leaf only) or with its chain.
    for value in [forwarded(&p.profiles[2]), enc(std::str::from_utf8(&p.profiles[2].cert_pem).unwrap())] {
        let (status, body) = through_proxy(&app, &[&value]);
        assert_eq!(status, 200, "{body}");
    }
    assert!(app.audit.lines().iter().any(|l| l.contains("consumer=consumer-2 profile=2") && l.contains("status=200")));
    let before = app.audit.lines().len();
    // Same subject and issuer DNs as consumer-2, from a rogue CA: refused like at the handshake.
    let cases: [(&str, &ClientCert, &str); 7] = [
        ("rogue CA with consumer-2's DNs", &p.rogue, "was refused"),
        ("expired", &p.expired, "certificate has expired"),
        ("not yet valid", &p.not_yet_valid, "certificate is not yet valid"),
        ("revoked", &p.revoked, "certificate revoked"),
        ("no clientAuth usage", &p.server_usage, "certificate purpose"),
        ("self-signed", &p.self_signed, "self-signed certificate"),
        ("unknown CA", &p.unknown_ca, "unable to get local issuer certificate"),
    ];
    for (what, cert, expect) in cases {
        refused(&app, what, &[&forwarded(cert)], expect);
    }
    let good = forwarded(&p.profiles[2]);
    refused(&app, "header twice", &[&good, &good], "more than once");
    refused(&app, "header twice, second one bad", &[&good, "x"], "more than once");
    refused(&app, "not PEM", &["hello"], "holds no certificate");
    refused(&app, "bad encoding", &["%ZZ%C3%28"], "not URL-encoded PEM");
    refused(&app, "truncated PEM", &[&good[..good.len() / 2]], "PEM");
    // No header: the proxy's own certificate (registered as "reverse-proxy") does not stand in.
    refused(&app, "no header", &[], "must carry the x-ssl-client-cert header");
    let lines = app.audit.lines();
    let refusals = lines[before..].iter().filter(|l| l.contains("consumer=- ") && l.contains("status=403")).count();
    assert_eq!(refusals, 13, "one audit line per refused request: {lines:?}");
    assert!(!lines.iter().any(|l| l.contains("consumer=reverse-proxy")), "the proxy never acts as itself");
}

fn header_ignored_from_other_addresses(backend: Backend) {
    let p = pki();
    // The proxy is 127.0.0.2: a header from 127.0.0.1 is ignored, the TLS certificate is the identity.
    let app = behind_proxy(backend, "127.0.0.2");
    let (status, body) = through_proxy(&app, &[&forwarded(&p.profiles[2])]);
    assert_eq!(status, 200, "{body}");
    let lines = app.audit.lines();
    assert!(lines.iter().any(|l| l.contains("consumer=reverse-proxy profile=1")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("consumer=consumer-2")), "{lines:?}");
}

#[test]
fn trusted_proxies_need_tls() {
    let trust = ProxyTrust { header: HEADER.into(), addresses: vec!["127.0.0.1".parse().unwrap()] };
    let started = TestApp::builder(Backend::Sqlite).empty().proxy(trust).try_start();
    let err = started.err().expect("a trusted proxy without client CAs must not start").to_string();
    assert!(err.contains("trusted proxies need TLS"), "{err}");
}

crate::each_backend!(forwarded_certificates_are_verified, header_ignored_from_other_addresses);

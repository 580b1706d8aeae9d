//! CRLs while the server runs (issue 9, items 14 and 15), with real handshakes: a revocation
//! written to the CRL file takes effect without a restart, a broken file keeps the lists in force,
//! and a list past its `nextUpdate` is reported by `/ready` and answered 503, not served.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use openssl::x509::X509Crl;
use ror_capacity::auth::mtls::TlsConfig;
use ror_capacity::dev::pki::Validity;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, issue_codes, scratch_dir};
use crate::pki::{ClientCert, https_client, pki};

fn write_crl(path: &PathBuf, crl: &X509Crl) {
    std::fs::write(path, crl.to_pem().unwrap()).unwrap();
}

/// A server whose CRL file is its own (the tests rewrite it).
fn with_own_crl(backend: Backend, first: &X509Crl) -> (TestApp, PathBuf) {
    let path = scratch_dir("crl").join("intermediate.crl");
    write_crl(&path, first);
    let crls = vec![path.clone()];
    let app = TestApp::builder(backend).tls().config(|c| c.tls = Some(TlsConfig { crls, ..pki().tls.clone() })).start();
    (app, path)
}

/// A request on a new connection: its status, or the TLS error that ended the handshake.
fn fresh(app: &TestApp, cert: &ClientCert, path: &str) -> Result<u16, String> {
    let url = if path.starts_with('/') { format!("{}{path}", app.root()) } else { format!("{}/{path}", app.base) };
    match https_client(pki(), Some(cert)).get(url).send() {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => {
            let mut text = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                text.push_str(" <- ");
                text.push_str(&s.to_string());
                src = s.source();
            }
            Err(text)
        }
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: not within 20 s");
        std::thread::sleep(Duration::from_millis(250));
    }
    started.elapsed()
}

fn revocation_takes_effect_without_restart(backend: Backend) {
    let p = pki();
    let (app, path) = with_own_crl(backend, &p.inter.crl(&[&p.revoked_cert]).unwrap());
    let victim = &p.profiles[3];
    assert_eq!(fresh(&app, victim, "metadata"), Ok(200));
    // A connection opened before the revocation, kept busy so that it stays open.
    let kept = https_client(p, Some(victim));
    let url = format!("{}/metadata", app.base);
    // Each answer is read to its end, so that the connection goes back to the client's pool.
    let status_of = |r: reqwest::blocking::Response| {
        let status = r.status().as_u16();
        let _ = r.bytes();
        status
    };
    assert_eq!(status_of(kept.get(&url).send().unwrap()), 200);

    write_crl(&path, &p.inter.crl(&[&p.revoked_cert, &victim.leaf()]).unwrap());
    let took = wait_for("the revocation", || {
        // 200 until the new lists are in force, 403 from then on.
        let status = status_of(kept.get(&url).send().unwrap());
        assert!(status == 200 || status == 403, "{status}");
        fresh(&app, victim, "metadata").is_err()
    });
    eprintln!("revocation in force for new handshakes {took:?} after the CRL file was written");
    let err = fresh(&app, victim, "metadata").unwrap_err();
    assert!(err.contains("certificate revoked") || err.contains("reset by peer"), "{err}");
    // The connection opened before: refused at its next request.
    let r = kept.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: Value = r.json().unwrap();
    assert!(body["issue"][0]["diagnostics"].as_str().unwrap().contains("revoked"), "{body}");
    assert_eq!(fresh(&app, &p.profiles[1], "metadata"), Ok(200), "others are unaffected");

    // Broken files keep the lists in force: garbage, and a list without the victim cut short.
    let unrevoked = p.inter.crl(&[&p.revoked_cert]).unwrap().to_pem().unwrap();
    for broken in [b"garbage".to_vec(), unrevoked[..unrevoked.len() / 2].to_vec()] {
        std::fs::write(&path, &broken).unwrap();
        std::thread::sleep(Duration::from_secs(5));
        assert!(fresh(&app, victim, "metadata").is_err(), "a broken CRL file must not lift the revocation");
        assert_eq!(fresh(&app, &p.profiles[1], "metadata"), Ok(200), "nor refuse everyone");
    }
    // Reloading still works after a broken file: a whole list without the victim lifts it.
    std::fs::write(&path, &unrevoked).unwrap();
    wait_for("the new list", || fresh(&app, victim, "metadata") == Ok(200));
    assert!(fresh(&app, &p.revoked, "metadata").is_err());
}

fn ready(app: &TestApp) -> (u16, Value) {
    app.get_as(&pki().profiles[1], &format!("{}/ready", app.root()))
}

#[test]
fn an_out_of_date_crl_is_reported_and_serves_nothing() {
    let p = pki();
    let soon = p.inter.crl_valid(&[&p.revoked_cert], Validity { from_days: -28, to_days: 2 }).unwrap();
    let (app, path) = with_own_crl(Backend::Sqlite, &soon);
    let (status, body) = ready(&app);
    assert_eq!(status, 200, "{body}");
    let warnings = body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{body}");
    assert!(warnings[0].as_str().unwrap().contains("expires at"), "{body}");

    // Past its nextUpdate (the file is replaced while the server runs).
    let expired = p.inter.crl_valid(&[&p.revoked_cert], Validity { from_days: -40, to_days: -10 }).unwrap();
    write_crl(&path, &expired);
    wait_for("/ready to say the CRL expired", || ready(&app).0 == 503);
    let (_, body) = ready(&app);
    assert_eq!(issue_codes(&body), ["transient"]);
    let diag = body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diag.contains("expired at") && diag.contains("Test IGC Intermediate"), "{diag}");
    // Consumers get a 503 that says why, and no data; the certificate it lists is still refused.
    let (status, body) = app.get_as(&p.profiles[1], "Location?_count=1");
    assert_eq!(status, 503, "{body}");
    assert_eq!(issue_codes(&body), ["transient"]);
    assert!(body["issue"][0]["diagnostics"].as_str().unwrap().contains("revocation list"), "{body}");
    assert!(body.get("entry").is_none());
    assert_eq!(fresh(&app, &p.profiles[1], "/health"), Ok(200));
    assert!(fresh(&app, &p.revoked, "metadata").is_err(), "listed in the expired CRL: refused");
    assert!(app.audit.lines().iter().any(|l| l.contains("status=503")));

    // A current list: back to normal.
    write_crl(&path, &p.inter.crl(&[&p.revoked_cert]).unwrap());
    wait_for("/ready to recover", || ready(&app).0 == 200);
    assert_eq!(ready(&app).1["warnings"], serde_json::json!([]));
    assert_eq!(app.get_as(&p.profiles[1], "Location?_count=1").0, 200);
}

crate::each_backend!(revocation_takes_effect_without_restart);

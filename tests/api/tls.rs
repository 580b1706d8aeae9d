//! Mutual TLS and access profiles, with real handshakes: what is refused before HTTP, what a
//! registered consumer of each profile may see, trusted proxies, the audit line, registry reload.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::helpers::{Backend, Dataset, Shared, TestApp, dataset, enc};
use crate::pki::{ClientCert, TestPki, entry, https_client, pki, registry_text};

/// The shared TLS server of `backend` (the test PKI, the standard registry). Never dropped: its
/// database is one of the leftovers the next run drops.
fn tls_app(backend: Backend) -> &'static TestApp {
    static APPS: Shared = Shared::new();
    APPS.get(backend, || TestApp::builder(backend).tls().start())
}

fn handshake_rejections(backend: Backend) {
    let app = tls_app(backend);
    let p: &TestPki = pki();
    let url = format!("{}/metadata", app.base);
    // The control: a registered certificate, through the intermediate CA.
    let ok = https_client(p, Some(&p.profiles[1])).get(&url).send().unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    // Each case with the TLS alert the server sends (OpenSSL's wording, seen by the client).
    let cases: [(&str, Option<&ClientCert>, &str); 7] = [
        ("no certificate", None, "certificate required"),
        ("self-signed", Some(&p.self_signed), "unknown ca"),
        ("unknown CA", Some(&p.unknown_ca), "unknown ca"),
        ("expired", Some(&p.expired), "certificate expired"),
        ("not yet valid", Some(&p.not_yet_valid), "bad certificate"),
        ("revoked (CRL)", Some(&p.revoked), "certificate revoked"),
        ("no clientAuth usage", Some(&p.server_usage), "unsupported certificate"),
    ];
    for (what, cert, alert) in cases {
        let result = https_client(p, cert).get(&url).send();
        match result {
            Err(e) => {
                let mut chain = vec![e.to_string()];
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    chain.push(s.to_string());
                    src = s.source();
                }
                let text = chain.join(" <- ");
                eprintln!("{what}: refused before HTTP: {text}");
                // In TLS 1.3 the client may already be writing its request when the server's alert
                // arrives: it then sees the connection reset instead of the alert. Either way, no
                // HTTP answer came back.
                let reset = text.contains("reset by peer") || text.contains("Broken pipe");
                assert!(text.contains(alert) || reset, "{what}: expected the alert {alert:?}, got {text}");
            }
            Ok(r) => panic!("{what}: got an HTTP answer {}", r.status()),
        }
    }
    // None of them reached HTTP: no audit line names them.
    let lines = app.audit.lines();
    for name in ["self-signed", "unknown-ca", "expired", "future", "revoked", "server-usage"] {
        assert!(!lines.iter().any(|l| l.contains(&format!("consumer={name} "))), "{name} reached HTTP");
    }
}

fn unregistered_is_forbidden(backend: Backend) {
    let app = tls_app(backend);
    let (status, body) = app.get_as(&pki().unregistered, "Location?_count=1");
    assert_eq!(status, 403);
    assert_eq!(body["issue"][0]["code"], "forbidden");
    let lines = app.audit.lines();
    assert!(lines.iter().any(|l| l.contains("consumer=- ") && l.contains("status=403")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("consumer=consumer-1 profile=1") && l.contains("status=200")), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("PRIVATE KEY") && !l.contains("BEGIN CERTIFICATE")));
}

fn status_of(fig: &Value, url: &str) -> String {
    fig["extension"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["url"] == url)
        .map(|s| s["valueCodeableConcept"]["coding"][0]["code"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn figures(loc: &Value) -> Vec<Value> {
    loc["extension"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|x| x["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// What profile `p` must see of a place: the ROR rules, written independently of the server's.
fn expected_figures(p: u8, id: &str, loc: &Value, sensitive: &BTreeSet<String>) -> Vec<Value> {
    if p == 5 || sensitive.contains(id) {
        return Vec::new();
    }
    figures(loc)
        .into_iter()
        .filter(|f| match p {
            0 => status_of(f, "capacityStatus") == "01" && status_of(f, "temporaryAssignement") == "01",
            2 | 3 => status_of(f, "capacityStatus") != "06",
            _ => true,
        })
        .collect()
}

fn check_locations(p: u8, d: &Dataset, sensitive: &BTreeSet<String>, body: &Value) {
    for e in body["entry"].as_array().into_iter().flatten() {
        let res = &e["resource"];
        if res["resourceType"] != "Location" {
            continue;
        }
        let id = res["id"].as_str().unwrap();
        assert_eq!(figures(res), expected_figures(p, id, &d.locations[id], sensitive), "profile {p}, Location/{id}");
        // Everything else of the place is served.
        let mut a = res.clone();
        let mut b = d.locations[id].clone();
        for v in [&mut a, &mut b] {
            if let Some(ext) = v["extension"].as_array_mut() {
                ext.retain(|x| !x["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"));
            }
        }
        assert_eq!(a, b, "profile {p}, Location/{id}");
    }
}

fn profile_matrix(backend: Backend) {
    let app = tls_app(backend);
    let d = &app.data;
    let sensitive = d.sensitive_locations();
    let (first_id, first) = d.locations.iter().nth(4).unwrap();
    let fid = Dataset::identifier(first, Some("25")).unwrap();
    let several: Vec<String> =
        d.locations.values().step_by(17).map(|l| Dataset::identifier(l, Some("25")).unwrap()).collect();
    let offers: Vec<String> =
        d.services.values().step_by(9).take(20).map(|s| Dataset::identifier(s, None).unwrap()).collect();
    let queries = [
        format!("Location?identifier={}&_revinclude=HealthcareService:location", enc(&fid)),
        format!("Location?identifier={}&_revinclude=HealthcareService:location", enc(&several.join(","))),
        "Location?_lastUpdated=ge2026-06-01&_revinclude=HealthcareService:location".to_owned(),
        format!(
            "Location?_has:HealthcareService:location:identifier={}&_revinclude=HealthcareService:location",
            enc(&offers.join(","))
        ),
        format!("HealthcareService?location={first_id}&_include=HealthcareService:location"),
    ];
    for p in 0u8..=5 {
        let cert = &pki().profiles[usize::from(p)];
        walk_all_places(app, p, &sensitive);
        for q in &queries {
            let (status, body) = app.get_as(cert, q);
            assert_eq!(status, 200, "profile {p} {q}: {body}");
            check_locations(p, d, &sensitive, &body);
        }
        let (_, body) = app.get_as(cert, &format!("Location/{first_id}"));
        check_locations(p, d, &sensitive, &serde_json::json!({"entry": [{"resource": body}]}));
        // Observations: one per visible figure, totals narrowed in SQL.
        let visible: usize = d.locations.iter().map(|(id, l)| expected_figures(p, id, l, &sensitive).len()).sum();
        let (status, body) = app.get_as(cert, "Observation?_summary=count");
        if p == 5 {
            assert_eq!(status, 403, "profile 5 sees no Observation");
            let (status, _) = app.get_as(cert, "Location?capacity-status=01");
            assert_eq!(status, 403, "profile 5 may not search by capacity");
            let (status, _) = app.get_as(cert, &format!("Observation/{first_id}-cap-1"));
            assert_eq!(status, 403);
            continue;
        }
        assert_eq!(status, 200);
        assert_eq!(body["total"], visible, "profile {p}: Observation total");
        assert_eq!(observation_ids(app, cert).len(), visible);
        // A search by capacity only matches on figures the profile sees.
        let expected: BTreeSet<String> = d
            .locations
            .iter()
            .filter(|(id, l)| {
                expected_figures(p, id, l, &sensitive).iter().any(|f| status_of(f, "capacityStatus") == "06")
            })
            .map(|(id, _)| id.clone())
            .collect();
        let (_, body) = app.get_as(cert, "Location?capacity-status=06&_count=200");
        assert_eq!(crate::helpers::match_ids(&body), expected, "profile {p}: capacity-status=06");
        assert_eq!(body["total"], expected.len());
    }
}

/// Scenario 1 as profile `p`, every page: no figure the profile must not see, totals unchanged.
fn walk_all_places(app: &TestApp, p: u8, sensitive: &BTreeSet<String>) {
    let (d, cert) = (&app.data, &pki().profiles[usize::from(p)]);
    let mut url = "Location?_revinclude=HealthcareService:location&_count=70".to_owned();
    let mut seen = 0;
    loop {
        let (status, body) = app.get_as(cert, &url);
        assert_eq!(status, 200, "profile {p}: {body}");
        assert_eq!(body["total"], d.locations.len(), "profile {p}");
        check_locations(p, d, sensitive, &body);
        seen += crate::helpers::match_ids(&body).len();
        match crate::helpers::next_link(&body) {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(seen, d.locations.len());
}

/// The ids of every Observation `cert` sees, page after page.
fn observation_ids(app: &TestApp, cert: &ClientCert) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = "Observation?_count=200".to_owned();
    loop {
        let (_, b) = app.get_as(cert, &url);
        ids.extend(crate::helpers::match_ids(&b));
        match crate::helpers::next_link(&b) {
            Some(n) => url = n,
            None => break,
        }
    }
    ids
}

fn regions_and_own_count(backend: Backend) {
    let app = tls_app(backend);
    let d = &app.data;
    let cert = &pki().regional;
    let region = d.first_region();
    let in_region: BTreeMap<&String, &Value> =
        d.locations.iter().filter(|(_, l)| l["meta"]["tag"][0]["code"] == region.as_str()).collect();
    let (status, body) = app.get_as(cert, "Location?_count=50&_revinclude=HealthcareService:location");
    assert_eq!(status, 200);
    assert_eq!(body["total"], in_region.len());
    assert_eq!(crate::helpers::match_ids(&body).len(), 5.min(in_region.len()), "own max _count is 5");
    for e in body["entry"].as_array().unwrap() {
        if let Some(tag) = e["resource"]["meta"]["tag"].as_array() {
            assert_eq!(tag[0]["code"], region.as_str());
        }
    }
    let outside = d.locations.iter().find(|(_, l)| l["meta"]["tag"][0]["code"] != region.as_str()).unwrap().0;
    let (status, body) = app.get_as(cert, &format!("Location/{outside}"));
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.get_as(cert, &format!("Observation?subject=Location/{outside}"));
    assert_eq!((status, body["total"].as_u64()), (200, Some(0)));
}

fn registry_reloads(backend: Backend) {
    let p = pki();
    let region = dataset().first_region();
    let app = TestApp::builder(backend).tls().start();
    let path = app.registry.clone().unwrap();
    assert_eq!(app.get_as(&p.unregistered, "metadata").0, 403);
    let mut text = registry_text(p, &region);
    text.push_str(&entry("late", &p.unregistered, 4, ""));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&path, &text).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while app.get_as(&p.unregistered, "metadata").0 != 200 {
        assert!(std::time::Instant::now() < deadline, "the registry was not reloaded");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // A broken file keeps the previous registry.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&path, "[[consumer]]\nname = broken").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert_eq!(app.get_as(&p.unregistered, "metadata").0, 200);
    assert_eq!(app.get_as(&p.profiles[0], "metadata").0, 200);
}

crate::each_backend!(
    handshake_rejections,
    unregistered_is_forbidden,
    profile_matrix,
    regions_and_own_count,
    registry_reloads,
);

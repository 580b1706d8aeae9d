//! The admin listener (issue 15): `/health`, `/ready` and `/metrics` over plain HTTP without a
//! certificate, beside an mTLS FHIR listener; the request counters move by what was asked; nothing
//! of the FHIR data is served there; it listens on loopback unless told otherwise.

use ror_capacity::config::ServerConfig;
use ror_capacity::startup::StartError;

use crate::helpers::{Backend, TestApp};
use crate::pki::pki;

/// The value of the sample whose line starts with `series` (name and labels, exactly), if any.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

pub fn get(url: &str) -> (u16, String) {
    let r = reqwest::blocking::Client::builder().no_proxy().build().unwrap().get(url).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn admin_listener(backend: Backend) {
    let app = TestApp::builder(backend)
        .tls()
        .config(|c: &mut ServerConfig| c.admin_bind = Some("127.0.0.1:0".parse().unwrap()))
        .start();
    let admin = app.admin.clone().expect("the admin listener is configured");
    let profile1 = &pki().profiles[1];
    let locations = r#"ror_http_requests_total{route="/fhir/{type}",type="Location",method="GET",status="200"}"#;
    let (_, before) = get(&format!("{admin}/metrics"));
    let at_start = sample(&before, locations).unwrap_or(0.0);
    for _ in 0..3 {
        assert_eq!(app.get_as(profile1, "Location?_count=2").0, 200);
    }
    assert_eq!(app.get_as(profile1, "Nonsense?_count=2").0, 404);

    let (status, text) = get(&format!("{admin}/metrics"));
    assert_eq!(status, 200, "{text}");
    assert_eq!(sample(&text, locations), Some(at_start + 3.0), "{text}");
    let unknown = r#"ror_http_requests_total{route="/fhir/{type}",type="",method="GET",status="404"}"#;
    assert_eq!(sample(&text, unknown), Some(1.0), "{text}");
    let timed = r#"ror_http_request_duration_seconds_count{route="/fhir/{type}",type="Location",shape="all"}"#;
    assert!(sample(&text, timed).is_some_and(|n| n >= 3.0), "{text}");
    let pool = r#"ror_db_pool_connections{server="primary"}"#;
    assert!(sample(&text, pool).is_some_and(|n| n >= 1.0), "{text}");
    assert!(
        sample(&text, r#"ror_http_response_body_bytes_total{route="/fhir/{type}",type="Location",shape="all"}"#)
            .is_some_and(|n| n > 0.0)
    );
    database_and_shapes(&app, &admin, &text);

    // By consumer (its registry name), and admission control's state.
    let by_consumer: f64 = text
        .lines()
        .filter(|l| l.starts_with("ror_consumer_requests_total{consumer=") && !l.contains(r#"consumer="-""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(by_consumer >= 4.0, "the consumer's requests are counted: {text}");
    assert_eq!(sample(&text, "ror_requests_shed_total"), Some(0.0), "{text}");
    assert!(sample(&text, "ror_requests_in_flight").is_some() && sample(&text, "ror_requests_waiting").is_some());

    // The consumer registry's reloads, and a broken version refused (the previous one stays).
    let registry = app.registry.clone().unwrap();
    let original = std::fs::read_to_string(&registry).unwrap();
    let reloads = |outcome: &str| {
        let series = format!(r#"ror_file_reloads_total{{file="registry",outcome="{outcome}"}}"#);
        let started = std::time::Instant::now();
        loop {
            let n = sample(&get(&format!("{admin}/metrics")).1, &series).unwrap_or(0.0);
            if n >= 1.0 || started.elapsed() > std::time::Duration::from_secs(20) {
                return n;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    std::fs::write(&registry, "this is not a registry [").unwrap();
    assert_eq!(reloads("refused"), 1.0);
    std::fs::write(&registry, format!("{original}\n# changed\n")).unwrap();
    assert_eq!(reloads("reloaded"), 1.0);
    assert_eq!(app.get_as(profile1, "Location?_count=1").0, 200);

    // Health and readiness without a certificate; no FHIR data at all.
    assert_eq!(get(&format!("{admin}/health")).0, 200);
    let (status, ready) = get(&format!("{admin}/ready"));
    assert_eq!(status, 200, "{ready}");
    for path in ["/fhir/Location", "/fhir/metadata", "/Location", "/fhir/Location/x", "/metrics/../fhir/Location"] {
        let (status, body) = get(&format!("{admin}{path}"));
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("resourceType"), "{path}: {body}");
    }
}

/// The database's side (connections asked and held, statements run and prepared, no timeout),
/// and searches counted by scenario shape.
fn database_and_shapes(app: &TestApp, admin: &str, text: &str) {
    let profile1 = &pki().profiles[1];
    // The database's side: connections asked and held, statements run and prepared, no timeout.
    for series in ["ror_db_pool_waits_total", "ror_db_requests_total"] {
        assert!(sample(text, series).is_some_and(|n| n >= 3.0), "{series}: {text}");
    }
    for series in ["ror_db_request_seconds_total", "ror_db_statements_total", "ror_db_statements_prepared_total"] {
        assert!(sample(text, series).is_some_and(|n| n > 0.0), "{series}: {text}");
    }
    assert_eq!(sample(text, "ror_db_pool_timeouts_total"), Some(0.0), "{text}");
    assert!(sample(text, r#"ror_db_pool_in_use_connections{server="primary"}"#).is_some(), "{text}");

    // Searches by scenario shape.
    assert_eq!(app.get_as(profile1, "Location?identifier=52/1&_revinclude=HealthcareService:location").0, 200);
    assert_eq!(app.get_as(profile1, "Location?_lastUpdated=ge2026-01-01&_count=1").0, 200);
    let (_, text) = get(&format!("{admin}/metrics"));
    let text = &text;
    for shape in ["identifier", "since"] {
        let series = format!(
            r#"ror_http_request_duration_seconds_count{{route="/fhir/{{type}}",type="Location",shape="{shape}"}}"#
        );
        assert_eq!(sample(text, &series), Some(1.0), "{series}: {text}");
    }
}

crate::each_backend!(admin_listener);

#[test]
fn the_admin_listener_stays_on_loopback_unless_allowed() {
    let refused = TestApp::builder(Backend::Sqlite)
        .config(|c: &mut ServerConfig| c.admin_bind = Some("0.0.0.0:0".parse().unwrap()))
        .try_start();
    match refused {
        Err(StartError::Unsafe(why)) => assert!(why.contains("loopback"), "{why}"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("an admin listener off loopback must be asked for"),
    }
    let allowed = TestApp::builder(Backend::Sqlite)
        .config(|c: &mut ServerConfig| {
            c.admin_bind = Some("0.0.0.0:0".parse().unwrap());
            c.admin_remote = true;
        })
        .start();
    let port = allowed.admin.as_deref().and_then(|a| a.rsplit(':').next()).unwrap().to_owned();
    assert_eq!(get(&format!("http://127.0.0.1:{port}/health")).0, 200);
}

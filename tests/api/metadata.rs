//! The CapabilityStatement, checked both ways against what the server really does.

use std::collections::BTreeSet;

use ror_capacity::fhir::ResourceType;
use ror_capacity::search::parse::{RESULT_PARAMETERS, supported_parameters};

use serde_json::Value;

use crate::helpers::TestApp;

fn capability_statement(app: &TestApp) {
    let r = app.get("metadata");
    assert_eq!(r.status, 200);
    let cs = &r.body;
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let rest = &cs["rest"][0];
    let common: BTreeSet<&str> =
        rest["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(common, RESULT_PARAMETERS.into_iter().collect());
    // The capacity aggregates (MeasureReport, Measure) are served beside the search registry.
    let (aggregates, resources): (Vec<&Value>, Vec<&Value>) = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .partition(|r| matches!(r["type"].as_str(), Some("MeasureReport" | "Measure")));
    assert_eq!(aggregates.len(), 2);
    assert_eq!(resources.len(), ResourceType::ALL.len());
    for res in resources {
        let rt = ResourceType::parse(res["type"].as_str().unwrap()).unwrap();
        let interactions: BTreeSet<&str> =
            res["interaction"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
        assert_eq!(interactions, BTreeSet::from(["read", "search-type"]), "read-only");
        let declared: BTreeSet<&str> =
            res["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        let supported: BTreeSet<&str> = supported_parameters(rt).iter().copied().collect();
        assert_eq!(declared, supported, "{}: declared vs supported", rt.as_str());
        // Every declared parameter is accepted by the server (a well-formed value never gives 400).
        for p in res["searchParam"].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            let q = match (name, p["type"].as_str().unwrap()) {
                ("_has", _) => "_has:HealthcareService:location:identifier=x".to_owned(),
                ("_filter", _) => "_filter=_id%20eq%20x1".to_owned(),
                ("active", _) => "active=true".to_owned(),
                (_, "date") => format!("{name}=ge2020-01-01"),
                (_, "number") => format!("{name}=gt0"),
                ("near", _) => "near=48.1%7C-1.6%7C20%7Ckm".to_owned(),
                (_, "reference") => format!("{name}=x1"),
                (n, _) => format!("{n}=x"),
            };
            let r = app.get(&format!("{}?{q}&_count=1", rt.as_str()));
            assert_eq!(r.status, 200, "{} {q}: {}", rt.as_str(), r.body);
        }
        for inc in res["searchInclude"].as_array().into_iter().flatten() {
            let r = app.get(&format!("{}?_include={}&_count=1", rt.as_str(), inc.as_str().unwrap()));
            assert_eq!(r.status, 200);
        }
        for inc in res["searchRevInclude"].as_array().into_iter().flatten() {
            let r = app.get(&format!("{}?_revinclude={}&_count=1", rt.as_str(), inc.as_str().unwrap()));
            assert_eq!(r.status, 200);
        }
    }
    let r = app.get("metadata?_format=json");
    assert_eq!(r.status, 200);
}

fn health(app: &TestApp) {
    let base = app.base.trim_end_matches("/fhir");
    assert_eq!(reqwest::blocking::get(format!("{base}/health")).unwrap().status().as_u16(), 200);
    assert_eq!(reqwest::blocking::get(format!("{base}/ready")).unwrap().status().as_u16(), 200);
}

crate::both_backends!(capability_statement, health);

fn bench_ceiling_route(backend: crate::helpers::Backend) {
    let app = TestApp::builder(backend).config(|c| c.bench_ceiling_bytes = Some(5000)).start();
    let r = reqwest::blocking::get(format!("{}/bench/ceiling", app.root())).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().unwrap();
    assert_eq!(body.len(), 5000);
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
    // A workload's byte-equivalent ceiling: a body of the size asked for, within bounds.
    let r = reqwest::blocking::get(format!("{}/bench/ceiling?bytes=123457", app.root())).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().unwrap();
    assert_eq!(body.len(), 123_457);
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok());
    let too_large = format!("{}/bench/ceiling?bytes=999999999", app.root());
    assert_eq!(reqwest::blocking::get(too_large).unwrap().status().as_u16(), 400);
    let not_a_size = format!("{}/bench/ceiling?bytes=x", app.root());
    assert_eq!(reqwest::blocking::get(not_a_size).unwrap().status().as_u16(), 400);
    // Off by default.
    let shared = crate::helpers::app(backend);
    assert_eq!(reqwest::blocking::get(format!("{}/bench/ceiling", shared.root())).unwrap().status().as_u16(), 404);
}

crate::each_backend!(bench_ceiling_route);

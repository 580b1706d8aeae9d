//! The registry checked against its readers and the CapabilityStatement.

use super::*;

#[test]
fn each_parameter_is_declared_once() {
    for (i, p) in PARAMETERS.iter().enumerate() {
        assert!(!PARAMETERS[..i].iter().any(|q| q.resource == p.resource && q.name == p.name), "{p:?} twice");
        assert_eq!(p.condition.is_none(), matches!(p.name, "_has" | "_filter"), "{p:?}");
    }
}

/// Every modifier of FHIR R4 searches and the reference types served: the readers must accept
/// exactly those their entry declares.
const ALL_MODIFIERS: &[&str] = &[
    "missing",
    "exact",
    "contains",
    "text",
    "not",
    "in",
    "not-in",
    "below",
    "above",
    "of-type",
    "identifier",
    "iterate",
    "Location",
    "Organization",
    "HealthcareService",
    "Observation",
];

fn parses(rt: ResourceType, name: &str, value: &str) -> bool {
    let pairs = vec![(name.to_owned(), value.to_owned())];
    crate::search::parse::parse(rt, &pairs, false, &crate::search::limits::SearchLimits::default()).is_ok()
}

fn sample_value(p: &SearchParam) -> &'static str {
    match p.name {
        "near" => return "48.1|-1.6|5|km",
        "active" => return "true",
        _ => {}
    }
    match p.kind {
        Date => "2026-01-01",
        Reference => "1",
        _ => "01",
    }
}

#[test]
fn readers_accept_exactly_the_declared_modifiers_and_prefixes() {
    for p in PARAMETERS.iter().filter(|p| p.condition.is_some()) {
        let value = sample_value(p);
        assert!(parses(p.resource, p.name, value), "{p:?}={value}");
        for m in ALL_MODIFIERS {
            let accepted = parses(p.resource, &format!("{}:{m}", p.name), value);
            assert_eq!(accepted, p.modifiers.contains(m), "{p:?}:{m}");
        }
        if !matches!(p.kind, Date | ParamType::Number) {
            continue; // a token, string or reference value may start with anything
        }
        for prefix in ["eq", "ne", "gt", "ge", "lt", "le", "sa", "eb", "ap"] {
            let accepted = parses(p.resource, p.name, &format!("{prefix}{value}"));
            assert_eq!(accepted, p.prefixes.contains(&prefix), "{p:?}={prefix}{value}");
        }
    }
}

/// With `UPDATE_CAPABILITY_STATEMENT=1`, rewrites the `searchParam` arrays of
/// `capability-statement.json` from the registry first (then rebuild: the file is embedded).
#[test]
fn the_capability_statement_declares_exactly_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/capability-statement.json");
    if std::env::var_os("UPDATE_CAPABILITY_STATEMENT").is_some() {
        let mut cs: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
        for res in cs["rest"][0]["resource"].as_array_mut().expect("resources") {
            let rt = res["type"].as_str().and_then(ResourceType::parse).expect("a served type");
            res["searchParam"] = capability_search_params(rt);
        }
        let text = serde_json::to_string_pretty(&cs).expect("serialisable") + "\n";
        std::fs::write(path, text).expect("writable");
        return;
    }
    let cs: Value = serde_json::from_str(include_str!("../../../capability-statement.json")).expect("valid JSON");
    let all = cs["rest"][0]["resource"].as_array().expect("resources");
    // The capacity aggregates are served beside the registry (`search::measure_report`).
    let (aggregates, resources): (Vec<&Value>, Vec<&Value>) =
        all.iter().partition(|r| matches!(r["type"].as_str(), Some("MeasureReport" | "Measure")));
    assert_eq!(aggregates.len(), 2);
    let names = |r: &Value| -> Vec<String> {
        let params = r["searchParam"].as_array().expect("params");
        params.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect()
    };
    assert_eq!(names(aggregates[0]), ["_id", "_lastUpdated", "subject", "measure"]);
    // The Measure's: each declared one is parsed (`search::measure`).
    assert_eq!(names(aggregates[1]), ["_id", "url", "version", "status"]);
    for name in names(aggregates[1]) {
        let parsed = crate::search::measure::parse(&[(name.clone(), "x".to_owned())]);
        assert!(parsed.is_ok(), "{name}: {parsed:?}");
    }
    assert_eq!(resources.len(), ResourceType::ALL.len());
    for res in resources {
        let rt = res["type"].as_str().and_then(ResourceType::parse).expect("a served type");
        assert_eq!(res["searchParam"], capability_search_params(rt), "{}", rt.as_str());
    }
}

#[test]
fn the_capability_statement_names_this_version() {
    let cs: Value = serde_json::from_str(include_str!("../../../capability-statement.json")).expect("valid JSON");
    assert_eq!(cs["software"]["name"], "ror-capacity");
    assert_eq!(cs["software"]["version"], env!("CARGO_PKG_VERSION"), "what `ror-capacity --version` prints");
}

//! Paging: no duplicate and no gap, also when data changes between pages.

use std::collections::BTreeSet;
use std::io::Write;

use crate::helpers::{Backend, TestApp, next_link, scratch_dir};

fn walk_with_updates_between_pages(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let all: BTreeSet<String> = app.data.locations.keys().cloned().collect();
    let mut seen = Vec::new();
    let mut url = "Location?_count=50".to_owned();
    let mut page = 0;
    loop {
        let r = app.get(&url);
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(
            r.body["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()),
        );
        page += 1;
        if page == 2 {
            // Change capacity figures of places before and after the cursor, as an import would.
            let dir = scratch_dir("update");
            let path = dir.join("update.ndjson");
            let mut f = std::fs::File::create(&path).unwrap();
            for loc in app.data.locations.values().step_by(13) {
                let mut loc = loc.clone();
                let caps = loc["extension"].as_array_mut().unwrap();
                for ext in caps.iter_mut() {
                    if ext["url"].as_str().unwrap().ends_with("ror-location-supported-capacity") {
                        for sub in ext["extension"].as_array_mut().unwrap() {
                            if sub["url"] == "nbCapacity" {
                                sub["valueInteger"] = serde_json::json!(sub["valueInteger"].as_i64().unwrap() + 1);
                            }
                        }
                    }
                }
                writeln!(f, "{loc}").unwrap();
            }
            drop(f);
            app.db.import(&[&path]).unwrap();
        }
        match next_link(&r.body) {
            Some(n) => url = n,
            None => break,
        }
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a place appeared twice");
    assert_eq!(unique, all, "a place was skipped");
    // The updated places now carry a newer lastUpdated than their source, and scenario 4 finds them.
    let changed: Vec<&String> = app.data.locations.keys().step_by(13).collect();
    let r = app.get(&format!("Location/{}", changed[0]));
    let before = app.data.locations[changed[0]]["meta"]["lastUpdated"].as_str().unwrap();
    let after = r.body["meta"]["lastUpdated"].as_str().unwrap();
    assert!(after > before, "{after} should be after {before}");
    let r = app.get(&format!("Location?_lastUpdated=ge{}&_count=200", &after[..19]));
    let found: BTreeSet<String> =
        r.body["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()).collect();
    for id in &changed {
        assert!(found.contains(*id), "{id} not found by _lastUpdated after its update");
    }
}

/// A page driven by one token value walks the token's rows: a place holding the code in two
/// systems comes once, on every page size, and the count agrees.
fn token_walk_without_duplicates(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let dir = scratch_dir("two-systems");
    let path = dir.join("two-systems.ndjson");
    let mut f = std::fs::File::create(&path).unwrap();
    let chosen: BTreeSet<String> = app.data.locations.keys().step_by(7).take(5).cloned().collect();
    for id in &chosen {
        let mut loc = app.data.locations[id].clone();
        let ids = loc["identifier"].as_array_mut().unwrap();
        for system in ["urn:test:b", "urn:test:a"] {
            ids.push(serde_json::json!({ "system": system, "value": "shared-code" }));
        }
        writeln!(f, "{loc}").unwrap();
    }
    drop(f);
    app.db.import(&[&path]).unwrap();
    for query in
        ["identifier=shared-code", "identifier=urn:test:a%7Cshared-code", "identifier=urn:test:b%7Cshared-code"]
    {
        for count in [1, 2, 200] {
            let mut url = format!("Location?{query}&_count={count}&_total=accurate");
            let mut seen = Vec::new();
            loop {
                let r = app.get(&url);
                assert_eq!(r.status, 200, "{}", r.body);
                assert_eq!(r.body["total"], 5, "{url}");
                let entries = r.body["entry"].as_array().cloned().unwrap_or_default();
                seen.extend(entries.iter().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()));
                match next_link(&r.body) {
                    Some(n) => url = n,
                    None => break,
                }
            }
            assert_eq!(seen.len(), 5, "{query} by {count}: {seen:?}");
            assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), chosen, "{query} by {count}");
        }
    }
    assert_eq!(app.walk("Location?identifier=urn:test:c%7Cshared-code").matches.len(), 0);
}

crate::each_backend!(walk_with_updates_between_pages, token_walk_without_duplicates);

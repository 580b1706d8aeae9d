//! `:contains` through the trigram tables (SQLite's FTS5 tables kept by triggers, PostgreSQL's
//! `pg_trgm` indexes): the same ids as a substring test on the dataset, values too short for a
//! trigram or holding a wildcard character, and the tables following an import that renames.

use std::collections::BTreeSet;
use std::io::Write as _;

use ror_capacity::search::normalize;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, enc, scratch_dir};

fn ids(app: &TestApp, query: &str) -> BTreeSet<String> {
    app.walk(&format!("{query}&_count=200")).matches.into_iter().collect()
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// The places (or offers) whose string at `pointer`, normalised, contains `part` normalised.
fn expected(resources: &std::collections::BTreeMap<String, Value>, pointer: &str, part: &str) -> BTreeSet<String> {
    let part = normalize(part);
    resources.iter().filter(|(_, r)| normalize(text(r, pointer)).contains(&part)).map(|(id, _)| id.clone()).collect()
}

fn contains_matches_a_substring_test(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let d = &app.data;
    let place = d.locations.values().nth(3).unwrap();
    let name: Vec<char> = text(place, "/name").chars().collect();
    let city: Vec<char> = text(place, "/address/city").chars().collect();
    let postal: Vec<char> = text(place, "/address/postalCode").chars().collect();
    let offer = d.services.values().nth(5).unwrap();
    let offer_name: Vec<char> = text(offer, "/name").chars().collect();
    let part = |s: &[char], from: usize, n: usize| s.iter().skip(from).take(n).collect::<String>();
    let cases = [
        ("name", "/name", part(&name, 2, 5)),
        ("name", "/name", part(&name, 0, 3).to_uppercase()),
        ("name", "/name", part(&name, 1, 2)),
        ("address-city", "/address/city", part(&city, 1, 4)),
        ("address-city", "/address/city", part(&city, 0, 1)),
        ("address-postalcode", "/address/postalCode", part(&postal, 1, 3)),
        ("name", "/name", "zq%".to_owned()),
        ("name", "/name", "a_b".to_owned()),
    ];
    for (param, pointer, value) in cases {
        let want = expected(&d.locations, pointer, &value);
        assert_eq!(ids(&app, &format!("Location?{param}:contains={}", enc(&value))), want, "{param}:contains={value}");
    }
    for value in [part(&offer_name, 3, 4), part(&offer_name, 0, 2)] {
        let want = expected(&d.services, "/name", &value);
        assert!(!want.is_empty());
        assert_eq!(ids(&app, &format!("HealthcareService?name:contains={}", enc(&value))), want, "{value}");
    }
    // Two values ORed, one indexed and one not; a value that matches nothing.
    let (a, b) = (part(&name, 2, 5), part(&city, 1, 2));
    let want: BTreeSet<String> =
        expected(&d.locations, "/name", &a).union(&expected(&d.locations, "/name", &b)).cloned().collect();
    assert_eq!(ids(&app, &format!("Location?name:contains={}", enc(&format!("{a},{b}")))), want);
    assert!(ids(&app, "Location?name:contains=qqzzqq").is_empty());
}

fn contains_follows_an_import_that_renames(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let (id, place) = app.data.locations.iter().nth(9).map(|(i, p)| (i.clone(), p.clone())).unwrap();
    let old_name = text(&place, "/name").to_owned();
    let (service_id, mut offer) = app.data.services.iter().nth(2).map(|(i, s)| (i.clone(), s.clone())).unwrap();
    let mut renamed = place.clone();
    renamed["name"] = Value::from("Clinique Wxyzvu Éphémère");
    renamed["address"]["city"] = Value::from("Qqvbourg");
    offer["name"] = Value::from("Urgences Kwyjibo");
    let path = scratch_dir("renamed").join("renamed.ndjson");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{renamed}\n{offer}").unwrap();
    drop(f);
    app.db.import(&[&path]).unwrap();
    let only = BTreeSet::from([id.clone()]);
    assert_eq!(ids(&app, "Location?name:contains=XYZV"), only);
    assert_eq!(ids(&app, "Location?name:contains=ephem"), only);
    assert_eq!(ids(&app, "Location?address-city:contains=qvbo"), only);
    assert_eq!(ids(&app, "HealthcareService?name:contains=yjib"), BTreeSet::from([service_id]));
    // The old name no longer finds the place (unless another place shares that part).
    let old: Vec<char> = old_name.chars().collect();
    let piece: String = old.iter().take(old.len().min(12)).collect();
    let others = app
        .data
        .locations
        .iter()
        .filter(|(i, l)| **i != id && normalize(text(l, "/name")).contains(&normalize(&piece)));
    let want: BTreeSet<String> = others.map(|(i, _)| i.clone()).collect();
    assert_eq!(ids(&app, &format!("Location?name:contains={}", enc(&piece))), want, "{piece}");
}

crate::each_backend!(contains_matches_a_substring_test, contains_follows_an_import_that_renames);

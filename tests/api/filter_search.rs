//! `_filter`: FHIR's filter grammar over the search parameters, the ROR documentation's examples
//! and shorthand, the one-figure rule inside `and`, `not`, and the refusals.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::helpers::{Backend, TestApp, enc, issue_codes};

fn ids(app: &TestApp, query: &str) -> BTreeSet<String> {
    app.walk(&format!("{query}&_count=200")).matches.into_iter().collect()
}

fn filter(app: &TestApp, rt: &str, expr: &str) -> BTreeSet<String> {
    ids(app, &format!("{rt}?_filter={}", enc(expr)))
}

/// The ROR documentation's examples: ids, identifiers, postal codes, and its shorthand.
fn ror_examples(app: &TestApp) {
    let d = &app.data;
    let some: Vec<&String> = d.locations.keys().take(3).collect();
    let expected: BTreeSet<String> = some.iter().map(|s| (*s).clone()).collect();
    let expr = format!("_id eq {} or _id eq {} or _id eq {}", some[0], some[1], some[2]);
    assert_eq!(filter(app, "Location", &expr), expected);
    let shorthand = format!("(_id eq {} or {} or \"{}\")", some[0], some[1], some[2]);
    assert_eq!(filter(app, "Location", &shorthand), expected, "the ROR shorthand");
    let loc = &d.locations[some[0]];
    let ident = &loc["identifier"][0];
    let token = format!("{}|{}", ident["system"].as_str().unwrap(), ident["value"].as_str().unwrap());
    assert!(filter(app, "Location", &format!("identifier eq {token}")).contains(some[0]));
    let pcs = |p: &str| d.locations_where(|l| l["address"]["postalCode"].as_str().is_some_and(|c| c.starts_with(p)));
    let (a, b) = ("22", "29");
    let either: BTreeSet<String> = pcs(a).union(&pcs(b)).cloned().collect();
    assert_eq!(filter(app, "Location", &format!("(address-postalcode sw \"{a}\" or \"{b}\")")), either);
    let pc = loc["address"]["postalCode"].as_str().unwrap();
    let exact = d.locations_where(|l| l["address"]["postalCode"] == pc);
    assert_eq!(filter(app, "Location", &format!("address-postalcode eq \"{pc}\"")), exact);
}

/// Logic: and, or without precedence (left to right), parentheses, not; dates; capacity tests
/// joined by `and` are one figure; `not` is the place-level negation.
fn logic(app: &TestApp) {
    let d = &app.data;
    let region = d.first_region();
    let in_region = d.locations_where(|l| l["meta"]["tag"][0]["code"] == region.as_str());
    let active = d.locations_where(|l| l["status"] == "active");
    let both: BTreeSet<String> = in_region.intersection(&active).cloned().collect();
    assert_eq!(filter(app, "Location", &format!("_tag eq {region} and status eq active")), both);
    let not_active: BTreeSet<String> = d.locations.keys().filter(|id| !active.contains(*id)).cloned().collect();
    assert_eq!(filter(app, "Location", "not(status eq active)"), not_active);
    assert_eq!(filter(app, "Location", "status ne active"), not_active);
    // Left to right: (a or b) and c.
    let any_status: BTreeSet<String> = d.locations.keys().cloned().collect();
    let left_to_right: BTreeSet<String> = any_status.intersection(&in_region).cloned().collect();
    assert_eq!(
        filter(app, "Location", &format!("status eq active or status ne active and _tag eq {region}")),
        left_to_right
    );
    // Capacity tests under one `and` describe one figure.
    let one = d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02") && f.nb > 0);
    assert_eq!(filter(app, "Location", "capacity-status eq 02 and nb-capacity gt 0"), one);
    let no_free = d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02"));
    let without: BTreeSet<String> = d.locations.keys().filter(|id| !no_free.contains(*id)).cloned().collect();
    assert_eq!(filter(app, "Location", "not(capacity-status eq 02)"), without, "no visible available figure");
    let figure_not = d.places_with_figure(1, |f| f.code("capacityStatus") != Some("02"));
    assert_eq!(filter(app, "Location", "capacity-status ne 02"), figure_not, "a figure of another status");
    // Dates, with prefixes as operators.
    let t = d.locations.values().nth(4).unwrap()["meta"]["lastUpdated"].as_str().unwrap().to_owned();
    let since = d.locations_where(|l| l["meta"]["lastUpdated"].as_str().unwrap() >= t.as_str());
    assert_eq!(filter(app, "Location", &format!("_lastUpdated ge {t}")), since);
    // The filter ANDs with the other parameters.
    let q = format!("Location?_tag={region}&_filter={}", enc("status eq active"));
    assert_eq!(ids(app, &q), both);
}

/// Offers: chained capacity tests are one figure of one place.
fn offers(app: &TestApp) {
    let d = &app.data;
    let one = d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02") && f.nb > 0);
    let expected: BTreeSet<String> = d
        .services
        .iter()
        .filter(|(_, s)| one.contains(s["location"][0]["reference"].as_str().unwrap().trim_start_matches("Location/")))
        .map(|(id, _)| id.clone())
        .collect();
    let got = filter(app, "HealthcareService", "location.capacity-status eq 02 and location.nb-capacity gt 0");
    assert_eq!(got, expected);
    let inactive: BTreeSet<String> =
        d.services.iter().filter(|(_, s)| s["active"] == false).map(|(id, _)| id.clone()).collect();
    assert_eq!(filter(app, "HealthcareService", "active eq false"), inactive);
}

/// Refusals: 400 OperationOutcome naming the problem.
fn refused(app: &TestApp) {
    for (expr, needle) in [
        ("nonsense eq 1", "nonsense"),
        ("_id gt 1", "gt"),
        ("name ew x", "ew"),
        ("status eq", "value"),
        ("(status eq active", ")"),
        ("status eq active)", ")"),
        ("status eqq active", "eqq"),
        ("identifier[system eq x].value eq 1", "sub-filter"),
        ("nb-capacity gt x", "nb-capacity"),
        ("capacity-update-date ap 2026", "ap"),
        ("((((((((((status eq active))))))))))", "nest"),
        ("", "empty"),
    ] {
        let r = app.get(&format!("Location?_filter={}", enc(expr)));
        assert_eq!(r.status, 400, "{expr}: {}", r.body);
        assert!(!issue_codes(&r.body).is_empty());
        let text = r.body.to_string().to_lowercase();
        assert!(text.contains(&needle.to_lowercase()), "{expr}: {text}");
    }
    let many = (0..40).map(|i| format!("_id eq x{i}")).collect::<Vec<_>>().join(" or ");
    assert_eq!(app.get(&format!("Location?_filter={}", enc(&many))).status, 400, "too many tests");
}

crate::both_backends!(ror_examples, logic, offers, refused);

/// A profile without capacity may not filter on capacity either; profile 0 matches only the
/// figures it sees.
fn profiles(backend: Backend) {
    let shared = crate::helpers::app(backend);
    let five = TestApp::builder(backend).insecure_profile(5).database(Arc::clone(&shared.db)).start();
    for (rt, expr) in [
        ("Location", "nb-capacity gt 0"),
        ("Location", "status eq active or capacity-status eq 02"),
        ("HealthcareService", "location.capacity-status eq 02"),
    ] {
        let r = five.get(&format!("{rt}?_filter={}", enc(expr)));
        assert_eq!(r.status, 403, "{rt} {expr}: {}", r.body);
    }
    assert_eq!(five.get(&format!("Location?_filter={}", enc("status eq active"))).status, 200);
    let zero = TestApp::builder(backend).insecure_profile(0).database(Arc::clone(&shared.db)).start();
    assert!(filter(&zero, "Location", "capacity-status eq 02").is_empty());
    let installed = zero.data.places_with_figure(0, |f| f.nb > 0);
    assert_eq!(filter(&zero, "Location", "capacity-status eq 01 and nb-capacity gt 0"), installed);
}

crate::each_backend!(profiles);

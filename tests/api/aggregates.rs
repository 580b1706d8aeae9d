//! The capacity aggregates (issue 14, item 1) over real mTLS on both backends: for every profile
//! and for a consumer limited to one region, each MeasureReport equals the sums over a full walk
//! of the places with the same certificate; what a consumer may not see (other regions, other
//! profiles' figures, sensitive places) counts nowhere; the searches, reads and refusals.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::helpers::figures::figures_of;
use crate::helpers::{Backend, Shared, TestApp, issue_codes, next_link};
use crate::pki::{ClientCert, pki};

fn aggregates_app(backend: Backend) -> &'static TestApp {
    static APPS: Shared = Shared::new();
    APPS.get(backend, || TestApp::builder(backend).tls().start())
}

/// (report id, capacity type, status, temporality) → summed nbCapacity.
type Sums = BTreeMap<(String, String, String, String), i64>;

/// The département of a place's commune, as the served Location gives it.
fn departement(place: &Value) -> String {
    let commune = place["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with("ror-commune-cog")))
        .and_then(|e| e["valueCodeableConcept"]["coding"][0]["code"].as_str())
        .unwrap_or_default();
    if commune.len() < 5 {
        String::new()
    } else if commune.starts_with("97") || commune.starts_with("98") {
        commune[..3].to_owned()
    } else {
        commune[..2].to_owned()
    }
}

/// The sums over a walk of every place `who` may see.
fn walked(app: &TestApp, who: &ClientCert) -> Sums {
    let mut sums = Sums::new();
    let mut url = "Location?_count=200".to_owned();
    loop {
        let (status, page) = app.get_as(who, &url);
        assert_eq!(status, 200, "{url}: {page}");
        for e in page["entry"].as_array().into_iter().flatten() {
            let place = &e["resource"];
            let region = place["meta"]["tag"][0]["code"].as_str().unwrap_or_default().to_owned();
            let areas = ["fr".to_owned(), format!("region-{region}"), format!("departement-{}", departement(place))];
            for f in figures_of(place) {
                let key = |area: &str| {
                    let code = |u: &str| f.code(u).unwrap_or_default().to_owned();
                    (area.to_owned(), code("capacityType"), code("capacityStatus"), code("temporalityCapacity"))
                };
                for area in &areas {
                    *sums.entry(key(area)).or_default() += f.nb;
                }
            }
        }
        match next_link(&page) {
            Some(next) => url = next,
            None => return sums,
        }
    }
}

/// The same sums read from the reports: the groups' populations (current figures) and the strata.
fn reported(reports: &Value) -> (Sums, Sums) {
    let (mut current, mut strata) = (Sums::new(), Sums::new());
    let code = |v: &Value| v["coding"][0]["code"].as_str().unwrap().to_owned();
    for e in reports["entry"].as_array().unwrap() {
        let r = &e["resource"];
        let id = r["id"].as_str().unwrap().to_owned();
        for g in r["group"].as_array().unwrap() {
            let kind = code(&g["code"]);
            for p in g["population"].as_array().unwrap() {
                let n = p["count"].as_i64().unwrap();
                current.insert((id.clone(), kind.clone(), code(&p["code"]), "01".into()), n);
            }
            for s in g["stratifier"][0]["stratum"].as_array().into_iter().flatten() {
                for p in s["population"].as_array().unwrap() {
                    let key = (id.clone(), kind.clone(), code(&p["code"]), code(&s["value"]));
                    strata.insert(key, p["count"].as_i64().unwrap());
                }
            }
        }
    }
    (current, strata)
}

fn nonzero(s: &Sums) -> Sums {
    s.iter().filter(|(_, n)| **n != 0).map(|(k, n)| (k.clone(), *n)).collect()
}

fn equal_to_the_walk(app: &TestApp, who: &ClientCert, name: &str) -> usize {
    let walk = walked(app, who);
    let (status, reports) = app.get_as(who, "MeasureReport?_count=500");
    assert_eq!(status, 200, "{name}: {reports}");
    let (current, strata) = reported(&reports);
    assert_eq!(nonzero(&strata), nonzero(&walk), "{name}: the strata are the walk's sums");
    let walk_current: Sums = walk.iter().filter(|((.., t), _)| t == "01").map(|(k, n)| (k.clone(), *n)).collect();
    assert_eq!(nonzero(&current), nonzero(&walk_current), "{name}: the populations count the current figures");
    reports["total"].as_u64().unwrap() as usize
}

fn every_consumer_sees_the_sum_of_its_walk(backend: Backend) {
    let app = aggregates_app(backend);
    let p = pki();
    let mut reports = Vec::new();
    for profile in 0..5 {
        reports.push(equal_to_the_walk(app, &p.profiles[profile], &format!("profile {profile}")));
    }
    assert_eq!(reports[1], 1 + 18 + 101, "France, every région, every département");
    // The regional consumer: France as its region, its région and départements only.
    let regional = equal_to_the_walk(app, &p.regional, "regional");
    assert!(regional < reports[1] && regional > 2, "{regional}");
    let (_, mine) = app.get_as(&p.regional, "MeasureReport?_count=500");
    let region = app.data.first_region();
    for e in mine["entry"].as_array().unwrap() {
        let id = e["resource"]["id"].as_str().unwrap();
        assert!(id == "fr" || id == format!("region-{region}") || id.starts_with("departement-"), "{id}");
    }
    let other = if region == "11" { "region-52" } else { "region-11" };
    let (status, body) = app.get_as(&p.regional, &format!("MeasureReport/{other}"));
    assert_eq!((status, issue_codes(&body)), (404, vec!["not-found".to_owned()]), "{body}");
    // Profile 5 sees no capacity: no aggregates either.
    let (status, body) = app.get_as(&p.profiles[5], "MeasureReport");
    assert_eq!(status, 403, "{body}");
    assert!(body["issue"][0]["diagnostics"].as_str().unwrap().contains("no access to capacity"), "{body}");
    assert_eq!(app.get_as(&p.services_only, "MeasureReport").0, 403, "a grant on offers only");
    // The Measure is open to the same consumers, read or searched.
    for (who, status) in [(&p.profiles[5], 403), (&p.services_only, 403), (&p.regional, 200), (&p.profiles[0], 200)] {
        for q in ["Measure", "Measure/ror-capacity-totals"] {
            assert_eq!(app.get_as(who, q).0, status, "{q}");
        }
    }
}

fn searches_reads_and_refusals(backend: Backend) {
    let app = aggregates_app(backend);
    let who = &pki().profiles[1];
    let (status, fr) = app.get_as(who, "MeasureReport/fr");
    assert_eq!(status, 200, "{fr}");
    assert_eq!(fr["subject"]["identifier"]["value"], "FR");
    assert_eq!(fr["type"], "summary");
    let system = "https://www.insee.fr/fr/metadonnees/cog/departement";
    let (_, found) = app.get_as(who, &format!("MeasureReport?subject:identifier={system}|2A"));
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["entry"][0]["resource"]["id"], "departement-2A");
    let (_, both) = app.get_as(who, "MeasureReport?subject:identifier=44");
    assert_eq!(both["total"], 2, "région 44 and département 44: {both}");
    let (_, none) = app.get_as(who, "MeasureReport?measure=http://example.org/Measure/other");
    assert_eq!(none["total"], 0);
    let at = fr["meta"]["lastUpdated"].as_str().unwrap();
    let (_, after) = app.get_as(who, &format!("MeasureReport?_id=fr&_lastUpdated=gt{at}"));
    assert_eq!(after["total"], 0, "{after}");
    let (_, since) = app.get_as(who, &format!("MeasureReport?_id=fr&_lastUpdated=ge{at}"));
    assert_eq!(since["total"], 1, "{since}");
    // Pages.
    let (_, first) = app.get_as(who, "MeasureReport?_count=50");
    assert_eq!(first["entry"].as_array().unwrap().len(), 50);
    let next = next_link(&first).expect("a next page");
    let (_, second) = app.get_as(who, &next);
    let ids = |b: &Value| -> Vec<String> {
        b["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()).collect()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(b.len(), 50);
    assert!(a.iter().all(|id| !b.contains(id)), "pages do not overlap");
    assert_eq!(second["total"], 120);
    // POST _search: the form body's parameters.
    let client = crate::pki::https_client(pki(), Some(who));
    let url = format!("{}/MeasureReport/_search", app.base);
    let post =
        |ct: &str, body: &str| client.post(&url).header("content-type", ct).body(body.to_owned()).send().unwrap();
    let posted: Value = post("application/x-www-form-urlencoded", "subject:identifier=44").json().unwrap();
    assert_eq!(posted["total"], 2, "{posted}");
    assert_eq!(post("text/plain", "x=1").status(), 415);
    assert_eq!(client.put(&url).send().unwrap().status(), 405);
    // Refusals.
    for (q, status) in [
        ("MeasureReport?subject=Location/1", 400),
        ("MeasureReport?_count=9999", 400),
        ("MeasureReport?_lastUpdated=yesterday", 400),
        ("MeasureReport/departement-20", 404),
        ("MeasureReport/..%2F..", 404),
        ("Measure/other", 404),
    ] {
        let (got, body) = app.get_as(who, q);
        assert_eq!(got, status, "{q}: {body}");
        assert_eq!(body["resourceType"], "OperationOutcome", "{q}");
    }
    let (status, measure) = app.get_as(who, "Measure/ror-capacity-totals");
    assert_eq!(status, 200);
    assert_eq!(measure["url"], fr["measure"]);
    resolves_the_measure(app, who, &measure);
}

/// A report's `measure` resolves by search (`Measure?url=…`), as FHIR resolves canonical URLs.
fn resolves_the_measure(app: &TestApp, who: &ClientCert, measure: &Value) {
    let url = serde_urlencoded::to_string([("url", measure["url"].as_str().unwrap())]).unwrap();
    let (status, found) = app.get_as(who, &format!("Measure?{url}"));
    assert_eq!(status, 200, "{found}");
    assert_eq!((found["type"].as_str(), found["total"].as_u64()), (Some("searchset"), Some(1)), "{found}");
    assert_eq!(found["entry"][0]["resource"], *measure);
    assert_eq!(found["entry"][0]["search"]["mode"], "match");
    let searches = [
        ("", 1, 1),
        ("_id=ror-capacity-totals&status=active&version=1", 1, 1),
        (&format!("{url}%7C1"), 1, 1),
        (&format!("{url}%7C2"), 0, 0),
        ("url=http://hl7.org/fhir/uv/saner/Measure/Beds", 0, 0),
        ("_id=other", 0, 0),
        ("status=draft", 0, 0),
        ("_count=0", 1, 0),
    ];
    for (q, total, entries) in searches {
        let (status, b) = app.get_as(who, &format!("Measure?{q}"));
        assert_eq!(status, 200, "{q}: {b}");
        assert_eq!(b["total"], total, "{q}");
        assert_eq!(b["entry"].as_array().map_or(0, Vec::len), entries, "{q}");
    }
    for q in ["Measure?title=x", "Measure?_count=9999", "Measure?url:below=https://ror-capacity.github.io"] {
        let (status, body) = app.get_as(who, q);
        assert_eq!((status, body["resourceType"].as_str()), (400, Some("OperationOutcome")), "{q}: {body}");
    }
    // POST _search, and the validator: the same search answers 304 to its own ETag.
    let client = crate::pki::https_client(pki(), Some(who));
    let posted = client
        .post(format!("{}/Measure/_search", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(url.clone())
        .send()
        .unwrap();
    assert_eq!(posted.status(), 200);
    let etag = posted.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(posted.json::<Value>().unwrap()["total"], 1);
    let again = client.get(format!("{}/Measure?{url}", app.base)).header("if-none-match", &etag).send().unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(client.delete(format!("{}/Measure", app.base)).send().unwrap().status(), 405);
}

/// The reports follow an import (they are remembered per data generation): a changed figure moves
/// them, and they still equal the walk.
fn an_import_moves_the_reports(backend: Backend) {
    let app = TestApp::builder(backend).tls().start();
    let who = &pki().profiles[1];
    let sensitive = app.data.sensitive_locations();
    let (id, place) =
        app.data.locations.iter().find(|(id, p)| !sensitive.contains(*id) && !figures_of(p).is_empty()).unwrap();
    let (_, before) = app.get_as(who, "MeasureReport/fr");
    let nb = figures_of(place)[0].nb + 1000;
    crate::helpers::figures::change_figure(&app, id, nb);
    let (_, after) = app.get_as(who, "MeasureReport/fr");
    assert_ne!(before["group"], after["group"], "the counts moved");
    let at = |r: &Value| r["meta"]["lastUpdated"].as_str().unwrap().to_owned();
    assert!(at(&after) > at(&before), "lastUpdated moves: {} then {}", at(&before), at(&after));
    equal_to_the_walk(&app, who, "after the import");
}

crate::each_backend!(every_consumer_sees_the_sum_of_its_walk, searches_reads_and_refusals, an_import_moves_the_reports);

//! Every search parameter and result parameter, checked against the dataset.

use std::collections::BTreeSet;

use crate::helpers::{Dataset, TestApp, enc, entry_ids, issue_codes, match_ids};

fn lu(v: &serde_json::Value) -> &str {
    v["meta"]["lastUpdated"].as_str().unwrap()
}

fn total(app: &TestApp, q: &str) -> u64 {
    let r = app.get(q);
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.body["total"].as_u64().unwrap()
}

/// Each prefix at each precision, against counts computed on the dataset's instants.
fn last_updated_prefixes_and_precisions(app: &TestApp) {
    let d = &app.data;
    let count = |pred: &dyn Fn(&str) -> bool| d.locations.values().filter(|l| pred(lu(l))).count() as u64;
    // A real instant of the dataset, and the boundaries of its implicit ranges (text compare, all UTC `Z`).
    let t = lu(d.locations.values().nth(5).unwrap()).to_owned();
    let (year, month, day, minute) = (&t[..4], &t[..7], &t[..10], &t[..16]);
    let next_year = format!("{}", year.parse::<i32>().unwrap() + 1);
    let cases: Vec<(String, String, String)> = vec![
        // (value, start inclusive, end exclusive) as instant text prefixes.
        (year.to_owned(), format!("{year}-01-01T00:00:00Z"), format!("{next_year}-01-01T00:00:00Z")),
        (month.to_owned(), format!("{month}-01T00:00:00Z"), next_month(month)),
        (day.to_owned(), format!("{day}T00:00:00Z"), next_day(day)),
        (minute.to_owned(), format!("{minute}:00Z"), format!("{minute}:59Z~")),
        (t.clone(), t.clone(), format!("{t}~")),
    ];
    for (value, start, end) in &cases {
        let within = |x: &str| x >= start.as_str() && x < end.as_str();
        let v = enc(value);
        assert_eq!(total(app, &format!("Location?_lastUpdated={v}")), count(&within), "eq {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=eq{v}")), count(&within), "eq {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=ne{v}")), count(&|x| !within(x)), "ne {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=gt{v}")), count(&|x| x >= end.as_str()), "gt {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=sa{v}")), count(&|x| x >= end.as_str()), "sa {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=ge{v}")), count(&|x| x >= start.as_str()), "ge {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=lt{v}")), count(&|x| x < start.as_str()), "lt {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=eb{v}")), count(&|x| x < start.as_str()), "eb {value}");
        assert_eq!(total(app, &format!("Location?_lastUpdated=le{v}")), count(&|x| x < end.as_str()), "le {value}");
    }
    // The instant itself is inside its own second, and a zone moves the range.
    let r = app.get(&format!("Location?_lastUpdated=eq{}", enc(&t)));
    assert!(match_ids(&r.body).contains(d.locations.iter().nth(5).unwrap().0));
    let plus_one = format!("{}+01:00", &t[..19]);
    assert_eq!(
        total(app, &format!("Location?_lastUpdated=eq{}", enc(&plus_one))),
        count(&|x| { x == shift_hours(&t, -1) })
    );
    // Two _lastUpdated parameters are ANDed: a window.
    let (lo, hi) = (cases[2].1.clone(), cases[2].2.clone());
    assert_eq!(
        total(app, &format!("Location?_lastUpdated=ge{}&_lastUpdated=lt{}", enc(&lo), enc(&hi))),
        count(&|x| x >= lo.as_str() && x < hi.as_str())
    );
}

fn next_month(month: &str) -> String {
    let (y, m) = (month[..4].parse::<i32>().unwrap(), month[5..7].parse::<u32>().unwrap());
    if m == 12 { format!("{}-01-01T00:00:00Z", y + 1) } else { format!("{y}-{:02}-01T00:00:00Z", m + 1) }
}

fn next_day(day: &str) -> String {
    let d = chrono_like_next_day(day);
    format!("{d}T00:00:00Z")
}

fn chrono_like_next_day(day: &str) -> String {
    let us = ror_capacity::search::date::parse_instant_us(&format!("{day}T00:00:00Z")).unwrap() + 86_400_000_000;
    ror_capacity::search::date::format_instant(us)[..10].to_owned()
}

fn shift_hours(t: &str, h: i64) -> String {
    let us = ror_capacity::search::date::parse_instant_us(t).unwrap() + h * 3_600_000_000;
    ror_capacity::search::date::format_instant(us)
}

/// name, address-postalcode, status, type, _tag.
fn location_attributes(app: &TestApp) {
    let d = &app.data;
    let (id, loc) = d.locations.iter().nth(3).unwrap();
    let name = loc["name"].as_str().unwrap();
    let prefix: String = name.chars().take(6).collect();
    let norm = ror_capacity::search::normalize(&prefix);
    let expected: BTreeSet<String> = d.locations_where(|l| {
        ror_capacity::search::normalize(l["name"].as_str().unwrap_or_default()).starts_with(&norm)
    });
    let r = app.get(&format!("Location?name={}&_count=200", enc(&prefix.to_uppercase())));
    assert_eq!(match_ids(&r.body), expected, "name starts-with ignores case and accents");
    let r = app.get(&format!("Location?name:exact={}&_count=200", enc(name)));
    assert!(match_ids(&r.body).contains(id));
    assert!(match_ids(&r.body).iter().all(|i| d.locations[i]["name"] == name));
    let r = app.get(&format!("Location?name:exact={}", enc(&name.to_uppercase())));
    assert!(!match_ids(&r.body).contains(id) || name == name.to_uppercase());
    // address-postalcode: département prefixes, as the ROR's regional queries do.
    let pc = loc["address"]["postalCode"].as_str().unwrap();
    let dep = &pc[..2];
    let expected = d.locations_where(|l| {
        l["address"]["postalCode"].as_str().is_some_and(|p| p.starts_with(dep) || p.starts_with("97"))
    });
    let r = app.get(&format!("Location?address-postalcode={dep},97&_count=200"));
    assert_eq!(match_ids(&r.body), expected);
    // status and type tokens.
    let active = d.locations_where(|l| l["status"] == "active");
    assert_eq!(total(app, "Location?status=active"), active.len() as u64);
    assert_eq!(total(app, "Location?status=http://hl7.org/fhir/location-status|active"), active.len() as u64);
    assert_eq!(total(app, "Location?status=inactive,suspended"), (d.locations.len() - active.len()) as u64);
    let fl = "https://mos.esante.gouv.fr/NOS/TRE_R343-FonctionLieu/FHIR/TRE-R343-FonctionLieu";
    assert_eq!(total(app, &format!("Location?type={}", enc(&format!("{fl}|001")))), d.locations.len() as u64);
    assert_eq!(total(app, &format!("Location?type={}", enc("http://other|001"))), 0);
    // _tag: the source region.
    let region = loc["meta"]["tag"][0]["code"].as_str().unwrap();
    let expected = d.locations_where(|l| l["meta"]["tag"][0]["code"] == region);
    let r = app.get(&format!("Location?_tag={region}&_count=200"));
    assert_eq!(match_ids(&r.body), expected);
}

/// HealthcareService, Organization and Observation searches.
fn other_types(app: &TestApp) {
    let d = &app.data;
    // An offer whose place is not linked to a sensitive unit (those places show no capacity).
    let sensitive = d.sensitive_locations();
    let (sid, svc) = d
        .services
        .iter()
        .skip(11)
        .find(|(_, s)| {
            !sensitive.contains(s["location"][0]["reference"].as_str().unwrap().trim_start_matches("Location/"))
        })
        .unwrap();
    let ident = Dataset::identifier(svc, None).unwrap();
    let r = app.get(&format!("HealthcareService?identifier={}&_include=HealthcareService:location", enc(&ident)));
    assert_eq!(match_ids(&r.body), BTreeSet::from([sid.clone()]));
    let loc_ref = svc["location"][0]["reference"].as_str().unwrap();
    let loc_id = loc_ref.trim_start_matches("Location/");
    assert_eq!(entry_ids(&r.body, "include"), BTreeSet::from([loc_id.to_owned()]));
    let expected = d.services_of(&BTreeSet::from([loc_id.to_owned()]));
    assert_eq!(match_ids(&app.get(&format!("HealthcareService?location={loc_ref}")).body), expected);
    assert_eq!(match_ids(&app.get(&format!("HealthcareService?location={loc_id}")).body), expected);
    let org = svc["providedBy"]["reference"].as_str().unwrap();
    let expected: BTreeSet<String> =
        d.services.iter().filter(|(_, s)| s["providedBy"]["reference"] == org).map(|(i, _)| i.clone()).collect();
    assert_eq!(match_ids(&app.get(&format!("HealthcareService?organization={org}&_count=200")).body), expected);
    // Organization by FINESS.
    let (oid, o) = d.organizations.iter().next().unwrap();
    let finess = Dataset::identifier(o, None).unwrap();
    assert_eq!(match_ids(&app.get(&format!("Organization?identifier={finess}")).body), BTreeSet::from([oid.clone()]));
    assert_eq!(app.get(&format!("Organization/{oid}")).body["id"], oid.as_str());
    observations_of_place(app, loc_id);
    observations_by_code(app, &sensitive);
}

/// The Observations of place `loc_id`: one per capacity figure, subject = the Location.
fn observations_of_place(app: &TestApp, loc_id: &str) {
    let d = &app.data;
    let loc = &d.locations[loc_id];
    let figures: Vec<&serde_json::Value> = loc["extension"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"))
        .collect();
    let r = app.get(&format!("Observation?subject=Location/{loc_id}"));
    assert_eq!(r.body["total"], figures.len());
    // Each figure is one Observation (ids follow the figure, not its position: compare as sets).
    let of_figure = |f: &serde_json::Value| {
        let sub = |url: &str| f["extension"].as_array().unwrap().iter().find(|s| s["url"] == url).unwrap().clone();
        let code = |url: &str| sub(url)["valueCodeableConcept"]["coding"][0]["code"].clone();
        (
            sub("nbCapacity")["valueInteger"].clone(),
            sub("capacityUpdateDate")["valueDateTime"].clone(),
            code("capacityType"),
            code("capacityStatus"),
        )
            .to_owned()
    };
    let of_observation = |o: &serde_json::Value| {
        (
            o["valueInteger"].clone(),
            o["effectiveDateTime"].clone(),
            o["code"]["coding"][0]["code"].clone(),
            o["code"]["coding"][1]["code"].clone(),
        )
    };
    let entries = r.body["entry"].as_array().unwrap();
    let mut served: Vec<String> = entries.iter().map(|e| format!("{:?}", of_observation(&e["resource"]))).collect();
    let mut expected: Vec<String> = figures.iter().map(|f| format!("{:?}", of_figure(f))).collect();
    served.sort();
    expected.sort();
    assert_eq!(served, expected);
    let obs = &entries[0]["resource"];
    assert_eq!(obs["status"], "final");
    assert_eq!(obs["subject"]["reference"], format!("Location/{loc_id}"));
    let obs_id = obs["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("Observation/{obs_id}")).body["id"], obs_id);
}

/// Observations by `code`: TRE_R330 status "01" (installé) across the places whose figures show.
fn observations_by_code(app: &TestApp, sensitive: &BTreeSet<String>) {
    let d = &app.data;
    let installed: usize = d
        .locations
        .iter()
        .filter(|(id, _)| !sensitive.contains(*id))
        .map(|(_, l)| l)
        .flat_map(|l| l["extension"].as_array().unwrap().iter())
        .filter(|e| e["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"))
        .filter(|e| {
            e["extension"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["url"] == "capacityStatus" && s["valueCodeableConcept"]["coding"][0]["code"] == "01")
        })
        .count();
    let r330 = "https://mos.esante.gouv.fr/NOS/TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite";
    assert_eq!(total(app, &format!("Observation?code={}", enc(&format!("{r330}|01")))), installed as u64);
}

/// _count, _summary=count, _total=none, _elements, _sort.
fn result_parameters(app: &TestApp) {
    let n = app.data.locations.len();
    let r = app.get("Location?_summary=count");
    assert_eq!((r.body["total"].as_u64(), r.body.get("entry").is_none()), (Some(n as u64), true));
    let r = app.get("Location?_count=0");
    assert_eq!(r.body["total"], n);
    assert!(r.body.get("entry").is_none());
    let r = app.get("Location?_count=7&_total=none");
    assert!(r.body.get("total").is_none());
    assert_eq!(match_ids(&r.body).len(), 7);
    // _count above the maximum is clamped to 200, with a warning entry.
    let r = app.get("Location?_count=5000");
    assert_eq!(match_ids(&r.body).len(), 200);
    assert_eq!(entry_ids(&r.body, "outcome").len(), 1);
    // _elements keeps the asked elements plus id/meta, and tags SUBSETTED.
    let r = app.get("Location?_count=3&_elements=name,identifier");
    for e in r.body["entry"].as_array().unwrap() {
        let res = e["resource"].as_object().unwrap();
        let keys: BTreeSet<&str> = res.keys().map(String::as_str).collect();
        assert!(keys.is_subset(&BTreeSet::from(["resourceType", "id", "meta", "name", "identifier"])), "{keys:?}");
        assert!(res["meta"]["tag"].as_array().unwrap().iter().any(|t| t["code"] == "SUBSETTED"));
    }
    assert_eq!(issue_codes(&app.get("Location?_elements=nonsense").body), vec!["invalid"]);
    // _sort orders.
    let ids: Vec<String> = app.walk("Location?_sort=-_id&_count=100").matches;
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
    let w = app.walk("Location?_sort=_lastUpdated&_count=64");
    let stamps: Vec<(&str, &str)> = w.matches.iter().map(|i| (lu(&app.data.locations[i]), i.as_str())).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable();
    assert_eq!(stamps, sorted);
    assert_eq!(w.matches.len(), n);
}

/// Reads of every type, and their FHIR shape.
fn reads(app: &TestApp) {
    let sensitive = app.data.sensitive_locations();
    let (id, loc) = app.data.locations.iter().find(|(id, _)| !sensitive.contains(*id)).unwrap();
    let r = app.get(&format!("Location/{id}"));
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/fhir+json"));
    assert!(r.headers.contains_key("last-modified"));
    // What was imported is served, unchanged (meta.lastUpdated included: the source's is kept).
    assert_eq!(&r.body, loc);
    let (sid, svc) = app.data.services.iter().next().unwrap();
    assert_eq!(&app.get(&format!("HealthcareService/{sid}")).body, svc);
    // A place linked to a sensitive unit is served without any capacity figure.
    let hidden = sensitive.iter().next().unwrap();
    let r = app.get(&format!("Location/{hidden}"));
    assert_eq!(r.status, 200);
    let caps = r.body["extension"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"))
        .count();
    assert_eq!(caps, 0);
    assert_eq!(app.get(&format!("Observation?subject=Location/{hidden}")).body["total"], 0);
}

crate::both_backends!(last_updated_prefixes_and_precisions, location_attributes, other_types, result_parameters, reads);

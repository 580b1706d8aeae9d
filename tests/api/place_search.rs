//! The place parameters of Location (operational-status, address-city, commune-cog, organization,
//! partof, near), the offer parameters of HealthcareService, the `location.*` chains and the
//! organization includes; expected ids from the dataset's JSON.

use std::collections::BTreeSet;

use ror_capacity::search::near::distance_km;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, enc, entry_ids, issue_codes, scratch_dir};

fn ids(app: &TestApp, query: &str) -> BTreeSet<String> {
    app.walk(&format!("{query}&_count=200")).matches.into_iter().collect()
}

fn code_of(concept: &Value) -> (&str, &str) {
    let c = if concept["coding"].is_array() { &concept["coding"][0] } else { concept };
    (c["system"].as_str().unwrap_or_default(), c["code"].as_str().unwrap_or_default())
}

fn reference_id(r: &Value) -> String {
    r["reference"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

/// operational-status, address-city, commune-cog, organization.
fn place_attributes(app: &TestApp) {
    let d = &app.data;
    let place = d.locations.values().nth(7).unwrap();
    let (system, code) = code_of(&place["operationalStatus"]);
    let same = d.locations_where(|l| code_of(&l["operationalStatus"]).1 == code);
    assert_eq!(ids(app, &format!("Location?operational-status={code}")), same);
    assert_eq!(ids(app, &format!("Location?operational-status={}", enc(&format!("{system}|{code}")))), same);
    assert!(ids(app, &format!("Location?operational-status={}", enc(&format!("http://x|{code}")))).is_empty());
    // address-city: starts with, ignoring case and accents; :exact; :contains.
    let city = place["address"]["city"].as_str().unwrap();
    let norm = |s: &str| ror_capacity::search::normalize(s);
    let prefix: String = city.chars().take(4).collect();
    let starts = d.locations_where(|l| norm(l["address"]["city"].as_str().unwrap_or("")).starts_with(&norm(&prefix)));
    assert_eq!(ids(app, &format!("Location?address-city={}", enc(&prefix.to_uppercase()))), starts);
    let exact = d.locations_where(|l| l["address"]["city"] == city);
    assert_eq!(ids(app, &format!("Location?address-city:exact={}", enc(city))), exact);
    let middle: String = city.chars().skip(1).take(3).collect();
    let contains = d.locations_where(|l| norm(l["address"]["city"].as_str().unwrap_or("")).contains(&norm(&middle)));
    assert_eq!(ids(app, &format!("Location?address-city:contains={}", enc(&middle))), contains);
    // commune-cog: the ror-commune-cog extension.
    let cog = |l: &Value| {
        l["extension"].as_array().unwrap().iter().find(|e| e["url"].as_str().unwrap().ends_with("ror-commune-cog")).map(
            |e| {
                let (s, c) = code_of(&e["valueCodeableConcept"]);
                (s.to_owned(), c.to_owned())
            },
        )
    };
    let (cog_system, cog_code) = cog(place).expect("a commune");
    let same = d.locations_where(|l| cog(l).is_some_and(|(_, c)| c == cog_code));
    assert_eq!(ids(app, &format!("Location?commune-cog={cog_code}")), same);
    assert_eq!(ids(app, &format!("Location?commune-cog={}", enc(&format!("{cog_system}|{cog_code}")))), same);
    // organization: the managing organization, as id or Organization/id.
    let org = reference_id(&place["managingOrganization"]);
    let managed = d.locations_where(|l| reference_id(&l["managingOrganization"]) == org);
    assert_eq!(ids(app, &format!("Location?organization={org}")), managed);
    assert_eq!(ids(app, &format!("Location?organization=Organization/{org}")), managed);
    assert_eq!(ids(app, &format!("Location?organization:Organization={org}")), managed);
    // _include=Location:organization: the managing organizations of the page.
    let r = app.get(&format!("Location?organization={org}&_include=Location:organization"));
    assert_eq!(entry_ids(&r.body, "include"), BTreeSet::from([org.clone()]));
    let r = app.get("Location?_count=20&_include=Location:organization");
    let page = entry_ids(&r.body, "match");
    let orgs: BTreeSet<String> = page.iter().map(|id| reference_id(&d.locations[id]["managingOrganization"])).collect();
    assert_eq!(entry_ids(&r.body, "include"), orgs);
}

/// near: every place within the distance (great circle), in km and m, and nothing beyond.
fn near(app: &TestApp) {
    let d = &app.data;
    let pos = |l: &Value| (l["position"]["latitude"].as_f64().unwrap(), l["position"]["longitude"].as_f64().unwrap());
    let centre = pos(d.locations.values().nth(11).unwrap());
    for (value, km) in [("5|km", 5.0), ("3000|m", 3.0), ("40", 40.0), ("0.5|km", 0.5)] {
        let q = format!("Location?near={}", enc(&format!("{}|{}|{value}", centre.0, centre.1)));
        let got = ids(app, &q);
        for (id, l) in &d.locations {
            let dist = distance_km(centre, pos(l));
            if dist < km - 0.001 {
                assert!(got.contains(id), "{q}: {id} at {dist} km is near");
            } else if dist > km + 0.001 {
                assert!(!got.contains(id), "{q}: {id} at {dist} km is not near");
            }
        }
        assert!(!got.is_empty(), "{q}: the centre itself");
    }
    // Default distance (10 km), with a capacity condition on one figure.
    let within = |km: f64| d.locations_where(|l| distance_km(centre, pos(l)) < km);
    let default = ids(app, &format!("Location?near={}", enc(&format!("{}|{}", centre.0, centre.1))));
    assert!(default.is_superset(&within(9.999)) && default.is_subset(&within(10.001)));
    let free = d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02") && f.nb > 0);
    let q = format!(
        "Location?near={}&capacity-status=02&nb-capacity=gt0",
        enc(&format!("{}|{}|40|km", centre.0, centre.1))
    );
    let expected: BTreeSet<String> = within(40.0).intersection(&free).cloned().collect();
    assert_eq!(ids(app, &q), expected);
    for bad in ["48", "x|2|5", "91|2", "48|2|-1", "48|2|5|mi", "48|2|5|km|x", "48|2,49|2"] {
        let r = app.get(&format!("Location?near={}", enc(bad)));
        assert_eq!(r.status, 400, "near={bad}: {}", r.body);
        assert_eq!(issue_codes(&r.body), vec!["invalid"], "near={bad}");
    }
}

/// The offer parameters: name, service-type, specialty, characteristic, active; their
/// organization include.
fn offer_attributes(app: &TestApp) {
    let d = &app.data;
    let offers_where = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        d.services.iter().filter(|(_, s)| pred(s)).map(|(id, _)| id.clone()).collect()
    };
    let offer = d.services.values().nth(5).unwrap();
    for (param, key) in [("service-type", "type"), ("specialty", "specialty"), ("characteristic", "characteristic")] {
        let (system, code) = code_of(&offer[key][0]);
        let expected = offers_where(&|s| s[key].as_array().unwrap().iter().any(|c| code_of(c).1 == code));
        assert_eq!(ids(app, &format!("HealthcareService?{param}={code}")), expected, "{param}={code}");
        let q = format!("HealthcareService?{param}={}", enc(&format!("{system}|{code}")));
        assert_eq!(ids(app, &q), expected, "{q}");
    }
    let inactive = offers_where(&|s| s["active"] == false);
    assert!(!inactive.is_empty());
    assert_eq!(ids(app, "HealthcareService?active=false"), inactive);
    assert_eq!(ids(app, "HealthcareService?active=true").len(), d.services.len() - inactive.len());
    assert_eq!(app.get("HealthcareService?active=yes").status, 400);
    let name = offer["name"].as_str().unwrap();
    let prefix: String = name.chars().take(5).collect();
    let norm = |s: &str| ror_capacity::search::normalize(s);
    let expected = offers_where(&|s| norm(s["name"].as_str().unwrap_or("")).starts_with(&norm(&prefix)));
    assert_eq!(ids(app, &format!("HealthcareService?name={}", enc(&prefix.to_lowercase()))), expected);
    assert_eq!(ids(app, &format!("HealthcareService?name:exact={}", enc(name))), offers_where(&|s| s["name"] == name));
    let r = app.get("HealthcareService?_count=10&_include=HealthcareService:organization");
    let providers: BTreeSet<String> =
        entry_ids(&r.body, "match").iter().map(|id| reference_id(&d.services[id]["providedBy"])).collect();
    assert_eq!(entry_ids(&r.body, "include"), providers);
    assert_eq!(app.get("HealthcareService?_include=HealthcareService:nonsense").status, 400);
    assert_eq!(app.get("Location?_include=HealthcareService:location").status, 400);
}

/// The IG's offer search: chained capacity parameters are one figure of one place the consumer
/// sees; other chained parameters are conditions on one of the offer's places; the places come
/// with `_include`.
fn chains(app: &TestApp) {
    let d = &app.data;
    let free_beds = d.places_with_figure(1, |f| {
        f.code("capacityType") == Some("01") && f.code("capacityStatus") == Some("02") && f.nb > 0
    });
    let offer = d.services.iter().find(|(_, s)| free_beds.contains(&reference_id(&s["location"][0]))).unwrap().1;
    let (system, code) = code_of(&offer["specialty"][0]);
    let expected: BTreeSet<String> = d
        .services
        .iter()
        .filter(|(_, s)| code_of(&s["specialty"][0]).1 == code && free_beds.contains(&reference_id(&s["location"][0])))
        .map(|(id, _)| id.clone())
        .collect();
    let q = format!(
        "HealthcareService?specialty={}&location.capacity-type=01&location.capacity-status=02&location.nb-capacity=gt0\
         &_include=HealthcareService:location",
        enc(&format!("{system}|{code}"))
    );
    let r = app.get(&format!("{q}&_count=200"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(entry_ids(&r.body, "match"), expected);
    let places: BTreeSet<String> = expected.iter().map(|id| reference_id(&d.services[id]["location"][0])).collect();
    assert_eq!(entry_ids(&r.body, "include"), places);
    // The capacity chains are one figure: not three conditions on different figures.
    let apart_status = d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02"));
    let apart_count = d.places_with_figure(1, |f| f.nb > 0);
    let apart: BTreeSet<String> = d
        .services
        .iter()
        .filter(|(_, s)| {
            let p = reference_id(&s["location"][0]);
            apart_status.contains(&p) && apart_count.contains(&p)
        })
        .map(|(id, _)| id.clone())
        .collect();
    let one: BTreeSet<String> = d
        .services
        .iter()
        .filter(|(_, s)| {
            let p = reference_id(&s["location"][0]);
            d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02") && f.nb > 0).contains(&p)
        })
        .map(|(id, _)| id.clone())
        .collect();
    assert_ne!(one, apart, "the dataset tells the readings apart");
    assert_eq!(ids(app, "HealthcareService?location.capacity-status=02&location.nb-capacity=gt0"), one);
    // A place attribute through the chain.
    let place = d.locations.values().nth(2).unwrap();
    let city = place["address"]["city"].as_str().unwrap();
    let in_city: BTreeSet<String> = d
        .services
        .iter()
        .filter(|(_, s)| d.locations[&reference_id(&s["location"][0])]["address"]["city"] == city)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(ids(app, &format!("HealthcareService?location.address-city:exact={}", enc(city))), in_city);
    for bad in
        ["location.nonsense=1", "location._has:x=1", "location.nb-capacity=x", "location.capacity-status:exact=02"]
    {
        let r = app.get(&format!("HealthcareService?{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(app.get("Location?location.capacity-status=02").status, 400, "chains are on offers");
}

/// `_sort=near`: nearest first, keyset-paged, each match with its distance.
fn sort_near(app: &TestApp) {
    let d = &app.data;
    let pos = |l: &Value| (l["position"]["latitude"].as_f64().unwrap(), l["position"]["longitude"].as_f64().unwrap());
    let centre = pos(d.locations.values().nth(17).unwrap());
    let mut expected: Vec<(f64, String)> = d
        .locations
        .iter()
        .map(|(id, l)| (distance_km(centre, pos(l)), id.clone()))
        .filter(|(km, _)| *km <= 60.0)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    assert!(expected.len() > 7, "several pages");
    let mut url = format!("Location?near={}&_sort=near&_count=3", enc(&format!("{}|{}|60|km", centre.0, centre.1)));
    let mut got: Vec<(f64, String)> = Vec::new();
    loop {
        let r = app.get(&url);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["total"].as_u64(), Some(expected.len() as u64));
        for e in r.body["entry"].as_array().into_iter().flatten() {
            let ext = &e["search"]["extension"][0];
            assert_eq!(ext["url"], "http://hl7.org/fhir/StructureDefinition/location-distance");
            assert_eq!(ext["valueDistance"]["code"], "m");
            let m = ext["valueDistance"]["value"].as_f64().unwrap();
            got.push((m, e["resource"]["id"].as_str().unwrap().to_owned()));
        }
        match crate::helpers::next_link(&r.body) {
            Some(next) => url = next.split("/fhir/").nth(1).unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(got.len(), expected.len());
    for ((m, id), (km, want)) in got.iter().zip(&expected) {
        assert!((m - km * 1000.0).abs() <= 1.0, "{id}: {m} m against {km} km");
        // Equal distances (to the metre) may come in either order of the oracle; the ids agree otherwise.
        if (m - km * 1000.0).abs() < 0.5 && id != want {
            assert!(expected.iter().any(|(k, i)| i == id && (k * 1000.0 - m).abs() <= 1.0));
        }
    }
    let distances: Vec<f64> = got.iter().map(|(m, _)| *m).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first: {distances:?}");
    let ids: BTreeSet<&String> = got.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), got.len(), "no place twice across pages");
    assert_eq!(app.get("Location?_sort=near").status, 400, "_sort=near needs near");
    let q = format!("Location?near={}&_sort=-near", enc(&format!("{}|{}", centre.0, centre.1)));
    assert_eq!(app.get(&q).status, 400, "farthest first is not offered");
    assert_eq!(app.get("HealthcareService?_sort=near").status, 400);
}

crate::both_backends!(place_attributes, near, sort_near, offer_attributes, chains);

/// partof, with a place that is part of another (the generated data has none), and a database
/// written before this version's index: the start-up re-derives it.
fn part_of_and_reindex(backend: Backend) {
    let d = crate::helpers::dataset();
    let (parent_id, parent) = d.locations.iter().next().unwrap();
    let mut child = parent.clone();
    child["id"] = json!("child-1");
    child["partOf"] = json!({"reference": format!("Location/{parent_id}")});
    let mut identifier = parent["identifier"][0].clone();
    identifier["value"] = json!("00/child-1");
    child["identifier"] = json!([identifier]);
    let file = scratch_dir("partof").join("child.ndjson");
    std::fs::write(&file, format!("{child}\n")).unwrap();
    let app = TestApp::builder(backend).import(file.clone()).start();
    assert_eq!(ids(&app, &format!("Location?partof={parent_id}")), BTreeSet::from(["child-1".to_owned()]));
    assert_eq!(ids(&app, &format!("Location?partof=Location/{parent_id}")).len(), 1);
    assert!(ids(&app, "Location?partof=child-1").is_empty());
    // As written by the previous version: no new tokens, columns or positions, no index version.
    {
        use diesel::RunQueryDsl;
        let mut conn = ror_capacity::db::connect(&app.db.db_url(), false).unwrap();
        for stmt in [
            "DELETE FROM search_tokens WHERE param IN ('operational-status', 'commune-cog', 'specialty', 'active')",
            "UPDATE locations SET part_of_id = NULL, city_norm = NULL",
            "DELETE FROM location_positions",
            "DELETE FROM search_index_state",
        ] {
            diesel::sql_query(stmt).execute(&mut conn).unwrap();
        }
    }
    assert!(ids(&app, &format!("Location?partof={parent_id}")).is_empty(), "the stale index is read");
    ror_capacity::startup::migrate(&app.db.db_url()).unwrap();
    assert_eq!(ids(&app, &format!("Location?partof={parent_id}")).len(), 1, "re-derived");
    let city = parent["address"]["city"].as_str().unwrap();
    assert!(ids(&app, &format!("Location?address-city={}", enc(city))).contains(parent_id));
    assert!(!ids(&app, "HealthcareService?active=true").is_empty());
    let pos = &parent["position"];
    let q = format!("Location?near={}", enc(&format!("{}|{}|1|m", pos["latitude"], pos["longitude"])));
    assert!(ids(&app, &q).contains(parent_id));
}

crate::each_backend!(part_of_and_reindex);

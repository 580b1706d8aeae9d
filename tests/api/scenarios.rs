//! The five consultation scenarios of the ROR capacity use case, with exact expected ids derived
//! from the generated dataset.

use std::collections::BTreeSet;

use crate::helpers::{Dataset, TestApp, enc, entry_ids, match_ids};

const REV: &str = "_revinclude=HealthcareService:location";
const LOCATION_ID_SYSTEM: &str =
    "https://mos.esante.gouv.fr/NOS/JDV_J236-TypologieIdentifiantLieu-ROR/FHIR/JDV-J236-TypologieIdentifiantLieu-ROR";

fn set<const N: usize>(ids: [&str; N]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// Scenario 1: every place of France, paged, with their offers.
fn scenario1_all_of_france(app: &TestApp) {
    let w = app.walk(&format!("Location?{REV}&_count=40"));
    let expected: BTreeSet<String> = app.data.locations.keys().cloned().collect();
    let got: BTreeSet<String> = w.matches.iter().cloned().collect();
    assert_eq!(got.len(), w.matches.len(), "duplicates across pages");
    assert_eq!(got, expected);
    assert_eq!(w.pages, expected.len().div_ceil(40));
    assert!(w.totals.iter().all(|t| *t == Some(expected.len() as u64)), "{:?}", w.totals);
    let all_services: BTreeSet<String> = app.data.services.keys().cloned().collect();
    let included: BTreeSet<String> = w.includes.iter().cloned().collect();
    assert_eq!(included, all_services);
}

/// Scenario 2: one place by its functional id (type 25) or external sync id (type 26).
fn scenario2_one_place(app: &TestApp) {
    let (id, loc) = app.data.locations.iter().nth(17).unwrap();
    let fid = Dataset::identifier(loc, Some("25")).unwrap();
    let one = set([id.as_str()]);
    let r = app.get(&format!("Location?identifier={}&{REV}", enc(&fid)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(match_ids(&r.body), one);
    assert_eq!(r.body["total"], 1);
    assert_eq!(entry_ids(&r.body, "include"), app.data.services_of(&one));
    // system|value and the external synchronisation id.
    let r = app.get(&format!("Location?identifier={}", enc(&format!("{LOCATION_ID_SYSTEM}|{fid}"))));
    assert_eq!(match_ids(&r.body), one);
    let (ext_id, ext_loc) =
        app.data.locations.iter().find(|(_, l)| Dataset::identifier(l, Some("26")).is_some()).unwrap();
    let ext = Dataset::identifier(ext_loc, Some("26")).unwrap();
    let r = app.get(&format!("Location?identifier={}&{REV}", enc(&ext)));
    assert_eq!(match_ids(&r.body), set([ext_id.as_str()]));
    // |value means "no system": our identifiers all have one.
    let r = app.get(&format!("Location?identifier={}", enc(&format!("|{fid}"))));
    assert_eq!(r.body["total"], 0);
    assert!(r.body.get("entry").is_none());
    // An unknown identifier: an empty searchset, total 0.
    let r = app.get("Location?identifier=99/999999");
    assert_eq!((r.status, r.body["total"].as_u64()), (200, Some(0)));
}

/// Scenario 3: several places by identifiers (OR), also by `_id`.
fn scenario3_several_places(app: &TestApp) {
    let picked: Vec<(&String, &serde_json::Value)> = app.data.locations.iter().step_by(23).take(9).collect();
    let ids: BTreeSet<String> = picked.iter().map(|(id, _)| (*id).clone()).collect();
    let fids: Vec<String> = picked.iter().map(|(_, l)| Dataset::identifier(l, Some("25")).unwrap()).collect();
    let r = app.get(&format!("Location?identifier={}&{REV}", enc(&fids.join(","))));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(match_ids(&r.body), ids);
    assert_eq!(r.body["total"], ids.len());
    assert_eq!(entry_ids(&r.body, "include"), app.data.services_of(&ids));
    let id_list: Vec<String> = ids.iter().cloned().collect();
    let r = app.get(&format!("Location?_id={}", id_list.join(",")));
    assert_eq!(match_ids(&r.body), ids);
    // POST _search gives the same answer (and suits long identifier lists).
    let r = app.request(
        "POST",
        "Location/_search",
        Some(("application/x-www-form-urlencoded", &format!("identifier={}&{REV}", enc(&fids.join(","))))),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(match_ids(&r.body), ids);
}

/// Scenario 4: everything updated since a date.
fn scenario4_updated_since(app: &TestApp) {
    // Dates in the dataset are UTC `YYYY-MM-DDThh:mm:ssZ`, so text order is time order.
    let mut stamps: Vec<&str> =
        app.data.locations.values().map(|l| l["meta"]["lastUpdated"].as_str().unwrap()).collect();
    stamps.sort_unstable();
    let since = stamps[stamps.len() - 25];
    let expected = app.data.locations_where(|l| l["meta"]["lastUpdated"].as_str().unwrap() >= since);
    let r = app.get(&format!("Location?_lastUpdated=ge{}&{REV}", enc(since)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(match_ids(&r.body), expected);
    assert_eq!(entry_ids(&r.body, "include"), app.data.services_of(&expected));
    // Day precision, as in the ROR documentation (`ge2023-08-02`).
    let day = &since[..10];
    let expected = app.data.locations_where(|l| l["meta"]["lastUpdated"].as_str().unwrap() >= day);
    let r = app.get(&format!("Location?_lastUpdated=ge{day}&_count=200"));
    assert_eq!(r.body["total"], expected.len());
    // Minute precision without a zone (`ge2022-11-06T15:00`), read as UTC.
    let minute = &since[..16];
    let expected = app.data.locations_where(|l| l["meta"]["lastUpdated"].as_str().unwrap() >= minute);
    let r = app.get(&format!("Location?_lastUpdated=ge{minute}&_count=200"));
    assert_eq!(match_ids(&r.body), expected);
}

/// Scenario 5: the places of given operational offers.
fn scenario5_places_of_offers(app: &TestApp) {
    let offers: Vec<&serde_json::Value> = app.data.services.values().step_by(31).take(6).collect();
    let idents: Vec<String> = offers.iter().map(|s| Dataset::identifier(s, None).unwrap()).collect();
    let expected: BTreeSet<String> = offers
        .iter()
        .flat_map(|s| s["location"].as_array().unwrap().iter())
        .map(|l| l["reference"].as_str().unwrap().trim_start_matches("Location/").to_owned())
        .collect();
    let r = app.get(&format!("Location?_has:HealthcareService:location:identifier={}&{REV}", enc(&idents.join(","))));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(match_ids(&r.body), expected);
    assert_eq!(entry_ids(&r.body, "include"), app.data.services_of(&expected));
    let offer_ids: Vec<String> = offers.iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    let r = app.get(&format!("Location?_has:HealthcareService:location:_id={}", offer_ids.join(",")));
    assert_eq!(match_ids(&r.body), expected);
}

crate::both_backends!(
    scenario1_all_of_france,
    scenario2_one_place,
    scenario3_several_places,
    scenario4_updated_since,
    scenario5_places_of_offers,
);

//! Regression tests of the access model over real mTLS on both backends (issue 9, items 3, 6, 7),
//! with consumers limited by type and by region.

use serde_json::Value;

use crate::helpers::{Backend, Dataset, Shared, TestApp, dataset, enc, entry_ids, issue_codes, next_link, scratch_dir};
use crate::pki::{entry, pki, registry_text};

/// An offer outside the regional consumer's region that points to a place inside it.
const OUTSIDE_OFFER: &str = "extra-outside-offer";
const OUTSIDE_OFFER_IDENTIFIER: &str = "99/900001";

fn outside_offer(d: &Dataset, region: &str) -> (std::path::PathBuf, String) {
    let (place_id, _) = d.locations.iter().find(|(_, l)| l["meta"]["tag"][0]["code"] == region).unwrap();
    let mut offer = d
        .services
        .values()
        .find(|s| s["meta"]["tag"][0]["code"] != region && s["meta"]["tag"][0]["code"].is_string())
        .unwrap()
        .clone();
    offer["id"] = OUTSIDE_OFFER.into();
    offer["identifier"] =
        serde_json::json!([{"system": "https://annuaire.sante.fr", "value": OUTSIDE_OFFER_IDENTIFIER}]);
    offer["location"] = serde_json::json!([{"reference": format!("Location/{place_id}")}]);
    let path = scratch_dir("grants").join("outside-offer.ndjson");
    std::fs::write(&path, format!("{offer}\n")).unwrap();
    (path, place_id.clone())
}

/// The shared TLS server of these tests: the standard registry, and the outside offer imported
/// after the dataset. Never dropped: its database is one of the leftovers the next run drops.
fn grants_app(backend: Backend) -> &'static TestApp {
    static APPS: Shared = Shared::new();
    APPS.get(backend, || {
        let (extra, _) = outside_offer(dataset(), &dataset().first_region());
        TestApp::builder(backend).tls().import(extra).start()
    })
}

fn forbidden_naming(app: &TestApp, who: &crate::pki::ClientCert, q: &str, ty: &str) {
    let (status, body) = app.get_as(who, q);
    assert_eq!(status, 403, "{q}: {body}");
    assert_eq!(issue_codes(&body), ["forbidden"]);
    let diag = body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diag.contains(&format!("may not search {ty}")), "{q}: {diag}");
}

/// Item 3: a grant on one type does not open another through `_include`, `_revinclude`, `_has`.
fn includes_need_a_grant_on_their_type(app: &TestApp) {
    let p = pki();
    let offer_id = Dataset::identifier(app.data.services.values().next().unwrap(), None).unwrap();
    let include = "HealthcareService?_include=HealthcareService:location&_count=5";
    let revinclude = "Location?_revinclude=HealthcareService:location&_count=5";
    let has = format!("Location?_has:HealthcareService:location:identifier={}", enc(&offer_id));
    forbidden_naming(app, &p.services_only, include, "Location");
    assert_eq!(app.get_as(&p.services_only, "HealthcareService?_count=5").0, 200, "its own type still works");
    forbidden_naming(app, &p.locations_only, revinclude, "HealthcareService");
    forbidden_naming(app, &p.locations_only, &has, "HealthcareService");
    assert_eq!(app.get_as(&p.locations_only, "Location?_count=5").0, 200);
    // With both grants, the same searches answer, includes included.
    for q in [include, revinclude, has.as_str()] {
        let (status, body) = app.get_as(&p.both_types, q);
        assert_eq!(status, 200, "{q}: {body}");
    }
    let (_, body) = app.get_as(&p.both_types, include);
    assert!(!entry_ids(&body, "include").is_empty(), "{body}");
    let (_, body) = app.get_as(&p.both_types, &has);
    assert!(body["total"].as_u64().unwrap() >= 1, "{body}");
    // Chains on `location` read places; organization includes read organizations.
    let chain = "HealthcareService?location.capacity-status=02&_count=5";
    let filtered = format!("HealthcareService?_filter={}&_count=5", enc("location.capacity-status eq 02"));
    forbidden_naming(app, &p.services_only, chain, "Location");
    forbidden_naming(app, &p.services_only, &filtered, "Location");
    forbidden_naming(
        app,
        &p.services_only,
        "HealthcareService?_include=HealthcareService:organization",
        "Organization",
    );
    forbidden_naming(app, &p.locations_only, "Location?_include=Location:organization", "Organization");
    for q in [chain, filtered.as_str()] {
        let (status, body) = app.get_as(&p.both_types, q);
        assert_eq!((status, body["total"].as_u64().is_some_and(|n| n > 0)), (200, true), "{q}: {body}");
    }
}

/// A place outside the regional consumer's regions, linked to an offer inside them, never makes
/// that offer match a chain, nor is it included.
fn chains_ignore_places_outside_the_regions(backend: Backend) {
    let p = pki();
    let d = dataset();
    let region = d.first_region();
    let (outside_id, outside) =
        d.locations.iter().find(|(_, l)| l["meta"]["tag"][0]["code"] != region.as_str()).unwrap();
    let mut offer = d.services.values().find(|s| s["meta"]["tag"][0]["code"] == region.as_str()).unwrap().clone();
    offer["id"] = "extra-inside-offer".into();
    offer["identifier"] = serde_json::json!([{"system": "https://annuaire.sante.fr", "value": "99/900002"}]);
    offer["location"] = serde_json::json!([{"reference": format!("Location/{outside_id}")}]);
    let path = scratch_dir("grants").join("inside-offer.ndjson");
    std::fs::write(&path, format!("{offer}\n")).unwrap();
    let app = TestApp::builder(backend).tls().import(path).start();
    let city = outside["address"]["city"].as_str().unwrap();
    let q = format!("HealthcareService?_id=extra-inside-offer&location.address-city:exact={}", enc(city));
    let (status, body) = app.get_as(&p.profiles[1], &q);
    assert_eq!((status, body["total"].as_u64()), (200, Some(1)), "the control: {body}");
    let (status, body) = app.get_as(&p.regional, &q);
    assert_eq!((status, body["total"].as_u64()), (200, Some(0)), "{body}");
    let (_, body) =
        app.get_as(&p.regional, "HealthcareService?_id=extra-inside-offer&_include=HealthcareService:location");
    assert_eq!(entry_ids(&body, "match").len(), 1);
    assert!(entry_ids(&body, "include").is_empty(), "{body}");
}

/// Item 6: `_has` is narrowed to the consumer's regions on the offer side as well.
fn has_ignores_offers_outside_the_regions(app: &TestApp) {
    let p = pki();
    let (_, place) = outside_offer(&app.data, &app.data.first_region());
    for q in [
        format!("Location?_has:HealthcareService:location:_id={OUTSIDE_OFFER}&_summary=count"),
        format!("Location?_has:HealthcareService:location:identifier={}&_summary=count", enc(OUTSIDE_OFFER_IDENTIFIER)),
    ] {
        // The control: a consumer of every region finds the place through the outside offer.
        let (status, body) = app.get_as(&p.profiles[1], &q);
        assert_eq!((status, body["total"].as_u64()), (200, Some(1)), "{q}: {body}");
        let (status, body) = app.get_as(&p.regional, &q);
        assert_eq!((status, body["total"].as_u64()), (200, Some(0)), "regional {q}: {body}");
    }
    // The place itself is in the consumer's region.
    let (status, _) = app.get_as(&p.regional, &format!("Location/{place}"));
    assert_eq!(status, 200);
}

/// The match ids of every page of `q` as `who` sees them.
fn matches_as(app: &TestApp, who: &crate::pki::ClientCert, q: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(q.to_owned());
    while let Some(url) = next {
        let (status, body) = app.get_as(who, &url);
        assert_eq!(status, 200, "{url}: {body}");
        let page = body["entry"].as_array().cloned().unwrap_or_default();
        ids.extend(page.iter().filter(|e| e["search"]["mode"] == "match").map(|e| e["resource"]["id"].to_string()));
        next = next_link(&body);
    }
    ids
}

/// A région's places with capacity criteria (read along the figures' région): a regional consumer
/// sees its région's as a consumer of every région does, and nothing of another région; a consumer
/// limited to Location searches sees the same places.
fn region_figures_are_narrowed(app: &TestApp) {
    let p = pki();
    let home = app.data.first_region();
    let other = app
        .data
        .locations
        .values()
        .filter_map(|l| l["meta"]["tag"][0]["code"].as_str())
        .find(|r| *r != home)
        .unwrap()
        .to_owned();
    let q = |r: &str| format!("Location?_tag={r}&capacity-type=01&capacity-status=02&nb-capacity=gt0&_count=5");
    let everyone = matches_as(app, &p.profiles[1], &q(&home));
    assert!(!everyone.is_empty(), "the control finds places");
    assert_eq!(matches_as(app, &p.regional, &q(&home)), everyone);
    assert_eq!(matches_as(app, &p.locations_only, &q(&home)), everyone);
    assert!(!matches_as(app, &p.profiles[1], &q(&other)).is_empty(), "the control finds places");
    assert!(matches_as(app, &p.regional, &q(&other)).is_empty());
}

/// Item 7: a cursor stops working once the registry narrows its consumer.
fn cursors_end_when_the_consumer_is_narrowed(backend: Backend) {
    let p = pki();
    let region = dataset().first_region();
    let text = registry_text(p, &region);
    let app = TestApp::builder(backend).tls().registry(text.clone()).start();
    let path = app.registry.clone().unwrap();
    let who = &p.profiles[4];
    let (status, first) = app.get_as(who, "Location?_count=5");
    assert_eq!(status, 200);
    let next = next_link(&first).unwrap();
    assert_eq!(app.get_as(who, &next).0, 200, "the cursor works before the change");
    let narrowed = text
        .replace(&entry("consumer-4", who, 4, ""), &entry("consumer-4", who, 4, &format!("regions = [\"{region}\"]")));
    assert_ne!(narrowed, text);
    std::fs::write(&path, narrowed).unwrap();
    let in_region = app.data.locations.values().filter(|l| l["meta"]["tag"][0]["code"] == region.as_str()).count();
    let started = std::time::Instant::now();
    while app.get_as(who, "Location?_summary=count").1["total"] != in_region {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the registry was not reloaded");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let (status, body): (u16, Value) = app.get_as(who, &next);
    assert_eq!(status, 400, "{body}");
    assert_eq!(issue_codes(&body), ["invalid"]);
}

mod shared_sqlite {
    #[test]
    fn includes_need_a_grant_on_their_type() {
        super::includes_need_a_grant_on_their_type(super::grants_app(crate::helpers::Backend::Sqlite));
    }
    #[test]
    fn has_ignores_offers_outside_the_regions() {
        super::has_ignores_offers_outside_the_regions(super::grants_app(crate::helpers::Backend::Sqlite));
    }
    #[test]
    fn region_figures_are_narrowed() {
        super::region_figures_are_narrowed(super::grants_app(crate::helpers::Backend::Sqlite));
    }
}

mod shared_postgres {
    #[test]
    fn includes_need_a_grant_on_their_type() {
        if crate::helpers::skip_without_postgres(concat!(module_path!(), "::includes_need_a_grant_on_their_type")) {
            return;
        }
        super::includes_need_a_grant_on_their_type(super::grants_app(crate::helpers::Backend::Postgres));
    }
    #[test]
    fn has_ignores_offers_outside_the_regions() {
        if crate::helpers::skip_without_postgres(concat!(module_path!(), "::has_ignores_offers_outside_the_regions")) {
            return;
        }
        super::has_ignores_offers_outside_the_regions(super::grants_app(crate::helpers::Backend::Postgres));
    }
    #[test]
    fn region_figures_are_narrowed() {
        if crate::helpers::skip_without_postgres(concat!(module_path!(), "::region_figures_are_narrowed")) {
            return;
        }
        super::region_figures_are_narrowed(super::grants_app(crate::helpers::Backend::Postgres));
    }
}
crate::each_backend!(cursors_end_when_the_consumer_is_narrowed, chains_ignore_places_outside_the_regions);

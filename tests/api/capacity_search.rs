//! The capacity parameters of Location: every token, number and date parameter, their prefixes and
//! modifiers, the within-one-figure rule, and the narrowing by access profile. The expected ids come
//! from the dataset's JSON (`helpers::figures`), not from the server.

use std::collections::BTreeSet;
use std::sync::Arc;

use ror_capacity::fhir::codes::CapacityCode;

use crate::helpers::figures::{Figure, figures_of};
use crate::helpers::{Backend, TestApp, enc, issue_codes};

/// A test on one figure.
type FigurePred = Box<dyn Fn(&Figure) -> bool>;

/// A test on a count.
type NumberPred = Box<dyn Fn(i64) -> bool>;

/// The ids of every match of `query` (walked through its pages).
fn ids(app: &TestApp, query: &str) -> BTreeSet<String> {
    app.walk(&format!("{query}&_count=200")).matches.into_iter().collect()
}

/// Each coded parameter with its sub-extension.
const CODED: [(&str, CapacityCode); 8] = [
    ("capacity-status", CapacityCode::Status),
    ("capacity-type", CapacityCode::Type),
    ("temporality-capacity", CapacityCode::Temporality),
    ("gender-capacity-available", CapacityCode::Gender),
    ("capacity-closing-type", CapacityCode::ClosingType),
    ("additional-bed-type", CapacityCode::AdditionalBedType),
    ("crisis-type", CapacityCode::CrisisType),
    ("temporary-assignement", CapacityCode::TemporaryAssignment),
];

/// The codes of `kind` the dataset uses, most frequent first.
fn used_codes(app: &TestApp, kind: CapacityCode) -> Vec<String> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for l in app.data.locations.values() {
        for f in figures_of(l) {
            if let Some(c) = f.code(kind.url()) {
                *counts.entry(c.to_owned()).or_default() += 1;
            }
        }
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.1));
    v.into_iter().map(|(c, _)| c).collect()
}

/// code, system|code, |code, other|code, system|, :not and comma OR, for each coded parameter.
fn tokens(app: &TestApp) {
    let d = &app.data;
    for (name, kind) in CODED {
        let url = kind.url();
        let system = kind.system();
        let codes = used_codes(app, kind);
        assert!(!codes.is_empty(), "the dataset uses {name}");
        let has = |c: &str| d.places_with_figure(1, |f| f.code(url) == Some(c));
        for code in &codes {
            let expected = has(code);
            assert!(!expected.is_empty(), "{name}={code}");
            assert_eq!(ids(app, &format!("Location?{name}={code}")), expected, "{name}={code}");
            assert_eq!(ids(app, &format!("Location?{name}={}", enc(&format!("{system}|{code}")))), expected);
            assert!(ids(app, &format!("Location?{name}={}", enc(&format!("|{code}")))).is_empty(), "{name}=|{code}");
            assert!(ids(app, &format!("Location?{name}={}", enc(&format!("http://other|{code}")))).is_empty());
            let not = d.places_with_figure(1, |f| f.code(url) != Some(code.as_str()));
            assert_eq!(ids(app, &format!("Location?{name}:not={code}")), not, "{name}:not={code}");
        }
        let any = d.places_with_figure(1, |f| f.code(url).is_some());
        assert_eq!(ids(app, &format!("Location?{name}={}", enc(&format!("{system}|")))), any, "{name}=system|");
        if codes.len() >= 2 {
            let (a, b) = (&codes[0], &codes[codes.len() - 1]);
            let either = d.places_with_figure(1, |f| f.code(url) == Some(a) || f.code(url) == Some(b));
            assert_eq!(ids(app, &format!("Location?{name}={a},{b}")), either, "{name}={a},{b}");
            let neither = d.places_with_figure(1, |f| f.code(url) != Some(a) && f.code(url) != Some(b));
            assert_eq!(ids(app, &format!("Location?{name}:not={a},{b}")), neither, "{name}:not={a},{b}");
        }
        assert!(ids(app, &format!("Location?{name}=99")).is_empty(), "{name}=99");
    }
    // The code of the IG's SearchParameter is another name of gender-capacity-available.
    assert_eq!(ids(app, "Location?gender-capacity=01"), ids(app, "Location?gender-capacity-available=01"));
}

/// nb-capacity with every prefix, FHIR's implicit precision, and AND across repetitions.
fn numbers(app: &TestApp) {
    let d = &app.data;
    let cases: Vec<(&str, NumberPred)> = vec![
        ("3", Box::new(|n| n == 3)),
        ("eq3", Box::new(|n| n == 3)),
        ("3.0", Box::new(|n| n == 3)),
        ("2.5", Box::new(|_| false)),
        ("1e1", Box::new(|n| (5..15).contains(&n))),
        ("ne0", Box::new(|n| n != 0)),
        ("gt0", Box::new(|n| n > 0)),
        ("gt4.5", Box::new(|n| n >= 5)),
        ("ge20", Box::new(|n| n >= 20)),
        ("lt2", Box::new(|n| n < 2)),
        ("le2", Box::new(|n| n <= 2)),
        ("le-1", Box::new(|_| false)),
    ];
    for (v, pred) in &cases {
        let expected = d.places_with_figure(1, |f| pred(f.nb));
        assert_eq!(ids(app, &format!("Location?nb-capacity={v}")), expected, "nb-capacity={v}");
    }
    let window = d.places_with_figure(1, |f| (2..=5).contains(&f.nb));
    assert_eq!(ids(app, "Location?nb-capacity=ge2&nb-capacity=le5"), window, "a window on one figure");
    let either = d.places_with_figure(1, |f| f.nb == 1 || f.nb == 7);
    assert_eq!(ids(app, "Location?nb-capacity=1,7"), either);
}

/// capacity-update-date at day precision with each prefix, and at second precision.
fn dates(app: &TestApp) {
    let d = &app.data;
    let f = figures_of(d.locations.values().nth(3).unwrap()).remove(0);
    let day = &f.updated[..10];
    let start = ror_capacity::search::date::parse_instant_us(&format!("{day}T00:00:00Z")).unwrap();
    let end = start + 86_400_000_000;
    let cases: Vec<(String, FigurePred)> = vec![
        (day.to_owned(), Box::new(move |f| (start..end).contains(&f.updated_us()))),
        (format!("ne{day}"), Box::new(move |f| !(start..end).contains(&f.updated_us()))),
        (format!("ge{day}"), Box::new(move |f| f.updated_us() >= start)),
        (format!("gt{day}"), Box::new(move |f| f.updated_us() >= end)),
        (format!("sa{day}"), Box::new(move |f| f.updated_us() >= end)),
        (format!("lt{day}"), Box::new(move |f| f.updated_us() < start)),
        (format!("eb{day}"), Box::new(move |f| f.updated_us() < start)),
        (format!("le{day}"), Box::new(move |f| f.updated_us() < end)),
    ];
    for (v, pred) in &cases {
        let expected = d.places_with_figure(1, pred);
        assert_eq!(ids(app, &format!("Location?capacity-update-date={v}")), expected, "capacity-update-date={v}");
    }
    let exact = d.places_with_figure(1, |g| g.updated_us() == f.updated_us());
    let got = ids(app, &format!("Location?capacity-update-date={}", enc(&f.updated)));
    assert_eq!(got, exact);
    assert!(!exact.is_empty());
}

/// Several capacity parameters describe one figure; on this dataset that differs from reading
/// them as independent conditions.
fn one_figure(app: &TestApp) {
    let d = &app.data;
    let q = "Location?capacity-type=01&capacity-status=02&nb-capacity=gt0";
    let one = d.places_with_figure(1, |f| {
        f.code("capacityType") == Some("01") && f.code("capacityStatus") == Some("02") && f.nb > 0
    });
    let apart = d
        .places_with_figure(1, |f| f.code("capacityType") == Some("01"))
        .intersection(&d.places_with_figure(1, |f| f.code("capacityStatus") == Some("02")))
        .cloned()
        .collect::<BTreeSet<_>>()
        .intersection(&d.places_with_figure(1, |f| f.nb > 0))
        .cloned()
        .collect::<BTreeSet<_>>();
    assert_ne!(one, apart, "the dataset tells the two readings apart");
    assert_eq!(ids(app, q), one);
    // The same in any order, repeated, and with a region (_tag).
    assert_eq!(ids(app, "Location?nb-capacity=gt0&capacity-status=02&capacity-type=01&capacity-type=01"), one);
    let region = d.first_region();
    let in_region: BTreeSet<String> =
        one.iter().filter(|id| d.locations[*id]["meta"]["tag"][0]["code"] == region.as_str()).cloned().collect();
    assert_eq!(ids(app, &format!("{q}&_tag={region}")), in_region);
    // Two values of one coded parameter on one figure: none has two statuses.
    assert!(ids(app, "Location?capacity-status=02&capacity-status=03").is_empty());
    let not = d.places_with_figure(1, |f| !matches!(f.code("capacityStatus"), Some("05" | "06")) && f.nb > 0);
    assert_eq!(ids(app, "Location?capacity-status:not=05&capacity-status:not=06&nb-capacity=gt0"), not);
    // The total counts the same places.
    let r = app.get(q);
    assert_eq!(r.body["total"].as_u64(), Some(one.len() as u64));
}

/// Malformed values, unsupported prefixes and modifiers: 400 OperationOutcome naming the parameter.
fn malformed(app: &TestApp) {
    for q in [
        "nb-capacity=abc",
        "nb-capacity=sa1",
        "nb-capacity=ap1",
        "nb-capacity=1e99",
        "nb-capacity=",
        "nb-capacity:not=1",
        "capacity-update-date=2026-13",
        "capacity-update-date=ap2026",
        "capacity-update-date:missing=true",
        "capacity-status:exact=01",
        "capacity-status:text=x",
        "crisis-type=a|b|c",
        "gender-capacity-available=|",
        "temporary-assignement=01,",
    ] {
        let r = app.get(&format!("Location?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(!issue_codes(&r.body).is_empty(), "{q}");
        let name = q.split(['=', ':']).next().unwrap();
        assert!(r.body.to_string().contains(name), "{q}: {}", r.body);
    }
}

crate::both_backends!(tokens, numbers, dates, one_figure, malformed);

/// A profile that cannot see a figure is not matched by it: profile 0 sees installed figures
/// without temporary assignment only; profile 2 does not see supplementary ones.
fn profiles(backend: Backend) {
    let shared = crate::helpers::app(backend);
    for profile in [0u8, 2] {
        let app = TestApp::builder(backend).insecure_profile(profile).database(Arc::clone(&shared.db)).start();
        let d = &app.data;
        for (q, test) in [
            (
                "capacity-status=02",
                Box::new(|f: &Figure| f.code("capacityStatus") == Some("02")) as Box<dyn Fn(&Figure) -> bool>,
            ),
            ("capacity-status=06", Box::new(|f: &Figure| f.code("capacityStatus") == Some("06"))),
            (
                "capacity-status=01&nb-capacity=gt0",
                Box::new(|f: &Figure| f.code("capacityStatus") == Some("01") && f.nb > 0),
            ),
            ("temporary-assignement=02", Box::new(|f: &Figure| f.code("temporaryAssignement") == Some("02"))),
            ("nb-capacity=ge0", Box::new(|_: &Figure| true)),
        ] {
            let expected = d.places_with_figure(profile, &test);
            assert_eq!(ids(&app, &format!("Location?{q}")), expected, "profile {profile}: {q}");
            // With a région, also read along the figures' région (db::sql::figure_walk).
            let region = d.first_region();
            let in_region: BTreeSet<String> =
                expected.iter().filter(|id| region_of(d, id) == region).cloned().collect();
            let typed = format!("Location?{q}&capacity-type=01&_tag={region}");
            let typed_expected: BTreeSet<String> = in_region
                .intersection(&d.places_with_figure(profile, |f| test(f) && f.code("capacityType") == Some("01")))
                .cloned()
                .collect();
            assert_eq!(ids(&app, &typed), typed_expected, "profile {profile}: {typed}");
            if profile == 0 && q != "capacity-status=01&nb-capacity=gt0" && q != "nb-capacity=ge0" {
                assert!(expected.is_empty(), "profile 0 sees none of {q}");
            }
        }
    }
    let none = TestApp::builder(backend).insecure_profile(5).database(Arc::clone(&shared.db)).start();
    for q in ["nb-capacity=gt0", "capacity-update-date=ge2000", "crisis-type=01"] {
        assert_eq!(none.get(&format!("Location?{q}")).status, 403, "profile 5: {q}");
    }
}

/// The région code of place `id` in the dataset (its first tag).
fn region_of(d: &crate::helpers::Dataset, id: &str) -> String {
    d.locations[id]["meta"]["tag"][0]["code"].as_str().unwrap_or_default().to_owned()
}

/// A page of one région with capacity criteria is read along the figures' région only while no
/// place holds the région's code as another tag: a place given such a tag by an import is found
/// by both codes, and by the paging of both.
fn region_tag_held_otherwise(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let d = &app.data;
    let criteria = "capacity-type=01&capacity-status=02&nb-capacity=gt0";
    let wanted =
        |f: &Figure| f.code("capacityType") == Some("01") && f.code("capacityStatus") == Some("02") && f.nb > 0;
    let matching = d.places_with_figure(1, wanted);
    let home = d.first_region();
    let (id, place) = d
        .locations
        .iter()
        .find(|(i, _)| matching.contains(*i) && region_of(d, i) == home)
        .map(|(i, p)| (i.clone(), p.clone()))
        .expect("a matching place in the first région");
    let other = d.locations.keys().map(|i| region_of(d, i)).find(|r| *r != home).expect("a second région");
    let in_region =
        |r: &str| -> BTreeSet<String> { matching.iter().filter(|i| region_of(d, i) == r).cloned().collect() };
    assert_eq!(ids(&app, &format!("Location?{criteria}&_tag={other}")), in_region(&other));
    let mut tagged = place.clone();
    tagged["meta"]["tag"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"system": "urn:example:tags", "code": other}));
    let path = crate::helpers::scratch_dir("off-region").join("tagged.ndjson");
    std::fs::write(&path, format!("{tagged}\n")).unwrap();
    app.db.import(&[&path]).unwrap();
    let mut want = in_region(&other);
    want.insert(id.clone());
    assert_eq!(ids(&app, &format!("Location?{criteria}&_tag={other}")), want);
    let pages = app.walk(&format!("Location?{criteria}&_tag={other}&_count=7"));
    assert_eq!(pages.matches.iter().cloned().collect::<BTreeSet<_>>(), want, "paged by 7");
    assert_eq!(pages.matches.len(), want.len(), "each place once");
    assert_eq!(ids(&app, &format!("Location?{criteria}&_tag={home}")), in_region(&home));
    // Of the région system, the other code is not the place's tag.
    let system = ror_capacity::fhir::codes::REGION_SYSTEM;
    assert_eq!(
        ids(&app, &format!("Location?{criteria}&_tag={}", enc(&format!("{system}|{other}")))),
        in_region(&other)
    );
    assert_eq!(ids(&app, &format!("Location?{criteria}&_tag={}", enc(&format!("{system}|{home}")))), in_region(&home));
}

crate::each_backend!(profiles, region_tag_held_otherwise);

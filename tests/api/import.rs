//! Import: what is accepted reads back equal; what the FHIR model would drop is refused with file,
//! line and element, and nothing of that file is written.

use ror_capacity::db;
use ror_capacity::import::{ImportError, import_file};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, scratch_dir};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/Location-ror-location-exemple.json");

fn without_last_updated(mut v: Value) -> Value {
    if let Some(m) = v.get_mut("meta").and_then(Value::as_object_mut) {
        m.remove("lastUpdated");
    }
    v
}

fn ig_example_reads_back_equal(backend: Backend) {
    let app = TestApp::builder(backend).empty().import(EXAMPLE).start();
    let served = app.get("Location/ror-location-exemple").body;
    let original: Value = serde_json::from_str(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    assert_eq!(without_last_updated(served.clone()), without_last_updated(original));
    // The source's lastUpdated (2023-12-20T10:00:00+01:00) is kept, normalised to UTC.
    assert_eq!(served["meta"]["lastUpdated"], "2023-12-20T09:00:00Z");
}

fn refused_files_write_nothing(backend: Backend) {
    let test_db = TestDb::new(backend);
    let dir = scratch_dir("refused");
    let good = json!({"resourceType": "Organization", "id": "o1", "name": "CH"});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"resourceType": "Location", "id": "l2", "fooBar": 1}), "Location.fooBar"),
        (
            json!({"resourceType": "Location", "id": "l2", "extension": [{"url": "x", "valueInteger": "7"}]}),
            "Location.extension[0].valueInteger",
        ),
        (
            json!({"resourceType": "Location", "id": "l2", "position": {"latitude": "north", "longitude": 1}}),
            "latitude",
        ),
        (json!({"resourceType": "Patient", "id": "p"}), "resourceType"),
        (
            json!({"resourceType": "Location", "id": "l2", "extension": [{"url": "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity", "extension": [{"url": "nbCapacity", "valueInteger": 3}]}]}),
            "capacityType",
        ),
    ];
    for (i, (bad, element)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("bad{i}.ndjson"));
        std::fs::write(&path, format!("{good}\n{bad}\n")).unwrap();
        let e = test_db.import(&[&path]).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ImportError::Refused { .. }), "{msg}");
        assert!(msg.contains(&format!("bad{i}.ndjson:line 2")), "{msg}");
        assert!(msg.contains(element), "{msg} should name {element}");
    }
    let path = dir.join("notjson.ndjson");
    std::fs::write(&path, format!("{good}\n{{not json\n")).unwrap();
    assert!(test_db.import(&[&path]).unwrap_err().to_string().contains("line 2"));
    // Nothing of those files was written: the good first line was rolled back too.
    let mut conn = db::connect(&test_db.db_url(), true).unwrap();
    let none = ror_capacity::service::query::read(
        &mut conn,
        ror_capacity::fhir::ResourceType::Organization,
        "o1",
        &ror_capacity::db::sql::Scope::everything(),
    )
    .unwrap();
    assert!(none.is_none());
}

fn bundles_and_reimports(backend: Backend) {
    let test_db = TestDb::new(backend);
    let dir = scratch_dir("bundle");
    let example: Value = serde_json::from_str(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Organization", "id": "o1", "name": "CH", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}}},
        {"resource": example}
    ]});
    let path = dir.join("bundle.json");
    std::fs::write(&path, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    let parsed = test_db.db_url();
    ror_capacity::startup::migrate(&parsed).unwrap();
    let mut conn = db::connect(&parsed, false).unwrap();
    let first = import_file(&mut conn, &path, false).unwrap();
    assert_eq!((first.inserted, first.updated, first.unchanged), (2, 0, 0));
    let again = import_file(&mut conn, &path, false).unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 2));
}

/// A place served with its piece whole and the same place with its figures filtered (the
/// database says which are visible, they are taken from the piece) are the same Location for every
/// access profile: here every place claims a figure of status 06, which profiles 2 and 3 may not
/// see, so that they filter the figures of every place.
fn stored_and_filtered_figures_agree(backend: Backend) {
    use diesel::connection::SimpleConnection;
    use ror_capacity::auth::policy::{Profile, capacity_scope};
    use ror_capacity::config::SearchLimits;
    use ror_capacity::db::sql::Scope;
    use ror_capacity::fhir::ResourceType;
    use ror_capacity::search::parse::parse;

    let data = crate::helpers::dataset().clone();
    let test_db = TestDb::new(backend);
    test_db.import(&[&data.path]).unwrap();
    let mut conn = db::connect(&test_db.db_url(), false).unwrap();
    let pairs = vec![("_count".to_owned(), "200".to_owned())];
    let req = parse(ResourceType::Location, &pairs, false, &SearchLimits::default()).unwrap();
    let pages = |conn: &mut db::DbConn| -> Vec<Vec<(String, String)>> {
        Profile::ALL
            .iter()
            .map(|&n| {
                let scope = Scope { regions: None, capacity: capacity_scope(Profile::new(n).unwrap()) };
                let found = ror_capacity::service::query::search(conn, &req, &scope, None, 1000, None).unwrap();
                found.matches.into_iter().map(|r| (r.id, r.json)).collect()
            })
            .collect()
    };
    let with_pieces = pages(&mut conn);
    assert!(with_pieces[1].iter().any(|(_, json)| json.contains("ror-location-supported-capacity")));
    conn.batch_execute("UPDATE locations SET figure_statuses = COALESCE(figure_statuses, '') || ',06'").unwrap();
    let filtered = pages(&mut conn);
    for (n, (a, b)) in with_pieces.iter().zip(&filtered).enumerate() {
        assert_eq!(a.len(), b.len(), "profile {n}");
        for ((id, x), (_, y)) in a.iter().zip(b) {
            assert_eq!(x, y, "profile {n}, Location/{id}");
        }
    }
}

crate::each_backend!(
    ig_example_reads_back_equal,
    refused_files_write_nothing,
    bundles_and_reimports,
    stored_and_filtered_figures_agree,
    remembered_totals_follow_imports
);

/// A remembered total is the count of the data it was counted on: an import raises the generation
/// and the next search counts again.
fn remembered_totals_follow_imports(backend: Backend) {
    use ror_capacity::config::SearchLimits;
    use ror_capacity::db::read;
    use ror_capacity::db::sql::Scope;
    use ror_capacity::fhir::ResourceType;
    use ror_capacity::search::parse::parse;
    use ror_capacity::service::memo::{GenerationMemo, Remembered};
    use ror_capacity::service::query::Reuse;
    use std::sync::Arc;

    let data = crate::helpers::dataset().clone();
    let test_db = TestDb::new(backend);
    test_db.import(&[&data.path]).unwrap();
    let mut conn = db::connect(&test_db.db_url(), false).unwrap();
    let pairs = vec![("_count".to_owned(), "2".to_owned())];
    let req = parse(ResourceType::Location, &pairs, false, &SearchLimits::default()).unwrap();
    let memo = Remembered { memo: Arc::new(GenerationMemo::new(1 << 20)), key: "consumer\nLocation?_count=2".into() };
    let reuse = Reuse { totals: memo.clone(), held: None };
    let scope = Scope::everything();
    let total = |conn: &mut db::DbConn| {
        ror_capacity::service::query::search(conn, &req, &scope, None, 1000, Some(&reuse)).unwrap().total.unwrap()
    };
    let places = data.locations.len() as u64;
    assert_eq!(total(&mut conn), places);
    let g0 = read::generation(&mut conn).unwrap();
    assert_eq!(memo.memo.get(&memo.key, g0), Some(places), "the count is remembered");
    // The memo answers: a total it holds is the one returned.
    memo.memo.put(&memo.key, g0, 7);
    assert_eq!(total(&mut conn), 7);

    // Any import raises it, even one that changes nothing (what a consumer cannot see must not show
    // in how fast its totals come), and the next total is counted again.
    let again = import_file(&mut conn, &data.path, false).unwrap();
    assert_eq!(again.inserted + again.updated, 0);
    let g1 = read::generation(&mut conn).unwrap();
    assert!(g1 > g0);
    assert_eq!(total(&mut conn), places);
    assert_eq!(memo.memo.get(&memo.key, g1), Some(places));

    let (_, first) = data.locations.iter().next().unwrap();
    let mut extra = first.clone();
    extra["id"] = "memo-extra-place".into();
    extra["identifier"][0]["value"] = "memo-extra-identifier".into();
    let dir = crate::helpers::scratch_dir("memo");
    let path = dir.join("extra.ndjson");
    std::fs::write(&path, format!("{extra}\n")).unwrap();
    let added = import_file(&mut conn, &path, false).unwrap();
    assert_eq!(added.inserted, 1);
    assert!(read::generation(&mut conn).unwrap() > g1);
    assert_eq!(total(&mut conn), places + 1, "counted again on the new data");
}

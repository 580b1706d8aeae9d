//! The import gathers a place's figures, tokens, views and links across records and inserts them
//! in large statements, and reads nothing back while its tables were empty at the start. What it
//! stores must not depend on that: one file holding places twice (the second copy changed) and an
//! offer that turns sensitive late stores what the same records store imported one file after the
//! other, where every record is looked up and written on its own.

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use ror_capacity::db::{self, DbConn};
use ror_capacity::import::import_file;
use serde_json::Value;

use crate::helpers::{Backend, TestDb, scratch_dir};

const CAPACITY: &str = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity";
const SENSITIVE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice-sensitive-unit";

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    v: String,
}

/// Each stored row, as text, without the instants (which follow the import's clock).
fn stored(conn: &mut DbConn) -> BTreeSet<String> {
    use diesel::RunQueryDsl;
    let queries = [
        "SELECT 'c ' || location_id || ' ' || CAST(seq AS TEXT) || ' ' || observation_id || ' ' || capacity_type || ' ' \
         || capacity_status || ' ' || temporality || ' ' || CAST(nb_capacity AS TEXT) || ' ' || COALESCE(gender, '-') \
         || ' ' || COALESCE(comment, '-') || ' ' || COALESCE(region, '-') \
         || CASE WHEN first_of_kind THEN ' first' ELSE '' END AS v FROM capacities",
        "SELECT 't ' || resource_type || ' ' || param || ' ' || code || ' ' || system || ' ' || resource_id AS v \
         FROM search_tokens",
        "SELECT 'h ' || service_id || ' ' || location_id AS v FROM healthcare_service_locations",
        "SELECT 'p ' || location_id || ' ' || CAST(latitude AS TEXT) || ' ' || CAST(longitude AS TEXT) AS v \
         FROM location_positions",
        "SELECT 'v ' || location_id || ' ' || view AS v FROM location_views",
        "SELECT 'l ' || id || ' ' || COALESCE(name, '-') || ' ' || COALESCE(figure_statuses, '-') || ' ' \
         || CASE WHEN sensitive THEN 's' ELSE '-' END AS v FROM locations",
        "SELECT 's ' || id || ' ' || CASE WHEN sensitive_unit THEN 's' ELSE '-' END AS v FROM healthcare_services",
        "SELECT 'o ' || id AS v FROM organizations",
    ];
    let mut rows = BTreeSet::new();
    for sql in queries {
        let got: Vec<Row> = match conn {
            DbConn::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
            DbConn::Postgresql(c) => diesel::sql_query(sql).load(c).unwrap(),
        };
        rows.extend(got.into_iter().map(|r| r.v));
    }
    rows
}

/// A place renamed, without its last capacity figure.
fn changed_place(place: &Value) -> Value {
    let mut p = place.clone();
    p["name"] = Value::from(format!("{} (renamed)", p["name"].as_str().unwrap_or("place")));
    let ext = p["extension"].as_array_mut().unwrap();
    let last = ext.iter().rposition(|e| e["url"] == CAPACITY).unwrap();
    ext.remove(last);
    p
}

/// An offer linked to places none of which is sensitive, made a sensitive unit.
fn made_sensitive(data: &crate::helpers::Dataset) -> Value {
    let sensitive = data.sensitive_locations();
    let (_, service) = data
        .services
        .iter()
        .find(|(_, s)| {
            let places: BTreeSet<String> = s["location"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["reference"].as_str()?.strip_prefix("Location/").map(str::to_owned))
                .collect();
            !places.is_empty() && places.is_disjoint(&sensitive)
        })
        .unwrap();
    let mut s = service.clone();
    let ext = s.as_object_mut().unwrap().entry("extension").or_insert_with(|| Value::Array(Vec::new()));
    let ext = ext.as_array_mut().unwrap();
    ext.retain(|e| e["url"] != SENSITIVE);
    ext.push(serde_json::json!({"url": SENSITIVE, "valueBoolean": true}));
    s
}

/// The file whole (each of the first five places followed at once by its changed copy, while
/// its rows are still pending; the sensitive offer last), and the changed copies alone.
fn files(data: &crate::helpers::Dataset) -> (String, Vec<Value>) {
    let mut whole = String::new();
    let mut copies = Vec::new();
    for line in std::fs::read_to_string(&data.path).unwrap().lines() {
        whole.push_str(line);
        whole.push('\n');
        let v: Value = serde_json::from_str(line).unwrap();
        if v["resourceType"] == "Location" && copies.len() < 5 {
            let copy = changed_place(&v);
            whole.push_str(&serde_json::to_string(&copy).unwrap());
            whole.push('\n');
            copies.push(copy);
        }
    }
    let sensitive = made_sensitive(data);
    whole.push_str(&serde_json::to_string(&sensitive).unwrap());
    whole.push('\n');
    copies.push(sensitive);
    (whole, copies)
}

fn write_ndjson(path: &std::path::Path, values: &[Value]) {
    let lines: Vec<String> = values.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

fn one_file_stores_what_files_one_by_one_store(backend: Backend) {
    // Large enough for the pending rows to be inserted several times in the middle of the file.
    let data = crate::helpers::generated("import-batches-data", 1500, 11);
    let dir = scratch_dir("import-batches");
    let (text, copies) = files(&data);
    let whole = dir.join("whole.ndjson");
    std::fs::write(&whole, text).unwrap();
    let later = dir.join("later.ndjson");
    write_ndjson(&later, &copies);

    let one = TestDb::new(backend);
    ror_capacity::startup::migrate(&one.db_url()).unwrap();
    let mut a = db::connect(&one.db_url(), false).unwrap();
    let stats = import_file(&mut a, &whole, false).unwrap();
    let distinct = data.locations.len() + data.services.len() + data.organizations.len();
    assert_eq!((stats.inserted, stats.updated), (distinct, copies.len()));

    let two = TestDb::new(backend);
    ror_capacity::startup::migrate(&two.db_url()).unwrap();
    let mut b = db::connect(&two.db_url(), false).unwrap();
    import_file(&mut b, &data.path, false).unwrap();
    let stats = import_file(&mut b, &later, false).unwrap();
    assert_eq!(stats.updated, copies.len());

    let (got, expected) = (stored(&mut a), stored(&mut b));
    assert!(got.iter().any(|r| r.contains("(renamed)")), "the changed copies were stored");
    // The offer made sensitive is stored so, and its places are now linked to a sensitive unit.
    let offer = copies.last().unwrap();
    assert!(got.contains(&format!("s {} s", offer["id"].as_str().unwrap())));
    for link in offer["location"].as_array().unwrap() {
        let place = link["reference"].as_str().unwrap().strip_prefix("Location/").unwrap();
        let row = got.iter().find(|r| r.starts_with(&format!("l {place} "))).unwrap();
        assert!(row.ends_with(" s"), "Location/{place} is linked to a sensitive unit: {row}");
    }
    for conn in [&mut a, &mut b] {
        let (marked, mismarked) = first_of_kind(conn);
        assert_eq!(mismarked, 0, "figures marked as their place's first of their kind, or not, wrongly");
        assert!(marked > 0, "some figures are their kind's first");
    }
    let only_one: Vec<_> = got.symmetric_difference(&expected).take(10).collect();
    assert!(only_one.is_empty(), "rows stored by one import and not the other: {only_one:?}");
    // The rows filled several batches (8,192 rows): the test crossed flushes in the middle of the file.
    assert!(got.iter().filter(|r| r.starts_with("c ") || r.starts_with("t ")).count() > 2 * 8192);
}

/// Figures stored before `first_of_kind` existed are marked by its migration as the import marks
/// them.
fn stored_figures_are_marked_by_the_migration(backend: Backend) {
    let data = crate::helpers::generated("import-batches-data", 1500, 11);
    let test_db = TestDb::new(backend);
    ror_capacity::startup::migrate(&test_db.db_url()).unwrap();
    let mut conn = db::connect(&test_db.db_url(), false).unwrap();
    import_file(&mut conn, &data.path, false).unwrap();
    let imported = first_of_kind(&mut conn);
    let reverted = db::migrate::revert_last(&mut conn).unwrap();
    assert_eq!(reverted, "20261207000002", "the last migration is no longer first_figure_of_kind");
    db::migrate::run_pending(&mut conn).unwrap();
    let migrated = first_of_kind(&mut conn);
    assert_eq!(migrated, imported);
    assert_eq!(migrated.1, 0, "marked wrongly");
}

crate::each_backend!(one_file_stores_what_files_one_by_one_store, stored_figures_are_marked_by_the_migration);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut DbConn, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).get_result::<Count>(c).unwrap().n,
        DbConn::Postgresql(c) => diesel::sql_query(sql).get_result::<Count>(c).unwrap().n,
    }
}

/// The figures marked as their place's first of their status and type, and those marked wrongly
/// either way (against the definition, worked out here by SQL).
fn first_of_kind(conn: &mut DbConn) -> (i64, i64) {
    let marked = count(conn, "SELECT COUNT(*) AS n FROM capacities WHERE first_of_kind");
    let mismarked = count(
        conn,
        "SELECT COUNT(*) AS n FROM capacities c WHERE c.first_of_kind <> NOT EXISTS (SELECT 1 FROM capacities e \
         WHERE e.location_id = c.location_id AND e.capacity_status = c.capacity_status \
         AND e.capacity_type = c.capacity_type AND e.seq < c.seq)",
    );
    (marked, mismarked)
}

/// Rows of `table` whose successor in rowid order sorts before them by `key` (none when the rows
/// lie in `key` order).
fn out_of_order(conn: &mut DbConn, table: &str, key: &str) -> i64 {
    count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM (SELECT {key} AS k, LEAD({key}) OVER (ORDER BY rowid) AS next FROM {table}) \
             WHERE next < k"
        ),
    )
}

/// Text rows that are not their row's (by rowid), and rows without one.
fn text_rows_astray(conn: &mut DbConn, table: &str, text: &str, columns: &[&str]) -> i64 {
    let differs: Vec<String> = columns.iter().map(|c| format!("x.{c} IS NOT t.{c}")).collect();
    count(
        conn,
        &format!(
            "SELECT (SELECT COUNT(*) FROM {table} t LEFT JOIN {text} x ON x.rowid = t.rowid WHERE x.rowid IS NULL OR {}) \
             + (SELECT COUNT(*) FROM {text}) - (SELECT COUNT(*) FROM {table}) AS n",
            differs.join(" OR ")
        ),
    )
}

/// SQLite: a first import stores places by (région, id) and offers by région, in rowid order, and
/// the text rows of `:contains` follow the renumbered rows, then and after a later import that
/// changes some of them.
#[test]
fn a_first_import_groups_places_and_offers_by_region() {
    let data = crate::helpers::generated("import-grouped-data", 600, 12);
    let dir = scratch_dir("import-grouped");
    let (_, copies) = files(&data);
    let later = dir.join("later.ndjson");
    write_ndjson(&later, &copies);
    let db = TestDb::new(Backend::Sqlite);
    ror_capacity::startup::migrate(&db.db_url()).unwrap();
    let mut conn = db::connect(&db.db_url(), false).unwrap();
    let schema = |conn: &mut DbConn| -> BTreeSet<String> {
        use diesel::RunQueryDsl;
        let sql = "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS v FROM sqlite_master";
        let DbConn::Sqlite(c) = conn else { unreachable!() };
        diesel::sql_query(sql).load::<Row>(c).unwrap().into_iter().map(|r| r.v).collect()
    };
    let before = schema(&mut conn);
    import_file(&mut conn, &data.path, false).unwrap();
    let after = schema(&mut conn);
    let changed: Vec<_> = before.symmetric_difference(&after).filter(|s| !s.contains("sqlite_stat")).collect();
    assert!(changed.is_empty(), "the import left the schema as it was: {changed:?}");
    let regions = count(&mut conn, "SELECT COUNT(DISTINCT region) AS n FROM locations");
    assert!(regions > 3, "the dataset spans régions ({regions})");
    assert_eq!(out_of_order(&mut conn, "locations", "region || '/' || id"), 0);
    assert_eq!(out_of_order(&mut conn, "healthcare_services", "region"), 0);
    // The file's order was not already that one.
    let file_regions: Vec<String> = std::fs::read_to_string(&data.path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["resourceType"] == "Location")
        .map(|v| v["meta"]["tag"][0]["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(file_regions.windows(2).any(|w| w[1] < w[0]), "the file lists places by région already");
    let places = ["id", "name_norm", "city_norm", "postal_code"];
    for round in 0..2 {
        assert_eq!(text_rows_astray(&mut conn, "locations", "location_text", &places), 0);
        assert_eq!(text_rows_astray(&mut conn, "healthcare_services", "service_text", &["id", "name_norm"]), 0);
        if round == 0 {
            let stats = import_file(&mut conn, &later, false).unwrap();
            assert_eq!(stats.updated, copies.len());
        }
    }
    assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM location_text WHERE name_norm LIKE '%renamed%'") >= 5);
}

//! Migrations: the same names for both backends, and up → down → up leaves the same schema.

use std::collections::BTreeSet;

use ror_capacity::db::{self, DbConn};

use crate::helpers::{Backend, TestDb};

fn names(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
    for n in &sqlite {
        for f in ["up.sql", "down.sql"] {
            for b in ["sqlite", "postgres"] {
                let p = format!("{}/migrations/{b}/{n}/{f}", env!("CARGO_MANIFEST_DIR"));
                assert!(std::path::Path::new(&p).exists(), "{p} missing");
            }
        }
    }
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SchemaRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    item: String,
}

fn schema(conn: &mut DbConn) -> Vec<String> {
    use diesel::RunQueryDsl;
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS item FROM sqlite_master WHERE name NOT LIKE '__diesel%' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
        DbConn::Postgresql(_) => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS item FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' UNION ALL SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' ORDER BY 1"
        }
    };
    let rows: Vec<SchemaRow> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        DbConn::Postgresql(c) => diesel::sql_query(sql).load(c).unwrap(),
    };
    rows.into_iter().map(|r| r.item).collect()
}

fn up_down_up(backend: Backend) {
    let test_db = TestDb::new(backend);
    let mut conn = db::connect(&test_db.db_url(), false).unwrap();
    let applied = db::migrate::run_pending(&mut conn).unwrap();
    assert!(!applied.is_empty());
    let first = schema(&mut conn);
    assert!(first.iter().any(|s| s.contains("locations")), "{first:?}");
    db::migrate::revert_all(&mut conn).unwrap();
    assert!(schema(&mut conn).is_empty(), "down left tables behind");
    db::migrate::run_pending(&mut conn).unwrap();
    assert_eq!(schema(&mut conn), first);
    assert!(db::migrate::run_pending(&mut conn).unwrap().is_empty());
}

/// The rows that point at a place keep their foreign key, checked when the transaction commits
/// on SQLite (`deferred_foreign_keys`: no statement journal for an import's multi-row inserts)
/// and at the statement on PostgreSQL: a figure of a place that does not exist fails its
/// transaction, and nothing of it stays.
fn a_figure_without_its_place_fails_its_transaction(backend: Backend) {
    use diesel::{Connection, RunQueryDsl};
    let test_db = TestDb::new(backend);
    let mut conn = db::connect(&test_db.db_url(), false).unwrap();
    db::migrate::run_pending(&mut conn).unwrap();
    let insert = "INSERT INTO capacities (location_id, seq, observation_id, capacity_type, capacity_status, \
                  temporality, nb_capacity, source_type, update_date, update_date_us, temporary_assignment, \
                  last_updated) VALUES ('nowhere', 1, 'nowhere-cap-1', '01', '01', '01', 1, 'x', '2024-01-01', 0, \
                  '01', 0)";
    let mut statement = None;
    let committed = conn.transaction::<_, diesel::result::Error, _>(|c| {
        let result = match c {
            DbConn::Sqlite(c) => diesel::sql_query(insert).execute(c),
            DbConn::Postgresql(c) => diesel::sql_query(insert).execute(c),
        };
        statement = Some(result.is_ok());
        result.map(|_| ())
    });
    assert!(committed.is_err(), "a figure without its place was committed");
    assert_eq!(statement, Some(backend == Backend::Sqlite), "SQLite checks at commit, PostgreSQL at the statement");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = "SELECT COUNT(*) AS n FROM capacities";
    let left: Vec<Count> = match &mut conn {
        DbConn::Sqlite(c) => diesel::sql_query(count).load(c).unwrap(),
        DbConn::Postgresql(c) => diesel::sql_query(count).load(c).unwrap(),
    };
    assert_eq!(left[0].n, 0);
}

crate::each_backend!(up_down_up, a_figure_without_its_place_fails_its_transaction);

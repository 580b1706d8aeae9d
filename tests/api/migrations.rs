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

crate::each_backend!(up_down_up);

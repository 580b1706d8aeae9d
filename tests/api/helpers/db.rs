//! Test databases: each one made fresh for its test and dropped when its [`TestDb`] guard goes, and
//! the loud skip of PostgreSQL tests where PostgreSQL cannot be reached.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use ror_capacity::db::{self, DbUrl};
use ror_capacity::import;

use super::{COUNTER, scratch_dir};

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The maintenance URL of the PostgreSQL server used by the tests.
pub fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether a PostgreSQL test is to be skipped: the server at [`pg_admin_url`] cannot be reached and
/// `ROR_REQUIRE_POSTGRES` is not set. `.ci/run` sets it: there, an unreachable PostgreSQL fails the
/// run. A skip is written to the terminal (past the test harness's capture), never passed silently.
pub fn skip_without_postgres(test: &str) -> bool {
    static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let reachable =
        REACHABLE.get_or_init(|| PgConnection::establish(&pg_admin_url()).map(drop).map_err(|e| e.to_string()));
    let Err(why) = reachable else { return false };
    let url = pg_admin_url();
    assert!(
        std::env::var_os("ROR_REQUIRE_POSTGRES").is_none(),
        "PostgreSQL is required (ROR_REQUIRE_POSTGRES is set) but {url} cannot be reached: {why}"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: PostgreSQL at {url} cannot be reached ({}); start it or set TEST_DATABASE_URL",
        why.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    true
}

/// A database made for one test: an SQLite file in its own scratch directory, or a new database
/// (`ror_test_…`) on a PostgreSQL server. Dropping the guard drops the database: PostgreSQL with
/// `DROP DATABASE … WITH (FORCE)` (connections still open are ended), SQLite by removing its
/// directory. Whatever serves it must be stopped first ([`super::TestApp`] sees to that).
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    url: String,
    place: Place,
}

/// Where the database lives, to drop it.
#[derive(Debug)]
enum Place {
    SqliteDir(PathBuf),
    Postgres { admin: String, name: String },
}

impl TestDb {
    /// An empty database on `backend` (PostgreSQL: on the server at [`pg_admin_url`]).
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = scratch_dir("db");
                let url = format!("sqlite://{}", dir.join("ror.db").display());
                Self { backend, url, place: Place::SqliteDir(dir) }
            }
            Backend::Postgres => Self::postgres_on(&pg_admin_url()),
        }
    }

    /// An empty PostgreSQL database on the server whose maintenance database is at `admin`.
    pub fn postgres_on(admin: &str) -> Self {
        let mut conn = PgConnection::establish(admin).unwrap_or_else(|e| {
            panic!("PostgreSQL is required by the test suite ({admin}): {e}. Start it, or set TEST_DATABASE_URL.")
        });
        if admin == pg_admin_url() {
            drop_leftovers(&mut conn);
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("ror_test_{}_{n}_{nanos}", std::process::id());
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
        let (prefix, _) = admin.rsplit_once('/').unwrap();
        let url = format!("{prefix}/{name}");
        Self { backend: Backend::Postgres, url, place: Place::Postgres { admin: admin.to_owned(), name } }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL, as given to `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL, parsed.
    pub fn db_url(&self) -> DbUrl {
        DbUrl::parse(&self.url).unwrap()
    }

    /// Imports `files` (migrating first, as `import` does).
    pub fn import(&self, files: &[&Path]) -> Result<(), import::ImportError> {
        let url = self.db_url();
        ror_capacity::startup::migrate(&url).unwrap();
        let mut conn = db::connect(&url, false).unwrap();
        for f in files {
            import::import_file(&mut conn, f, false)?;
        }
        Ok(())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.place {
            Place::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::Postgres { admin, name } => {
                let dropped = PgConnection::establish(admin).map_err(|e| e.to_string()).and_then(|mut c| {
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = dropped {
                    eprintln!("test database {name} was not dropped: {e}");
                }
            }
        }
    }
}

/// Drops the `ror_test_%` databases of earlier runs, once per run. They are those of the shared
/// servers ([`super::app`] and the other `static` apps), which live until the process exits and so
/// are never dropped by their guard, and those of runs that were killed. Databases of a test process
/// still running (the process id in the name, see [`TestDb::postgres_on`]) are left alone, and one
/// still in use refuses to drop (there is no `FORCE` here): suites may run at the same time.
fn drop_leftovers(conn: &mut PgConnection) {
    static CLEANED: OnceLock<()> = OnceLock::new();
    CLEANED.get_or_init(|| {
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let names: Vec<Name> = diesel::RunQueryDsl::load(
            diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'ror_test_%'"),
            conn,
        )
        .unwrap_or_default();
        for n in names {
            let pid = n.datname.trim_start_matches("ror_test_").split('_').next().unwrap_or_default();
            let running = pid.parse::<u32>().is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !running {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\"", n.datname));
            }
        }
    });
}

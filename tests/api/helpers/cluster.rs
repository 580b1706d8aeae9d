//! [`Cluster`]: a private cluster of the machine's PostgreSQL (Debian's `postgresql-common`), made
//! for one test on a free port with trust authentication, and dropped with its guard. A cluster
//! may be a streaming replica of another ([`Cluster::replica_of`]).

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

/// A PostgreSQL cluster of this machine, stopped and dropped with the guard.
pub struct Cluster {
    version: String,
    name: String,
    pub port: u16,
}

fn pg_cmd(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    b: bool,
}

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    lsn: String,
}

impl Cluster {
    /// A new cluster, started.
    pub fn create(tag: &str) -> Self {
        let cluster = Self::created(tag);
        cluster.ctl("start");
        cluster
    }

    /// A new cluster made from a base backup of `primary` (`pg_basebackup -R`): a hot standby
    /// streaming from it, started.
    pub fn replica_of(primary: &Cluster, tag: &str) -> Self {
        let cluster = Self::created(tag);
        let data = format!("/var/lib/postgresql/{}/{}", cluster.version, cluster.name);
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }.unwrap();
        }
        let basebackup = format!("/usr/lib/postgresql/{}/bin/pg_basebackup", cluster.version);
        let port = primary.port.to_string();
        // As the cluster's owner: the files must be its own.
        pg_cmd(
            "runuser",
            &["-u", "postgres", "--", &basebackup, "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", &data]
                .into_iter()
                .chain(["-R", "-X", "stream", "-c", "fast"])
                .collect::<Vec<_>>(),
        );
        cluster.ctl("start");
        cluster
    }

    fn created(tag: &str) -> Self {
        let version = std::fs::read_dir("/etc/postgresql")
            .expect("PostgreSQL cluster tests need Debian's postgresql-common (/etc/postgresql)")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max()
            .expect("no PostgreSQL version in /etc/postgresql");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let name = format!("ror_{tag}_{}_{port}", std::process::id());
        let cluster = Self { version, name, port };
        let port = port.to_string();
        pg_cmd("pg_createcluster", &[&cluster.version, &cluster.name, "-p", &port, "--", "--auth=trust"]);
        cluster
    }

    /// `pg_ctlcluster ACTION` (`stop` is `-m fast`: the server's connections are ended mid-query).
    pub fn ctl(&self, action: &str) {
        let mut args = vec!["--skip-systemctl-redirect", &self.version, &self.name, action];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        pg_cmd("pg_ctlcluster", &args);
    }

    /// Stops the cluster at once, as a crash would (`-m immediate`).
    pub fn kill(&self) {
        pg_cmd("pg_ctlcluster", &["--skip-systemctl-redirect", &self.version, &self.name, "stop", "-m", "immediate"]);
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs `sql` on its `postgres` database.
    pub fn execute(&self, sql: &str) {
        let mut conn = PgConnection::establish(&self.url("postgres")).unwrap();
        conn.batch_execute(sql).unwrap();
    }

    /// The primary's current WAL position.
    pub fn wal_position(&self) -> String {
        let mut conn = PgConnection::establish(&self.url("postgres")).unwrap();
        diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result::<Lsn>(&mut conn).unwrap().lsn
    }

    /// Waits (at most 30 s) until this replica has replayed the WAL up to `lsn`.
    pub fn wait_replayed(&self, lsn: &str) {
        let started = Instant::now();
        let sql = format!("SELECT COALESCE(pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn, false) AS b");
        loop {
            let done = PgConnection::establish(&self.url("postgres"))
                .ok()
                .and_then(|mut c| diesel::sql_query(&sql).get_result::<Flag>(&mut c).ok())
                .is_some_and(|f| f.b);
            if done {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the replica did not replay {lsn} within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster").args(["--stop", &self.version, &self.name]).output();
    }
}

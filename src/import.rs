//! `ror-capacity import FILE…`: loads FHIR NDJSON, a Bundle, or a single resource of ROR-profiled
//! Location, HealthcareService and Organization resources. One transaction per file: a refused
//! resource (malformed, or with content the FHIR model would silently drop) aborts the file with
//! its name, line and element, and nothing of that file is written.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use diesel::Connection;
use serde_json::Value;

use crate::base::clock::now_us;
use crate::db::write::{Session, WriteOutcome, upsert};
use crate::db::{DbConn, DbError};
use crate::fhir::extract::Record;
use crate::fhir::{extract, validate};

/// Counts of one import.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportStats {
    /// Resources read.
    pub resources: usize,
    /// New resources.
    pub inserted: usize,
    /// Changed resources.
    pub updated: usize,
    /// Resources identical to what was stored.
    pub unchanged: usize,
}

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// File name.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A resource was refused.
    #[error("{file}:{location}: {message}")]
    Refused {
        /// File name.
        file: String,
        /// `line N` (NDJSON) or `entry[N]` (Bundle).
        location: String,
        /// Element and reason.
        message: String,
    },
    /// The database failed.
    #[error("{file}: database error: {source}")]
    Db {
        /// File name.
        file: String,
        /// Cause.
        source: DbError,
    },
}

enum Abort {
    Refused(String, String),
    Db(DbError),
}

impl From<DbError> for Abort {
    fn from(e: DbError) -> Self {
        Self::Db(e)
    }
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::from(e))
    }
}

/// Follows an import as it goes: told, on the writing thread, how many resources are written.
pub trait Watch {
    /// `resources` have been written so far (called after each one: keep it cheap).
    fn written(&self, resources: usize);
}

/// Watches nothing.
struct Unwatched;

impl Watch for Unwatched {
    fn written(&self, _: usize) {}
}

/// A log line every ten seconds with the resources written and their rate.
pub struct LogLines {
    started: Instant,
    last: std::cell::Cell<Instant>,
}

impl Default for LogLines {
    fn default() -> Self {
        Self { started: Instant::now(), last: std::cell::Cell::new(Instant::now()) }
    }
}

impl Watch for LogLines {
    fn written(&self, resources: usize) {
        if !resources.is_multiple_of(256) || self.last.get().elapsed().as_secs() < 10 {
            return;
        }
        self.last.set(Instant::now());
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        log::info!("… {resources} resources ({:.0}/s)", resources as f64 / secs);
    }
}

impl Watch for crate::base::progress::Progress {
    fn written(&self, resources: usize) {
        self.items_done(resources as u64);
    }
}

struct Importer<'a> {
    conn: &'a mut DbConn,
    stats: ImportStats,
    session: Session,
    watch: &'a dyn Watch,
}

/// Parses nothing, writes nothing: checks one resource and maps it to its record.
fn prepare(value: &Value) -> Result<Record, String> {
    let Value::Object(map) = value else { return Err("expected a JSON object (a FHIR resource)".into()) };
    if !matches!(
        map.get("resourceType").and_then(Value::as_str),
        Some("Location" | "HealthcareService" | "Organization")
    ) {
        let rt = map.get("resourceType").map_or_else(|| "none".to_owned(), ToString::to_string);
        return Err(format!("resourceType {rt}: only Location, HealthcareService and Organization are imported"));
    }
    validate::check(value).map_err(|e| e.to_string())?;
    extract::extract(value).map_err(|e| e.to_string())
}

impl Importer<'_> {
    fn write(&mut self, record: &Record) -> Result<(), Abort> {
        match upsert(self.conn, record, &mut self.session)? {
            WriteOutcome::Inserted => self.stats.inserted += 1,
            WriteOutcome::Updated => self.stats.updated += 1,
            WriteOutcome::Unchanged => self.stats.unchanged += 1,
        }
        self.stats.resources += 1;
        self.watch.written(self.stats.resources);
        Ok(())
    }

    fn one(&mut self, location: &str, value: &Value) -> Result<(), Abort> {
        let record = prepare(value).map_err(|m| Abort::Refused(location.to_owned(), m))?;
        self.write(&record)
    }

    /// NDJSON after its first line: a reader thread parses and checks resources while this
    /// thread writes them (the two halves cost about the same). Written records go back to the
    /// reader to be freed: memory is then freed by the thread that allocated it, which glibc's
    /// malloc does without taking that thread's arena lock against it (BENCHMARKS.md).
    fn ndjson_rest(&mut self, reader: &mut (impl BufRead + Send)) -> Result<(), Abort> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Record, Abort>>(512);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Record>();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut line = String::new();
                let mut line_no = 1;
                loop {
                    while let Ok(written) = done_rx.try_recv() {
                        drop(written);
                    }
                    line.clear();
                    line_no += 1;
                    let item = match reader.read_line(&mut line) {
                        Ok(0) => break,
                        Ok(_) if line.trim().is_empty() => continue,
                        Ok(_) => serde_json::from_str::<Value>(line.trim())
                            .map_err(|e| format!("invalid JSON: {e}"))
                            .and_then(|v| prepare(&v))
                            .map_err(|m| Abort::Refused(format!("line {line_no}"), m)),
                        Err(e) => Err(Abort::Refused(format!("line {line_no}"), e.to_string())),
                    };
                    let stop = item.is_err();
                    // The writer hung up (it failed): stop reading.
                    if tx.send(item).is_err() || stop {
                        break;
                    }
                }
            });
            for item in rx {
                let record = item?;
                self.write(&record)?;
                // The reader has stopped when this fails: the record is then freed here.
                let _ = done_tx.send(record);
            }
            Ok(())
        })
    }
}

/// Imports one file in one transaction.
pub fn import_file(conn: &mut DbConn, path: &Path, progress: bool) -> Result<ImportStats, ImportError> {
    let file = path.display().to_string();
    let f = File::open(path).map_err(|source| ImportError::Io { file: file.clone(), source })?;
    import_reader(conn, &file, BufReader::with_capacity(1 << 20, f), progress)
}

/// Imports from a reader (NDJSON, a Bundle, or one resource) in one transaction; with `progress`,
/// a log line every ten seconds.
pub fn import_reader(
    conn: &mut DbConn,
    file: &str,
    reader: impl BufRead + Send,
    progress: bool,
) -> Result<ImportStats, ImportError> {
    let lines = LogLines::default();
    import_watched(conn, file, reader, if progress { &lines } else { &Unwatched })
}

/// [`import_reader`], telling `watch` how it goes.
pub fn import_watched(
    conn: &mut DbConn,
    file: &str,
    mut reader: impl BufRead + Send,
    watch: &dyn Watch,
) -> Result<ImportStats, ImportError> {
    let io = |source| ImportError::Io { file: file.to_owned(), source };
    let mut first = String::new();
    reader.read_line(&mut first).map_err(io)?;
    let now = now_us();
    let result = conn.transaction::<ImportStats, Abort, _>(|c| {
        let mut imp = Importer { conn: c, stats: ImportStats::default(), session: Session::new(now), watch };
        let first_line: Option<Value> = serde_json::from_str(first.trim()).ok();
        let is_bundle = |v: &Value| v.get("resourceType").and_then(Value::as_str) == Some("Bundle");
        match first_line {
            Some(v) if !is_bundle(&v) => {
                // NDJSON: one resource per line, streamed.
                imp.one("line 1", &v)?;
                imp.ndjson_rest(&mut reader)?;
            }
            _ => {
                // A pretty-printed resource or Bundle: read the whole document.
                let mut text = first.clone();
                reader.read_to_string(&mut text).map_err(|e| Abort::Refused("line 1".into(), e.to_string()))?;
                let doc: Value = serde_json::from_str(&text)
                    .map_err(|e| Abort::Refused(format!("line {}", e.line()), format!("invalid JSON: {e}")))?;
                if is_bundle(&doc) {
                    let entries = doc.get("entry").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                    for (i, entry) in entries.iter().enumerate() {
                        let resource = entry.get("resource").ok_or_else(|| {
                            Abort::Refused(format!("entry[{i}]"), "Bundle entry without a resource".into())
                        })?;
                        imp.one(&format!("entry[{i}]"), resource)?;
                    }
                } else {
                    imp.one("line 1", &doc)?;
                }
            }
        }
        // Every import raises the generation, changes or not: when remembered answers are
        // dropped says that an import ran, never whether it changed what some consumer cannot see.
        // The rows still pending are inserted first (`Session::close`).
        std::mem::take(&mut imp.session).close(imp.conn)?;
        // Recorded in this transaction, for the metrics: a refused file records nothing.
        let s = &imp.stats;
        crate::db::write::record_import_run(
            imp.conn,
            &crate::db::write::ImportRun {
                source: file,
                resources: s.resources,
                inserted: s.inserted,
                updated: s.updated,
                unchanged: s.unchanged,
            },
        )?;
        Ok(imp.stats)
    });
    let stats = result.map_err(|e| match e {
        Abort::Refused(location, message) => ImportError::Refused { file: file.to_owned(), location, message },
        Abort::Db(source) => ImportError::Db { file: file.to_owned(), source },
    })?;
    if stats.inserted + stats.updated > 0 {
        refresh_statistics(conn);
    }
    Ok(stats)
}

/// Refreshes the planner's statistics once data changed: without them SQLite reads a capacity
/// probed on a place (`c.location_id = r.id AND c.capacity_status = …`) through the index on the
/// status, thousands of figures instead of the place's few. A failure leaves the data imported.
///
/// On SQLite only the per-index row counts (`sqlite_stat1`) are kept: with the value samples of
/// `sqlite_stat4` (the bundled SQLite is built with STAT4), a prepared statement is planned again
/// each time a new value is bound, which cost the identifier, `_lastUpdated` and `_has` searches
/// 10–20% of their time.
///
/// On PostgreSQL the tables are vacuumed as well: until a row's page is marked all-visible, an
/// index-only read (the token walk, the capacity probe) also reads the row itself (a région's
/// page at 120k places: 0.11 ms for its token rows after `VACUUM`, 1 ms before).
fn refresh_statistics(conn: &mut DbConn) {
    use diesel::RunQueryDsl;
    let statements = match conn {
        DbConn::Sqlite(_) => vec!["ANALYZE", "DELETE FROM sqlite_stat4"],
        DbConn::Postgresql(_) => vec!["VACUUM (ANALYZE)"],
    };
    for sql in statements {
        if let Err(e) = diesel::sql_query(sql).execute(conn) {
            log::warn!("the import is done, but refreshing the planner's statistics failed: {e}");
            return;
        }
    }
}

//! SQLite: the first import of places and offers stores them grouped by région.
//!
//! SQLite keeps a table's rows in rowid order, and rowids follow the order rows came in: the
//! file's order, where a région's places are spread over the whole table (at 120k places, the
//! first page of a région's regulator search had rowids from 3 to 36,200). A région's page then
//! read one 16 KiB page of the table per place, each holding three or four places of other
//! régions. Renumbered in (région, id) order, the places of one région, and the offers of their
//! places, lie next to each other, and such a page reads about half as many pages of each table.
//!
//! Done once, when the import wrote into an empty table (a later import updates rows in place,
//! keeping their rowids, and appends new ones). The text rows ([`super::text`]) are keyed by
//! rowid: the queue of this import, which for a table empty at the start lists every row as
//! come, is written again from the renumbered rows.

use diesel::QueryableByName;
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;

use crate::db::rows::CountRow;
use crate::db::sql::SqlPlan;
use crate::db::{DbConn, DbError, read};

/// Where rows wait while they are renumbered: below every rowid the import gave (all positive).
const ASIDE: i64 = 1 << 40;

/// The tables a first import may renumber, each with its order and its kind of text row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grouped {
    /// Places, by région then id.
    Places,
    /// Offers, by région, then their first place, then id (an offer's places are usually one).
    Offers,
}

impl Grouped {
    fn table(self) -> &'static str {
        match self {
            Self::Places => "locations",
            Self::Offers => "healthcare_services",
        }
    }

    fn order(self) -> &'static str {
        match self {
            Self::Places => "t.region, t.id",
            Self::Offers => {
                "t.region, (SELECT MIN(hl.location_id) FROM healthcare_service_locations hl \
                 WHERE hl.service_id = t.id), t.id"
            }
        }
    }

    fn text_kind(self) -> &'static str {
        match self {
            Self::Places => "location",
            Self::Offers => "service",
        }
    }
}

/// Rows moved per statement. Each statement that changes several rows keeps a journal of the
/// pages it changes until it ends (in memory: `temp_store = MEMORY`); moving a whole table in one
/// statement held a copy of it (the France import's peak RSS went from 0.94 to 1.54 GB).
const CHUNK: i64 = 8192;

/// One of a table's own indexes, as `sqlite_master` holds it.
#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// `table`'s own indexes (not those of its constraints, which have no statement).
fn own_indexes(conn: &mut DbConn, table: &'static str) -> Result<Vec<IndexRow>, DbError> {
    let mut plan = SqlPlan::new("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ");
    plan.text(table);
    plan.push(" AND sql IS NOT NULL ORDER BY name");
    read::load::<IndexRow>(conn, &plan)
}

/// Renumbers `g`'s table in its order: each row is moved aside to its new number below zero,
/// then all come back up in ascending order (so SQLite appends them, and fills each page), and the
/// text queue is written again. Rowid changes fire no trigger (the text triggers watch named
/// columns) and touch no foreign key (they name `id`). The table's own indexes are dropped for the
/// moves and made again after (every entry holds the rowid: each move rewrote all of them).
fn regroup(conn: &mut DbConn, g: Grouped) -> Result<(), DbError> {
    let (table, order, kind) = (g.table(), g.order(), g.text_kind());
    let indexes = own_indexes(conn, table)?;
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX \"{}\"", index.name))?;
    }
    conn.batch_execute(&format!(
        "CREATE TEMP TABLE regroup (old INTEGER PRIMARY KEY, pos INTEGER NOT NULL); \
         INSERT INTO regroup (old, pos) SELECT t.rowid, ROW_NUMBER() OVER (ORDER BY {order}) FROM {table} t;"
    ))?;
    let mut one = |sql: &'static str| -> Result<i64, DbError> {
        Ok(read::load::<CountRow>(conn, &SqlPlan::new(sql))?.first().map_or(0, |r| r.n))
    };
    let last = one("SELECT COALESCE(MAX(old), 0) AS n FROM regroup")?;
    let rows = one("SELECT COUNT(*) AS n FROM regroup")?;
    for lo in (1..=last).step_by(CHUNK as usize) {
        conn.batch_execute(&format!(
            "UPDATE {table} SET rowid = (SELECT pos FROM regroup WHERE old = {table}.rowid) - {ASIDE} \
             WHERE rowid BETWEEN {lo} AND {}",
            lo + CHUNK - 1
        ))?;
    }
    for lo in (1..=rows).step_by(CHUNK as usize) {
        conn.batch_execute(&format!(
            "UPDATE {table} SET rowid = rowid + {ASIDE} WHERE rowid BETWEEN {} AND {}",
            lo - ASIDE,
            lo + CHUNK - 1 - ASIDE
        ))?;
    }
    for index in &indexes {
        conn.batch_execute(&index.sql)?;
    }
    conn.batch_execute(&format!(
        "DROP TABLE regroup; DELETE FROM text_changes WHERE kind = '{kind}'; \
         INSERT INTO text_changes (kind, row_id, removed) SELECT '{kind}', rowid, FALSE FROM {table};"
    ))?;
    Ok(())
}

/// Renumbers each of `tables` (SQLite; PostgreSQL keeps no order by rowid, and nothing is done).
/// Call in the importing transaction, once its rows are all written, before the text queue is
/// applied, and only for tables that were empty when it started.
pub(super) fn group_by_region(conn: &mut DbConn, tables: &[Grouped]) -> Result<(), DbError> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    for g in tables {
        regroup(conn, *g)?;
    }
    Ok(())
}

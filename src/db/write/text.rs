//! SQLite: the rows of the FTS5 tables `:contains` reads (`location_text`, `service_text`, see
//! the migration `trigram_text`) follow the places and offers written by an import.
//!
//! Writing a place or an offer queues its rowid in `text_changes` (the row came, or left); the
//! transaction applies the queue before it commits ([`apply_text_changes`]), so that FTS5 writes
//! its index once. The queue is written here, not by triggers on insert and delete: a statement
//! that fires a trigger keeps a statement journal, a copy of every page it first changes (each
//! index of `locations` and `healthcare_services`): a few percent of the France import on its
//! own, the rest of the journal's cost being the immediate foreign keys' (migration
//! `deferred_foreign_keys`; BENCHMARKS.md). Updates of the indexed columns are still queued by
//! triggers (rare: the re-index of a new search-index version). PostgreSQL indexes its columns
//! itself.

use diesel::prelude::*;

use crate::db::ident::{Ident, healthcare_services as hs, locations as l, text as t};
use crate::db::rows::{NewHealthcareService, NewLocation};
use crate::db::schema::{healthcare_services, locations};
use crate::db::sql::SqlPlan;
use crate::db::{DbConn, DbError, read};

/// Which text table a queued row belongs to (`text_changes.kind`).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Location,
    Service,
}

impl Kind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Location => "location",
            Self::Service => "service",
        }
    }

    /// The table whose rows this kind's text rows follow.
    const fn table(self) -> Ident {
        match self {
            Self::Location => l::TABLE,
            Self::Service => hs::TABLE,
        }
    }
}

/// Queues the text row of the row `kind`'s last insert wrote (SQLite's `last_insert_rowid()`,
/// read in the statement itself: no round trip). Not `RETURNING rowid` on the insert: SQLite
/// runs a RETURNING clause as a trigger, which brings the statement journal back.
fn queue_inserted(conn: &mut DbConn, kind: Kind) -> Result<(), DbError> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    let mut plan = SqlPlan::new("INSERT INTO text_changes (kind, row_id, removed) VALUES (");
    plan.literal(kind.as_str());
    plan.push(", last_insert_rowid(), FALSE)");
    read::execute(conn, &plan).map(|_| ())
}

/// Queues the text row of `kind`'s row `id`, about to be deleted (a row only: OR FAIL keeps the
/// statement without a journal).
fn queue_deleted(conn: &mut DbConn, kind: Kind, id: &str) -> Result<(), DbError> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    let mut plan = SqlPlan::new("INSERT OR FAIL INTO text_changes (kind, row_id, removed) SELECT ");
    plan.literal(kind.as_str());
    plan.push(", rowid, TRUE FROM ");
    plan.ident(kind.table());
    plan.push(" WHERE id = ");
    plan.text(id);
    read::execute(conn, &plan).map(|_| ())
}

/// Inserts place `row`.
pub(super) fn insert_location(conn: &mut DbConn, row: &NewLocation<'_>) -> Result<(), DbError> {
    diesel::insert_into(locations::table).values(row).execute(conn)?;
    queue_inserted(conn, Kind::Location)
}

/// Deletes place `id` (its row only).
pub(super) fn delete_location(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    queue_deleted(conn, Kind::Location, id)?;
    diesel::delete(locations::table.find(id)).execute(conn)?;
    Ok(())
}

/// Inserts offer `row`.
pub(super) fn insert_service(conn: &mut DbConn, row: &NewHealthcareService<'_>) -> Result<(), DbError> {
    diesel::insert_into(healthcare_services::table).values(row).execute(conn)?;
    queue_inserted(conn, Kind::Service)
}

/// Deletes offer `id` (its row only).
pub(super) fn delete_service(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    queue_deleted(conn, Kind::Service, id)?;
    diesel::delete(healthcare_services::table.find(id)).execute(conn)?;
    Ok(())
}

/// Writes the rows queued in `text_changes` into the FTS5 tables: the text rows of the rows that
/// left, then those of the rows that came (from the table as it is now). In two statements per
/// table, so that FTS5 writes its index once rather than at each record.
pub(super) fn apply_text_changes(conn: &mut DbConn) -> Result<(), DbError> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    let places = [l::ID, l::NAME_NORM, l::CITY_NORM, l::POSTAL_CODE];
    for (kind, text, columns) in
        [(Kind::Location, t::LOCATIONS, &places[..]), (Kind::Service, t::SERVICES, &[hs::ID, hs::NAME_NORM])]
    {
        let (kind, text, table) = (kind.as_str(), text.as_str(), kind.table().as_str());
        let columns = columns.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
        let queued =
            |removed: &str| format!("SELECT row_id FROM text_changes WHERE kind = '{kind}' AND removed = {removed}");
        let sql = format!(
            "DELETE FROM {text} WHERE rowid IN ({}); \
             INSERT INTO {text} (rowid, {columns}) SELECT rowid, {columns} FROM {table} WHERE rowid IN ({});",
            queued("TRUE"),
            queued("FALSE")
        );
        diesel::connection::SimpleConnection::batch_execute(conn, &sql)?;
    }
    diesel::connection::SimpleConnection::batch_execute(conn, "DELETE FROM text_changes;")?;
    Ok(())
}

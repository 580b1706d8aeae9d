//! Brings the search index of stored resources (their tokens and the columns searches read) to the
//! version this build writes, by re-deriving it from the stored resources. A database written by
//! an earlier version lacks what later parameters search (e.g. `operational-status`, `specialty`,
//! `address-city`); the start-up runs this once, in one transaction, then records the version.

use diesel::prelude::*;

use super::location::{STORED_COLUMNS, StoredRow, stored_record};
use super::pending::Pending;
use super::{delete_tokens, insert_tokens};
use crate::db::schema::{healthcare_services, location_positions, locations, search_index_state};
use crate::db::{DbConn, DbError};
use crate::fhir::extract::{self, Record};
use crate::search::normalize;

/// The version of the search index this build writes: raise it when extraction adds a token or a
/// searched column.
pub const SEARCH_INDEX_VERSION: i32 = 2;

/// Rows re-derived per statement batch.
const BATCH: i64 = 500;

/// Re-derives the index when the stored one is older than [`SEARCH_INDEX_VERSION`]; returns how
/// many resources were re-derived. Call inside a transaction.
pub fn reindex_if_stale(conn: &mut DbConn) -> Result<usize, DbError> {
    let stored: Option<i32> =
        search_index_state::table.find(1).select(search_index_state::version).first(conn).optional()?;
    if stored.is_some_and(|v| v >= SEARCH_INDEX_VERSION) {
        return Ok(0);
    }
    let n = reindex_locations(conn)? + reindex_services(conn)?;
    diesel::delete(search_index_state::table).execute(conn)?;
    diesel::insert_into(search_index_state::table)
        .values((search_index_state::id.eq(1), search_index_state::version.eq(SEARCH_INDEX_VERSION)))
        .execute(conn)?;
    Ok(n)
}

fn stale(message: String) -> DbError {
    DbError::Migration(message)
}

fn reindex_locations(conn: &mut DbConn) -> Result<usize, DbError> {
    let mut after = String::new();
    let mut n = 0;
    loop {
        let rows: Vec<(String, StoredRow)> = locations::table
            .filter(locations::id.gt(&after))
            .order(locations::id)
            .limit(BATCH)
            .select((locations::id, STORED_COLUMNS))
            .load(conn)?;
        let Some(last) = rows.last() else { return Ok(n) };
        after = last.0.clone();
        let mut pending = Pending::default();
        for (id, row) in &rows {
            let l = stored_record(id, row, std::iter::empty())?;
            delete_tokens(conn, "Location", id)?;
            insert_tokens(conn, &mut pending, "Location", &l.common)?;
            super::note_tags_off_region(conn, &l.common)?;
            diesel::delete(location_positions::table.find(id)).execute(conn)?;
            super::location::insert_position(&mut pending, id, &l);
            diesel::update(locations::table.find(id))
                .set((
                    locations::city_norm.eq(l.city.as_deref().map(normalize)),
                    locations::part_of_id.eq(l.part_of_id.as_deref()),
                ))
                .execute(conn)?;
            n += 1;
        }
        pending.flush(conn)?;
    }
}

fn reindex_services(conn: &mut DbConn) -> Result<usize, DbError> {
    let mut after = String::new();
    let mut n = 0;
    loop {
        let rows: Vec<(String, String)> = healthcare_services::table
            .filter(healthcare_services::id.gt(&after))
            .order(healthcare_services::id)
            .limit(BATCH)
            .select((healthcare_services::id, healthcare_services::resource_json))
            .load(conn)?;
        let Some(last) = rows.last() else { return Ok(n) };
        after = last.0.clone();
        let mut pending = Pending::default();
        for (id, json) in &rows {
            let value: serde_json::Value =
                serde_json::from_str(json).map_err(|e| stale(format!("HealthcareService/{id}: {e}")))?;
            let Ok(Record::HealthcareService(h)) = extract::extract(&value) else {
                return Err(stale(format!("HealthcareService/{id}: stored JSON is not a ROR offer any more")));
            };
            delete_tokens(conn, "HealthcareService", id)?;
            insert_tokens(conn, &mut pending, "HealthcareService", &h.common)?;
            diesel::update(healthcare_services::table.find(id))
                .set(healthcare_services::name_norm.eq(h.name.as_deref().map(normalize)))
                .execute(conn)?;
            n += 1;
        }
        pending.flush(conn)?;
    }
}

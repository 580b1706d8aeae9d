//! Writes (import only; the serving pool is read-only). Each record replaces the stored rows of
//! its resource; its served JSON, and the Observation JSON of each capacity figure, are rendered
//! here, once.
//!
//! `meta.lastUpdated` rule: the source's `meta.lastUpdated` (import time when absent); when the
//! content changed but that instant is not after the stored one, the import time (so a change is
//! always seen by `_lastUpdated=ge…`). A place has one such instant per view (see
//! [`crate::auth::views`] and [`location`]).

mod batch;
mod cluster;
mod location;
mod packing;
mod pending;
mod reindex;
mod text;

pub use location::upgrade_legacy_locations;
pub use packing::pack_stored_pieces;
pub use reindex::{SEARCH_INDEX_VERSION, reindex_if_stale};

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use self::cluster::Grouped;
use self::pending::Pending;
use super::rows::{NewHealthcareService, NewOrganization};
use super::schema::{healthcare_service_locations, healthcare_services, organizations, search_tokens};
use super::{DbConn, DbError, read};
use crate::auth::views::next_last_updated;
use crate::db::ident::{Ident, search_tags_off_region as off_region, search_tokens_shared as shared};
use crate::db::sql::SqlPlan;
use crate::fhir::extract::{Common, HealthcareServiceRecord, OrganizationRecord, Record};
use crate::fhir::{ResourceType, render};

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// New resource.
    Inserted,
    /// Changed resource.
    Updated,
    /// Same content as stored: nothing written.
    Unchanged,
}

/// Queues the search tokens of a resource (see [`pending`]).
fn insert_tokens(
    conn: &mut DbConn,
    pending: &mut Pending,
    resource_type: &str,
    common: &Common,
) -> Result<(), DbError> {
    let mut seen = std::collections::HashSet::new();
    for t in &common.tokens {
        if !seen.insert((t.param, t.system.as_str(), t.code.as_str())) {
            continue;
        }
        pending.tokens.push([
            batch::text(resource_type),
            batch::text(t.param),
            batch::text(&t.code),
            batch::text(&t.system),
            batch::text(&common.id),
        ]);
    }
    note_shared_codes(conn, resource_type, common)
}

/// Records the codes this resource holds in several systems of one parameter, so that a search
/// walking such a code without a system keeps each resource once (`db::sql::walk`). Kept when
/// the resource changes: a code recorded in vain only costs those walks a probe per candidate.
fn note_shared_codes(conn: &mut DbConn, resource_type: &str, common: &Common) -> Result<(), DbError> {
    let mut systems: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    for t in &common.tokens {
        systems.entry((t.param, t.code.as_str())).or_default().insert(t.system.as_str());
    }
    for ((param, code), in_systems) in systems {
        if in_systems.len() < 2 {
            continue;
        }
        let columns = [shared::RESOURCE_TYPE, shared::PARAM, shared::CODE];
        insert_once(conn, shared::TABLE, &columns, &[resource_type, param, code])?;
    }
    Ok(())
}

/// Inserts one row of text `values` into `table`'s `columns`, unless a row with its key is there.
fn insert_once(conn: &mut DbConn, table: Ident, columns: &[Ident], values: &[&str]) -> Result<(), DbError> {
    let mut plan = SqlPlan::new("INSERT INTO ");
    plan.ident(table);
    plan.push(" (");
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            plan.push(", ");
        }
        plan.ident(*c);
    }
    plan.push(") VALUES (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            plan.push(", ");
        }
        plan.text(*v);
    }
    plan.push(") ON CONFLICT DO NOTHING");
    read::execute(conn, &plan).map(|_| ())
}

/// Records the `_tag` codes a place holds other than as its région, for which a search by
/// `_tag` and figures cannot be read along the figures' région (`db::sql::figure_walk`). Kept
/// when the place changes, as [`note_shared_codes`] keeps its codes.
fn note_tags_off_region(conn: &mut DbConn, common: &Common) -> Result<(), DbError> {
    let off = common.tokens.iter().filter(|t| t.param == "_tag" && common.region.as_deref() != Some(t.code.as_str()));
    for t in off {
        insert_once(conn, off_region::TABLE, &[off_region::CODE], &[t.code.as_str()])?;
    }
    Ok(())
}

fn delete_tokens(conn: &mut DbConn, resource_type: &str, id: &str) -> Result<(), DbError> {
    diesel::delete(
        search_tokens::table
            .filter(search_tokens::resource_type.eq(resource_type))
            .filter(search_tokens::resource_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}

/// The distinct values, sorted, comma-separated (codes never contain commas).
fn distinct_joined<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(",")
}

/// One import transaction: its instant, the places it created (no consumer has seen them yet, so
/// what happens to them before it commits moves none of their views), and the rows it has not
/// inserted yet. [`Session::close`] ends it.
#[derive(Default)]
pub struct Session {
    now_us: i64,
    new_places: HashSet<String>,
    /// The places linked to a sensitive unit, read at the first need and kept up to date.
    sensitive: Option<HashSet<String>>,
    pending: Pending,
    /// Per resource type, whether its table held no row when the session first wrote one.
    empty_at_start: HashMap<ResourceType, bool>,
    /// The key ([`pending::resource_key`]) of each resource written, of the types whose table
    /// was empty at the start.
    written: HashSet<u64>,
}

impl Session {
    /// A transaction importing at `now_us`.
    pub fn new(now_us: i64) -> Self {
        Self { now_us, ..Self::default() }
    }

    /// Inserts the pending rows, then raises the data generation ([`advance_generation`]). Call
    /// at the end of the transaction, before it commits: rows still pending are not written.
    pub fn close(mut self, conn: &mut DbConn) -> Result<(), DbError> {
        self.pending.flush(conn)?;
        let first = |rt| self.empty_at_start.get(&rt) == Some(&true);
        let grouped: Vec<Grouped> =
            [(ResourceType::Location, Grouped::Places), (ResourceType::HealthcareService, Grouped::Offers)]
                .into_iter()
                .filter(|(rt, _)| first(*rt))
                .map(|(_, g)| g)
                .collect();
        cluster::group_by_region(conn, &grouped)?;
        advance_generation(conn)
    }

    /// Whether `resource_type`/`id` is surely not stored: its table was empty when this session
    /// first asked, and the session has not written it since. A first import of a file then
    /// reads nothing back, one round trip per resource fewer on PostgreSQL.
    fn surely_new(&mut self, conn: &mut DbConn, resource_type: ResourceType, id: &str) -> Result<bool, DbError> {
        let empty = match self.empty_at_start.get(&resource_type) {
            Some(empty) => *empty,
            None => {
                let empty = table_is_empty(conn, resource_type)?;
                self.empty_at_start.insert(resource_type, empty);
                empty
            }
        };
        Ok(empty && !self.written.contains(&pending::resource_key(resource_type, id)))
    }

    /// Notes that `resource_type`/`id` was written (for [`Session::surely_new`]).
    fn wrote(&mut self, resource_type: ResourceType, id: &str) {
        if self.empty_at_start.get(&resource_type) == Some(&true) {
            self.written.insert(pending::resource_key(resource_type, id));
        }
    }

    /// Whether place `id` is linked to a sensitive unit.
    fn is_sensitive(&mut self, conn: &mut DbConn, id: &str) -> Result<bool, DbError> {
        if self.sensitive.is_none() {
            self.pending.flush(conn)?;
            let rows = super::read::load::<super::read::TextRow>(conn, &crate::db::sql::all_sensitive_places())?;
            self.sensitive = Some(rows.into_iter().map(|r| r.v).collect());
        }
        Ok(self.sensitive.as_ref().is_some_and(|s| s.contains(id)))
    }

    fn set_sensitive(&mut self, id: &str, sensitive: bool) {
        if let Some(set) = &mut self.sensitive {
            if sensitive {
                set.insert(id.to_owned());
            } else {
                set.remove(id);
            }
        }
    }
}

/// Whether the table of `resource_type` holds no row (Observations have none of their own: never).
fn table_is_empty(conn: &mut DbConn, resource_type: ResourceType) -> Result<bool, DbError> {
    use super::schema::locations;
    let found: Option<String> = match resource_type {
        ResourceType::Location => locations::table.select(locations::id).first(conn).optional()?,
        ResourceType::HealthcareService => {
            healthcare_services::table.select(healthcare_services::id).first(conn).optional()?
        }
        ResourceType::Organization => organizations::table.select(organizations::id).first(conn).optional()?,
        ResourceType::Observation => return Ok(false),
    };
    Ok(found.is_none())
}

/// Raises the data generation (see [`crate::db::read::generation`]), after bringing the SQLite
/// text tables and the capacity totals ([`crate::db::totals`]) up to date. Call inside the
/// transaction that changed what consumers read, at its end.
pub fn advance_generation(conn: &mut DbConn) -> Result<(), DbError> {
    use super::schema::data_generation as g;
    text::apply_text_changes(conn)?;
    super::totals::refresh(conn)?;
    diesel::update(g::table.find(1)).set(g::generation.eq(g::generation + 1)).execute(conn)?;
    Ok(())
}

/// What one import did, as recorded in `import_runs`.
#[derive(Debug, Clone, Copy)]
pub struct ImportRun<'a> {
    /// The file imported (as the import names it).
    pub source: &'a str,
    /// Resources read.
    pub resources: usize,
    /// New resources.
    pub inserted: usize,
    /// Changed resources.
    pub updated: usize,
    /// Resources identical to what was stored.
    pub unchanged: usize,
}

/// Records `run`, finished now, in `import_runs` (read by the metrics,
/// [`crate::db::read::import_totals`]). Call inside the import's transaction, at its end: a file
/// refused, whose transaction is rolled back, records nothing.
pub fn record_import_run(conn: &mut DbConn, run: &ImportRun<'_>) -> Result<(), DbError> {
    use super::schema::import_runs as r;
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    diesel::insert_into(r::table)
        .values((
            r::finished_at.eq(crate::base::clock::now_us()),
            r::source.eq(run.source),
            r::resources.eq(count(run.resources)),
            r::inserted.eq(count(run.inserted)),
            r::updated.eq(count(run.updated)),
            r::unchanged.eq(count(run.unchanged)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inserts or replaces one record. Call inside the session's transaction.
pub fn upsert(conn: &mut DbConn, record: &Record, session: &mut Session) -> Result<WriteOutcome, DbError> {
    let (resource_type, id) = match record {
        Record::Location(l) => (ResourceType::Location, l.common.id.as_str()),
        Record::HealthcareService(h) => (ResourceType::HealthcareService, h.common.id.as_str()),
        Record::Organization(o) => (ResourceType::Organization, o.common.id.as_str()),
    };
    session.pending.settle(conn, resource_type, id)?;
    let new = session.surely_new(conn, resource_type, id)?;
    let outcome = match record {
        Record::Location(l) => {
            let outcome = location::upsert(conn, l, new, session)?;
            if outcome == WriteOutcome::Inserted {
                session.new_places.insert(l.common.id.clone());
            }
            outcome
        }
        Record::HealthcareService(h) => upsert_service(conn, h, new, session)?,
        Record::Organization(o) => upsert_organization(conn, o, new, session)?,
    };
    session.wrote(resource_type, id);
    session.pending.flush_if_full(conn)?;
    Ok(outcome)
}

/// The stored instant, JSON and sensitivity of offer `id`.
fn previous_service(conn: &mut DbConn, id: &str) -> Result<Option<(i64, String, bool)>, DbError> {
    Ok(healthcare_services::table
        .find(id)
        .select((
            healthcare_services::last_updated,
            healthcare_services::resource_json,
            healthcare_services::sensitive_unit,
        ))
        .first(conn)
        .optional()?)
}

/// Inserts or replaces an offer; `new` when it is surely not stored yet.
fn upsert_service(
    conn: &mut DbConn,
    h: &HealthcareServiceRecord,
    new: bool,
    session: &mut Session,
) -> Result<WriteOutcome, DbError> {
    let id = h.common.id.as_str();
    let now_us = session.now_us;
    let previous = if new { None } else { previous_service(conn, id)? };
    if let Some((prev_lu, prev_json, _)) = &previous
        && render::resource(&h.common.base, *prev_lu) == *prev_json
    {
        return Ok(WriteOutcome::Unchanged);
    }
    let candidate = h.common.source_last_updated_us.unwrap_or(now_us);
    let last_updated = next_last_updated(candidate, previous.as_ref().map(|p| p.0), now_us);
    // Only a sensitive unit, before or after, can change which places are linked to one.
    let was_sensitive = previous.as_ref().is_some_and(|p| p.2);
    let sensitivity = if was_sensitive || h.sensitive_unit {
        // The offer's own pending rows were inserted before it was read (`Pending::settle`).
        let mut places: Vec<String> = healthcare_service_locations::table
            .filter(healthcare_service_locations::service_id.eq(id))
            .select(healthcare_service_locations::location_id)
            .load(conn)?;
        places.extend(h.location_ids.iter().cloned());
        places.sort();
        places.dedup();
        let before = places.iter().map(|p| session.is_sensitive(conn, p)).collect::<Result<Vec<_>, _>>()?;
        Some((places, before))
    } else {
        None
    };
    if previous.is_some() {
        diesel::delete(healthcare_service_locations::table.filter(healthcare_service_locations::service_id.eq(id)))
            .execute(conn)?;
        text::delete_service(conn, id)?;
        delete_tokens(conn, "HealthcareService", id)?;
    }
    insert_service(conn, &mut session.pending, h, last_updated)?;
    for location_id in &h.location_ids {
        session.pending.links.push([batch::text(id), batch::text(location_id)]);
    }
    insert_tokens(conn, &mut session.pending, "HealthcareService", &h.common)?;
    if let Some((places, before)) = sensitivity {
        // The places' sensitivity is read from the links, this offer's among them.
        session.pending.flush(conn)?;
        let mut flipped = Vec::new();
        for (place, was) in places.into_iter().zip(before) {
            let is = location::is_sensitive(conn, &place)?;
            session.set_sensitive(&place, is);
            if is != was {
                flipped.push(place);
            }
        }
        location::sensitivity_changed(conn, &flipped, session)?;
    }
    Ok(if previous.is_some() { WriteOutcome::Updated } else { WriteOutcome::Inserted })
}

/// Inserts or replaces an organisation; `new` when it is surely not stored yet.
fn upsert_organization(
    conn: &mut DbConn,
    o: &OrganizationRecord,
    new: bool,
    session: &mut Session,
) -> Result<WriteOutcome, DbError> {
    let id = o.common.id.as_str();
    let now_us = session.now_us;
    let previous: Option<(i64, String)> = if new {
        None
    } else {
        organizations::table
            .find(id)
            .select((organizations::last_updated, organizations::resource_json))
            .first(conn)
            .optional()?
    };
    if let Some((prev_lu, prev_json)) = &previous
        && render::resource(&o.common.base, *prev_lu) == *prev_json
    {
        return Ok(WriteOutcome::Unchanged);
    }
    let candidate = o.common.source_last_updated_us.unwrap_or(now_us);
    let last_updated = next_last_updated(candidate, previous.as_ref().map(|p| p.0), now_us);
    if previous.is_some() {
        diesel::delete(organizations::table.find(id)).execute(conn)?;
        delete_tokens(conn, "Organization", id)?;
    }
    let json = render::resource(&o.common.base, last_updated);
    session.pending.organization(&NewOrganization {
        id,
        finess: o.finess.as_deref(),
        name: o.name.as_deref(),
        part_of_id: o.part_of_id.as_deref(),
        region: o.common.region.as_deref(),
        last_updated,
        resource_json: &json,
    });
    insert_tokens(conn, &mut session.pending, "Organization", &o.common)?;
    Ok(if previous.is_some() { WriteOutcome::Updated } else { WriteOutcome::Inserted })
}

/// The row of offer `h`, served as of `last_updated`.
fn insert_service(
    conn: &mut DbConn,
    pending: &mut Pending,
    h: &HealthcareServiceRecord,
    last_updated: i64,
) -> Result<(), DbError> {
    let id = h.common.id.as_str();
    let json = render::resource(&h.common.base, last_updated);
    pending.offer(
        conn,
        &NewHealthcareService {
            id,
            identifier_value: h.identifier_value.as_deref(),
            name: h.name.as_deref(),
            type_code: h.type_code.as_deref(),
            category_code: h.category_code.as_deref(),
            specialty_code: h.specialty_code.as_deref(),
            sensitive_unit: h.sensitive_unit,
            provided_by_id: h.provided_by_id.as_deref(),
            region: h.common.region.as_deref(),
            created_at: h.common.created_at_us,
            last_updated,
            resource_json: &json,
            name_norm: h.name.as_deref().map(crate::search::normalize),
        },
    )
}

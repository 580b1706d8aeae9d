//! Writing a place: its row (JSON around its figures, its figures in one piece, and its
//! `meta.lastUpdated`), one row per capacity figure (the facts searches and its Observation are
//! made of; the Observation is rendered when read), its search tokens, and one row per view
//! (`location_views`: when what each capacity scope shows of it last changed).
//!
//! Instants: the place itself (`locations.last_updated`) is the source's `meta.lastUpdated` when it
//! first arrives, then moves only when the place without its figures changes. A figure keeps its
//! instant while it does not change; a changed one takes its `capacityUpdateDate` (or the import
//! time when that is not after its previous instant); a figure added to a known place takes the
//! import time. Each view then follows [`crate::auth::views`]. Observation ids follow the figure's
//! identity ([`render::observation_ids`]), not its position among figures a consumer may not see.

use std::collections::HashMap;

use diesel::prelude::*;

use super::batch::{opt_text, text};
use super::pending::Pending;
use super::{Session, WriteOutcome, delete_tokens, distinct_joined, insert_tokens};
use crate::auth::policy;
use crate::auth::views::{self, Figure, PlaceState, next_last_updated};
use crate::db::read::{self, TextRow};
use crate::db::rows::{NewLocation, NewLocationView};
use crate::db::schema::{capacities, location_positions, location_views, locations};
use crate::db::sql::{self, Bind};
use crate::db::{DbConn, DbError};
use crate::fhir::extract::{self, LocationRecord, Record};
use crate::fhir::figures;
use crate::fhir::render::{self, LocationParts};
use crate::search::date::format_instant;
use crate::search::{near, normalize};

/// The stored piece of place `id` ('' when it has none), unpacked.
fn unpacked(id: &str, packed: Option<&[u8]>) -> Result<String, DbError> {
    packed.map_or(Ok(String::new()), |p| {
        figures::unpack(p).map_err(|e| DbError::Unreadable(format!("Location/{id}: {e}")))
    })
}

/// The capacity extensions of place `id` in its stored piece, which holds one per row of
/// `capacities` (`n`).
fn stored_figures<'a>(id: &str, piece: &'a str, n: usize) -> Result<Vec<&'a str>, DbError> {
    let figures = figures::split(piece);
    if figures.len() != n {
        return Err(DbError::Unreadable(format!(
            "Location/{id}: {} capacity extensions stored for {n} figures",
            figures.len()
        )));
    }
    Ok(figures)
}

/// One stored figure, as far as a new import of its place is concerned.
#[derive(Debug)]
struct StoredFigure {
    observation_id: String,
    json: String,
    last_updated: i64,
    status: String,
    assignment: String,
}

/// What is stored of a place.
struct Previous {
    base_last_updated: i64,
    region: Option<String>,
    head: String,
    tail: String,
    figures: Vec<StoredFigure>,
    views: HashMap<String, i64>,
}

fn load_previous(conn: &mut DbConn, id: &str) -> Result<Option<Previous>, DbError> {
    type PlaceRow = (i64, Option<String>, String, String, Option<Vec<u8>>);
    let row: Option<PlaceRow> = locations::table
        .find(id)
        .select((
            locations::last_updated,
            locations::region,
            locations::json_head,
            locations::json_tail,
            locations::figures_lz4,
        ))
        .first(conn)
        .optional()?;
    let Some((base_last_updated, region, head, tail, packed)) = row else { return Ok(None) };
    let piece = unpacked(id, packed.as_deref())?;
    let rows: Vec<(String, i64, String, String)> = capacities::table
        .filter(capacities::location_id.eq(id))
        .order(capacities::seq)
        .select((
            capacities::observation_id,
            capacities::last_updated,
            capacities::capacity_status,
            capacities::temporary_assignment,
        ))
        .load(conn)?;
    let jsons = stored_figures(id, &piece, rows.len())?;
    let figures = rows
        .into_iter()
        .zip(jsons)
        .map(|((observation_id, last_updated, status, assignment), json)| StoredFigure {
            observation_id,
            json: json.to_owned(),
            last_updated,
            status,
            assignment,
        })
        .collect();
    let views = location_views::table
        .filter(location_views::location_id.eq(id))
        .select((location_views::view, location_views::last_updated))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(Some(Previous { base_last_updated, region, head, tail, figures, views }))
}

/// Whether the place is linked to a sensitive unit (its figures are then hidden from every scope
/// that hides those).
pub(super) fn is_sensitive(conn: &mut DbConn, id: &str) -> Result<bool, DbError> {
    Ok(!read::load::<TextRow>(conn, &sql::sensitive_places(&[id.to_owned()]))?.is_empty())
}

fn figures_of(stored: &[StoredFigure]) -> Vec<Figure<'_>> {
    stored
        .iter()
        .map(|f| Figure { status: &f.status, assignment: &f.assignment, json: &f.json, last_updated: f.last_updated })
        .collect()
}

/// Everything a place's rows are written from.
struct Planned {
    parts: LocationParts,
    base_last_updated: i64,
    observation_ids: Vec<String>,
    figure_last_updated: Vec<i64>,
    views: Vec<(String, i64)>,
    /// Linked to a sensitive unit.
    sensitive: bool,
}

/// Inserts or replaces a place (`new` when it is surely not stored yet). Call inside a
/// transaction, with nothing of this place pending.
pub(super) fn upsert(
    conn: &mut DbConn,
    l: &LocationRecord,
    new: bool,
    session: &mut Session,
) -> Result<WriteOutcome, DbError> {
    let id = l.common.id.as_str();
    let now_us = session.now_us;
    let previous = if new { None } else { load_previous(conn, id)? };
    let parts = render::location_parts(&l.common.base);
    let ids = render::observation_ids(id, &l.capacities);
    let Some(prev) = previous else {
        let base = l.common.source_last_updated_us.unwrap_or(now_us);
        let lus: Vec<i64> = l.capacities.iter().map(|c| c.update_date_us).collect();
        let sensitive = session.is_sensitive(conn, id)?;
        let plan = plan_fresh(l, parts, ids, base, lus, sensitive);
        insert(conn, &mut session.pending, l, &plan)?;
        return Ok(WriteOutcome::Inserted);
    };
    let base_changed = prev.head != parts.head || prev.tail != parts.tail;
    let region_changed = prev.region != l.common.region;
    let same_figures = prev.figures.len() == l.capacities.len()
        && prev
            .figures
            .iter()
            .zip(l.capacities.iter().zip(&ids))
            .all(|(old, (new, new_id))| old.json == new.extension_json && old.observation_id == *new_id);
    if !base_changed && same_figures && !region_changed {
        return Ok(WriteOutcome::Unchanged);
    }
    let base = if base_changed {
        next_last_updated(l.common.source_last_updated_us.unwrap_or(now_us), Some(prev.base_last_updated), now_us)
    } else {
        prev.base_last_updated
    };
    // An Observation carries its place's region: a new region changes every Observation.
    let lus: Vec<i64> = l
        .capacities
        .iter()
        .zip(&ids)
        .map(|(cap, oid)| match prev.figures.iter().find(|f| f.observation_id == *oid) {
            Some(f) if f.json == cap.extension_json && !region_changed => f.last_updated,
            Some(f) => next_last_updated(cap.update_date_us, Some(f.last_updated), now_us),
            None => now_us,
        })
        .collect();
    let sensitive = session.is_sensitive(conn, id)?;
    let before_figures = figures_of(&prev.figures);
    let before = PlaceState { base_last_updated: prev.base_last_updated, sensitive, figures: &before_figures };
    let after_figures = new_figures(l, &lus);
    let after = PlaceState { base_last_updated: base, sensitive, figures: &after_figures };
    let views = policy::views()
        .iter()
        .map(|scope| {
            let key = scope.view_key();
            let previous = prev.views.get(&key).copied();
            let lu = views::after_change(scope, previous, base_changed, &before, &after, now_us);
            (key, lu)
        })
        .collect();
    let plan =
        Planned { parts, base_last_updated: base, observation_ids: ids, figure_last_updated: lus, views, sensitive };
    delete(conn, id)?;
    insert(conn, &mut session.pending, l, &plan)?;
    Ok(WriteOutcome::Updated)
}

fn new_figures<'a>(l: &'a LocationRecord, lus: &[i64]) -> Vec<Figure<'a>> {
    l.capacities
        .iter()
        .zip(lus)
        .map(|(c, lu)| Figure {
            status: &c.capacity_status,
            assignment: &c.temporary_assignment,
            json: &c.extension_json,
            last_updated: *lu,
        })
        .collect()
}

/// The rows of a place computed from one state alone (a new place, or an upgraded one).
fn plan_fresh(
    l: &LocationRecord,
    parts: LocationParts,
    observation_ids: Vec<String>,
    base_last_updated: i64,
    figure_last_updated: Vec<i64>,
    sensitive: bool,
) -> Planned {
    let figures = new_figures(l, &figure_last_updated);
    let state = PlaceState { base_last_updated, sensitive, figures: &figures };
    let views = policy::views().iter().map(|s| (s.view_key(), views::fresh(s, &state))).collect();
    Planned { parts, base_last_updated, observation_ids, figure_last_updated, views, sensitive }
}

fn delete(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    diesel::delete(capacities::table.filter(capacities::location_id.eq(id))).execute(conn)?;
    diesel::delete(location_views::table.filter(location_views::location_id.eq(id))).execute(conn)?;
    super::text::delete_location(conn, id)?;
    diesel::delete(location_positions::table.find(id)).execute(conn)?;
    delete_tokens(conn, "Location", id)
}

/// Queues the row of `near` searches of place `id`, when it has a position.
pub(super) fn insert_position(pending: &mut Pending, id: &str, l: &LocationRecord) {
    let (Some(lat), Some(lon)) = (l.latitude, l.longitude) else { return };
    if near::is_position(lat, lon) {
        pending.position(id, lat, lon, near::unit_vector(lat, lon));
    }
}

/// Queues a place's figures in `pending`, each marked when it is the place's first of its status
/// and type (`first_of_kind`, which the région walk reads).
fn insert_figures(pending: &mut Pending, id: &str, l: &LocationRecord, plan: &Planned) {
    // The kinds (status, type) of the figures queued so far.
    let mut kinds: Vec<(&str, &str)> = Vec::with_capacity(l.capacities.len());
    for (seq, ((cap, obs_id), lu)) in
        l.capacities.iter().zip(&plan.observation_ids).zip(&plan.figure_last_updated).enumerate()
    {
        let kind = (cap.capacity_status.as_str(), cap.capacity_type.as_str());
        let first_of_kind = !kinds.contains(&kind);
        if first_of_kind {
            kinds.push(kind);
        }
        pending.figures.push([
            text(id),
            Bind::BigInt(i64::try_from(seq + 1).unwrap_or(i64::MAX)),
            text(obs_id),
            text(&cap.capacity_type),
            text(&cap.capacity_status),
            text(&cap.temporality),
            Bind::BigInt(i64::from(cap.nb_capacity)),
            text(&cap.source_type),
            opt_text(cap.gender.as_deref()),
            text(&cap.update_date),
            Bind::BigInt(cap.update_date_us),
            opt_text(cap.closing_type.as_deref()),
            opt_text(cap.additional_bed_type.as_deref()),
            opt_text(cap.crisis_type.as_deref()),
            text(&cap.temporary_assignment),
            opt_text(cap.comment.as_deref()),
            Bind::BigInt(*lu),
            opt_text(l.common.region.as_deref()),
            Bind::Bool(first_of_kind),
        ]);
    }
}

/// Writes a place's row, and queues its other rows in `pending`.
fn insert(conn: &mut DbConn, pending: &mut Pending, l: &LocationRecord, plan: &Planned) -> Result<(), DbError> {
    let id = l.common.id.as_str();
    let parts = &plan.parts;
    let piece = l.capacities.iter().map(|c| c.extension_json.as_str()).collect::<Vec<_>>().join(",");
    let figure_statuses = distinct_joined(l.capacities.iter().map(|c| c.capacity_status.as_str()));
    let figure_assignments = distinct_joined(l.capacities.iter().map(|c| c.temporary_assignment.as_str()));
    let view_instants = views::encode_instants(&plan.views);
    pending.place(
        conn,
        &NewLocation {
            id,
            functional_id: l.functional_id.as_deref(),
            external_id: l.external_id.as_deref(),
            name: l.name.as_deref(),
            name_norm: l.name.as_deref().map(normalize),
            status: l.status.as_deref(),
            operational_status: l.operational_status.as_deref(),
            type_code: l.type_code.as_deref(),
            address_line: l.address_line.as_deref(),
            postal_code: l.postal_code.as_deref(),
            city: l.city.as_deref(),
            commune_insee: l.commune_insee.as_deref(),
            latitude: l.latitude,
            longitude: l.longitude,
            managing_org_id: l.managing_org_id.as_deref(),
            region: l.common.region.as_deref(),
            created_at: l.common.created_at_us,
            last_updated: plan.base_last_updated,
            json_head: &parts.head,
            json_tail: &parts.tail,
            empty_head_len: i64::try_from(parts.empty_head_len).unwrap_or(0),
            empty_tail_skip: i64::try_from(parts.empty_tail_skip).unwrap_or(0),
            figures_lz4: Some(&figures::pack(&piece)),
            figure_statuses: Some(&figure_statuses),
            figure_assignments: Some(&figure_assignments),
            lu_at: i64::try_from(parts.last_updated_at).ok(),
            view_instants: Some(&view_instants),
            sensitive: plan.sensitive,
            city_norm: l.city.as_deref().map(normalize),
            part_of_id: l.part_of_id.as_deref(),
        },
    )?;
    insert_figures(pending, id, l, plan);
    insert_tokens(conn, pending, "Location", &l.common)?;
    super::note_tags_off_region(conn, &l.common)?;
    insert_position(pending, id, l);
    for (view, lu) in &plan.views {
        pending.views.push([text(id), text(view), Bind::BigInt(*lu)]);
    }
    Ok(())
}

/// Moves the views of the places whose link to a sensitive unit appeared or disappeared (an offer
/// changed): every view that showed, or now shows, a figure of such a place changed. Call inside
/// the transaction that changed the offer.
pub(super) fn sensitivity_changed(conn: &mut DbConn, place_ids: &[String], session: &Session) -> Result<(), DbError> {
    for id in place_ids {
        let Some(prev) = load_previous(conn, id)? else { continue };
        let sensitive = is_sensitive(conn, id)?;
        let figures = figures_of(&prev.figures);
        let before = PlaceState { base_last_updated: prev.base_last_updated, sensitive: !sensitive, figures: &figures };
        let after = PlaceState { sensitive, ..before };
        let new_place = session.new_places.contains(id);
        let mut instants = Vec::new();
        let mut moved = false;
        for scope in policy::views() {
            let key = scope.view_key();
            let previous = prev.views.get(&key).copied();
            let lu = if new_place {
                views::fresh(&scope, &after)
            } else {
                views::after_change(&scope, previous, false, &before, &after, session.now_us)
            };
            instants.push((key.clone(), lu));
            if Some(lu) != previous {
                moved = true;
                diesel::delete(
                    location_views::table
                        .filter(location_views::location_id.eq(id))
                        .filter(location_views::view.eq(&key)),
                )
                .execute(conn)?;
                diesel::insert_into(location_views::table)
                    .values(&NewLocationView { location_id: id, view: &key, last_updated: lu })
                    .execute(conn)?;
            }
        }
        let target = diesel::update(locations::table.find(id));
        if moved {
            target
                .set((
                    locations::sensitive.eq(sensitive),
                    locations::view_instants.eq(views::encode_instants(&instants)),
                ))
                .execute(conn)?;
        } else {
            target.set(locations::sensitive.eq(sensitive)).execute(conn)?;
        }
    }
    Ok(())
}

/// Rewrites the places stored before per-view instants (`lu_at` NULL) in the current form: their
/// JSON is re-read and re-split, their instant becomes the instant of the place itself and of each
/// of its views, each figure keeps its own, and Observations get identity-based ids. Also writes
/// the views missing after a change of the access policy. Returns the number of places rewritten.
pub fn upgrade_legacy_locations(conn: &mut DbConn) -> Result<usize, DbError> {
    let legacy: Vec<String> =
        locations::table.filter(locations::lu_at.is_null()).select(locations::id).load::<String>(conn)?;
    let mut pending = Pending::default();
    for id in &legacy {
        upgrade_one(conn, &mut pending, id)?;
        pending.flush_if_full(conn)?;
    }
    pending.flush(conn)?;
    let missing = missing_views(conn)?;
    for id in &missing {
        upgrade_one(conn, &mut pending, id)?;
        pending.flush_if_full(conn)?;
    }
    pending.flush(conn)?;
    Ok(legacy.len() + missing.len())
}

/// Places that lack the row of one of the current views.
fn missing_views(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    let mut ids = std::collections::BTreeSet::new();
    for scope in policy::views() {
        let mut plan = sql::SqlPlan::new(
            "SELECT l.id AS v FROM locations l WHERE l.lu_at IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM location_views lv WHERE lv.location_id = l.id AND lv.view = ",
        );
        plan.text(scope.view_key());
        plan.push(")");
        ids.extend(read::load::<TextRow>(conn, &plan)?.into_iter().map(|r| r.v));
    }
    Ok(ids.into_iter().collect())
}

/// The stored form of a place's JSON: its base instant and its parts around the figures.
pub(super) type StoredRow = (i64, String, String, i64, i64, Option<i64>);

/// The columns of a [`StoredRow`].
pub(super) const STORED_COLUMNS: (
    locations::last_updated,
    locations::json_head,
    locations::json_tail,
    locations::empty_head_len,
    locations::empty_tail_skip,
    locations::lu_at,
) = (
    locations::last_updated,
    locations::json_head,
    locations::json_tail,
    locations::empty_head_len,
    locations::empty_tail_skip,
    locations::lu_at,
);

/// Place `id` read back from its stored parts and `figures`, as its record.
pub(super) fn stored_record<'a>(
    id: &str,
    row: &StoredRow,
    figures: impl Iterator<Item = &'a str>,
) -> Result<LocationRecord, DbError> {
    let (base, head, tail, cut_head, cut_tail, lu_at) = row;
    let parts = render::StoredParts {
        head,
        tail,
        empty_head_len: usize::try_from(*cut_head).unwrap_or(0),
        empty_tail_skip: usize::try_from(*cut_tail).unwrap_or(0),
        last_updated_at: lu_at.and_then(|a| usize::try_from(a).ok()),
    };
    let json = render::compose_location(&parts, &format_instant(*base), figures);
    let value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| DbError::Migration(format!("Location/{id}: {e}")))?;
    match extract::extract(&value) {
        Ok(Record::Location(l)) => Ok(l),
        _ => Err(DbError::Migration(format!("Location/{id}: stored JSON is not a ROR Location any more"))),
    }
}

fn upgrade_one(conn: &mut DbConn, pending: &mut Pending, id: &str) -> Result<(), DbError> {
    let (row, packed): (StoredRow, Option<Vec<u8>>) =
        locations::table.find(id).select((STORED_COLUMNS, locations::figures_lz4)).first(conn)?;
    let base = row.0;
    let piece = unpacked(id, packed.as_deref())?;
    let instants: Vec<i64> = capacities::table
        .filter(capacities::location_id.eq(id))
        .order(capacities::seq)
        .select(capacities::last_updated)
        .load(conn)?;
    let jsons = stored_figures(id, &piece, instants.len())?;
    let l = stored_record(id, &row, jsons.iter().copied())?;
    let lus = l
        .capacities
        .iter()
        .map(|c| jsons.iter().zip(&instants).find(|(j, _)| **j == c.extension_json).map_or(base, |(_, lu)| *lu))
        .collect();
    let ids = render::observation_ids(id, &l.capacities);
    let sensitive = is_sensitive(conn, id)?;
    let plan = plan_fresh(&l, render::location_parts(&l.common.base), ids, base, lus, sensitive);
    delete(conn, id)?;
    insert(conn, pending, &l, &plan)
}

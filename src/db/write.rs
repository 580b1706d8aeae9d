//! Writes (import only; the serving pool is read-only). Each record replaces the stored rows of
//! its resource; its served JSON, and the Observation JSON of each capacity figure, are rendered
//! here, once.
//!
//! `meta.lastUpdated` rule: the source's `meta.lastUpdated` (import time when absent), moved up to
//! the latest `capacityUpdateDate` of a Location; and when the content changed but that instant is
//! not after the stored one, the import time (so a change is always seen by `_lastUpdated=ge…`).

use diesel::prelude::*;

use super::rows::{NewCapacity, NewHealthcareService, NewLocation, NewOrganization, NewServiceLocation, NewToken};
use super::schema::{
    capacities, healthcare_service_locations, healthcare_services, locations, organizations, search_tokens,
};
use super::{DbConn, DbError};
use crate::fhir::extract::{Common, HealthcareServiceRecord, LocationRecord, OrganizationRecord, Record};
use crate::fhir::render;
use crate::search::normalize;

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

fn next_last_updated(candidate: i64, previous: Option<i64>, now_us: i64) -> i64 {
    match previous {
        Some(prev) if candidate <= prev => now_us.max(prev + 1),
        _ => candidate,
    }
}

fn insert_tokens(conn: &mut DbConn, resource_type: &str, common: &Common) -> Result<(), DbError> {
    let mut seen = std::collections::HashSet::new();
    for t in &common.tokens {
        if !seen.insert((t.param, t.system.as_str(), t.code.as_str())) {
            continue;
        }
        diesel::insert_into(search_tokens::table)
            .values(&NewToken {
                resource_type,
                param: t.param,
                code: &t.code,
                system: &t.system,
                resource_id: &common.id,
            })
            .execute(conn)?;
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

/// Inserts or replaces one record. Call inside a transaction.
pub fn upsert(conn: &mut DbConn, record: &Record, now_us: i64) -> Result<WriteOutcome, DbError> {
    match record {
        Record::Location(l) => upsert_location(conn, l, now_us),
        Record::HealthcareService(h) => upsert_service(conn, h, now_us),
        Record::Organization(o) => upsert_organization(conn, o, now_us),
    }
}

fn upsert_location(conn: &mut DbConn, l: &LocationRecord, now_us: i64) -> Result<WriteOutcome, DbError> {
    let id = l.common.id.as_str();
    let previous: Option<(i64, String, String)> = locations::table
        .find(id)
        .select((locations::last_updated, locations::json_head, locations::json_tail))
        .first(conn)
        .optional()?;
    let latest_figure = l.capacities.iter().map(|c| c.update_date_us).max();
    let candidate = l.common.source_last_updated_us.unwrap_or(now_us).max(latest_figure.unwrap_or(i64::MIN));
    // Figures whose JSON did not change keep their Observation's lastUpdated.
    let previous_figures: Vec<(String, i64)> = if previous.is_some() {
        capacities::table
            .filter(capacities::location_id.eq(id))
            .order(capacities::seq)
            .select((capacities::extension_json, capacities::last_updated))
            .load(conn)?
    } else {
        Vec::new()
    };
    if let Some((prev_lu, prev_head, prev_tail)) = &previous {
        let again = render::location_parts(&l.common.base, *prev_lu);
        let same_figures = previous_figures.len() == l.capacities.len()
            && previous_figures.iter().zip(&l.capacities).all(|((old, _), new)| *old == new.extension_json);
        if same_figures && again.head == *prev_head && again.tail == *prev_tail {
            return Ok(WriteOutcome::Unchanged);
        }
    }
    let last_updated = next_last_updated(candidate, previous.as_ref().map(|p| p.0), now_us);
    if previous.is_some() {
        diesel::delete(capacities::table.filter(capacities::location_id.eq(id))).execute(conn)?;
        diesel::delete(locations::table.find(id)).execute(conn)?;
        delete_tokens(conn, "Location", id)?;
    }
    let parts = render::location_parts(&l.common.base, last_updated);
    let figures_json = l.capacities.iter().map(|c| c.extension_json.as_str()).collect::<Vec<_>>().join(",");
    let figure_statuses = distinct_joined(l.capacities.iter().map(|c| c.capacity_status.as_str()));
    let figure_assignments = distinct_joined(l.capacities.iter().map(|c| c.temporary_assignment.as_str()));
    diesel::insert_into(locations::table)
        .values(&NewLocation {
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
            last_updated,
            json_head: &parts.head,
            json_tail: &parts.tail,
            empty_head_len: i64::try_from(parts.empty_head_len).unwrap_or(0),
            empty_tail_skip: i64::try_from(parts.empty_tail_skip).unwrap_or(0),
            figures_json: Some(&figures_json),
            figure_statuses: Some(&figure_statuses),
            figure_assignments: Some(&figure_assignments),
        })
        .execute(conn)?;
    for (seq, cap) in l.capacities.iter().enumerate() {
        let figure_lu =
            previous_figures.iter().find(|(ext, _)| *ext == cap.extension_json).map_or(last_updated, |(_, lu)| *lu);
        let obs_id = render::observation_id(id, seq + 1);
        let obs_json = render::observation(&obs_id, id, l.common.region.as_deref(), cap, figure_lu);
        diesel::insert_into(capacities::table)
            .values(&NewCapacity {
                location_id: id,
                seq: i32::try_from(seq + 1).unwrap_or(i32::MAX),
                observation_id: &obs_id,
                capacity_type: &cap.capacity_type,
                capacity_status: &cap.capacity_status,
                temporality: &cap.temporality,
                nb_capacity: cap.nb_capacity,
                source_type: &cap.source_type,
                gender: cap.gender.as_deref(),
                update_date: &cap.update_date,
                update_date_us: cap.update_date_us,
                closing_type: cap.closing_type.as_deref(),
                additional_bed_type: cap.additional_bed_type.as_deref(),
                crisis_type: cap.crisis_type.as_deref(),
                temporary_assignment: &cap.temporary_assignment,
                comment: cap.comment.as_deref(),
                last_updated: figure_lu,
                extension_json: &cap.extension_json,
                observation_json: &obs_json,
            })
            .execute(conn)?;
    }
    insert_tokens(conn, "Location", &l.common)?;
    Ok(if previous.is_some() { WriteOutcome::Updated } else { WriteOutcome::Inserted })
}

fn upsert_service(conn: &mut DbConn, h: &HealthcareServiceRecord, now_us: i64) -> Result<WriteOutcome, DbError> {
    let id = h.common.id.as_str();
    let previous: Option<(i64, String)> = healthcare_services::table
        .find(id)
        .select((healthcare_services::last_updated, healthcare_services::resource_json))
        .first(conn)
        .optional()?;
    if let Some((prev_lu, prev_json)) = &previous
        && render::resource(&h.common.base, *prev_lu) == *prev_json
    {
        return Ok(WriteOutcome::Unchanged);
    }
    let candidate = h.common.source_last_updated_us.unwrap_or(now_us);
    let last_updated = next_last_updated(candidate, previous.as_ref().map(|p| p.0), now_us);
    if previous.is_some() {
        diesel::delete(healthcare_service_locations::table.filter(healthcare_service_locations::service_id.eq(id)))
            .execute(conn)?;
        diesel::delete(healthcare_services::table.find(id)).execute(conn)?;
        delete_tokens(conn, "HealthcareService", id)?;
    }
    let json = render::resource(&h.common.base, last_updated);
    diesel::insert_into(healthcare_services::table)
        .values(&NewHealthcareService {
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
        })
        .execute(conn)?;
    for location_id in &h.location_ids {
        diesel::insert_into(healthcare_service_locations::table)
            .values(&NewServiceLocation { service_id: id, location_id })
            .execute(conn)?;
    }
    insert_tokens(conn, "HealthcareService", &h.common)?;
    Ok(if previous.is_some() { WriteOutcome::Updated } else { WriteOutcome::Inserted })
}

fn upsert_organization(conn: &mut DbConn, o: &OrganizationRecord, now_us: i64) -> Result<WriteOutcome, DbError> {
    let id = o.common.id.as_str();
    let previous: Option<(i64, String)> = organizations::table
        .find(id)
        .select((organizations::last_updated, organizations::resource_json))
        .first(conn)
        .optional()?;
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
    diesel::insert_into(organizations::table)
        .values(&NewOrganization {
            id,
            finess: o.finess.as_deref(),
            name: o.name.as_deref(),
            part_of_id: o.part_of_id.as_deref(),
            region: o.common.region.as_deref(),
            last_updated,
            resource_json: &json,
        })
        .execute(conn)?;
    insert_tokens(conn, "Organization", &o.common)?;
    Ok(if previous.is_some() { WriteOutcome::Updated } else { WriteOutcome::Inserted })
}

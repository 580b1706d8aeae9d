//! The rows that hang from the resources a transaction writes (capacity figures, search tokens,
//! views, offer links, positions), gathered across resources and inserted in large multi-row
//! statements: on PostgreSQL each statement is a round trip, and a place's dozen small ones cost
//! more than their rows (BENCHMARKS.md).
//!
//! The resources' own rows wait here too, and are inserted first: organisations on both backends,
//! places and offers on PostgreSQL. On SQLite, where a statement costs no round trip, places and
//! offers are written at once: each queues its text row by its rowid (`text`).
//!
//! Nothing reads these tables while rows are pending: the writer flushes before it reads a
//! resource back (the same resource twice in one file, an offer linked to a sensitive unit),
//! before the transaction's own reads at its end, and whenever enough have gathered.

use std::collections::HashSet;

use super::batch::{Rows, opt_bytes, opt_double, opt_int, opt_text, text};
use crate::db::ident::{
    Ident, capacities as c, healthcare_service_locations as hl, healthcare_services as hs, location_positions as lp,
    location_views as lv, locations as l, organizations as o, search_tokens as st,
};
use crate::db::rows::{NewHealthcareService, NewLocation, NewOrganization};
use crate::db::sql::Bind;
use crate::db::{DbConn, DbError};
use crate::fhir::ResourceType;

/// Pending rows past which they are inserted.
const FLUSH_ROWS: usize = 8192;

/// Pending bytes past which they are inserted (large resources: their rows hold more).
const FLUSH_BYTES: usize = 32 << 20;

/// The columns of `capacities`, in the order a figure's values are pushed.
pub(super) const CAPACITY_COLUMNS: [crate::db::ident::Ident; 19] = [
    c::LOCATION_ID,
    c::SEQ,
    c::OBSERVATION_ID,
    c::CAPACITY_TYPE,
    c::CAPACITY_STATUS,
    c::TEMPORALITY,
    c::NB_CAPACITY,
    c::SOURCE_TYPE,
    c::GENDER,
    c::UPDATE_DATE,
    c::UPDATE_DATE_US,
    c::CLOSING_TYPE,
    c::ADDITIONAL_BED_TYPE,
    c::CRISIS_TYPE,
    c::TEMPORARY_ASSIGNMENT,
    c::COMMENT,
    c::LAST_UPDATED,
    c::REGION,
    c::FIRST_OF_KIND,
];

/// The columns of `locations` an import writes, in the order of [`place_values`].
const PLACE_COLUMNS: [Ident; 30] = [
    l::ID,
    l::FUNCTIONAL_ID,
    l::EXTERNAL_ID,
    l::NAME,
    l::NAME_NORM,
    l::STATUS,
    l::OPERATIONAL_STATUS,
    l::TYPE_CODE,
    l::ADDRESS_LINE,
    l::POSTAL_CODE,
    l::CITY,
    l::COMMUNE_INSEE,
    l::LATITUDE,
    l::LONGITUDE,
    l::MANAGING_ORG_ID,
    l::REGION,
    l::CREATED_AT,
    l::LAST_UPDATED,
    l::JSON_HEAD,
    l::JSON_TAIL,
    l::EMPTY_HEAD_LEN,
    l::EMPTY_TAIL_SKIP,
    l::FIGURES_LZ4,
    l::FIGURE_STATUSES,
    l::FIGURE_ASSIGNMENTS,
    l::LU_AT,
    l::VIEW_INSTANTS,
    l::SENSITIVE,
    l::CITY_NORM,
    l::PART_OF_ID,
];

fn place_values(r: &NewLocation<'_>) -> [Bind; 30] {
    [
        text(r.id),
        opt_text(r.functional_id),
        opt_text(r.external_id),
        opt_text(r.name),
        opt_text(r.name_norm.as_deref()),
        opt_text(r.status),
        opt_text(r.operational_status),
        opt_text(r.type_code),
        opt_text(r.address_line),
        opt_text(r.postal_code),
        opt_text(r.city),
        opt_text(r.commune_insee),
        opt_double(r.latitude),
        opt_double(r.longitude),
        opt_text(r.managing_org_id),
        opt_text(r.region),
        opt_int(r.created_at),
        Bind::BigInt(r.last_updated),
        text(r.json_head),
        text(r.json_tail),
        Bind::BigInt(r.empty_head_len),
        Bind::BigInt(r.empty_tail_skip),
        opt_bytes(r.figures_lz4),
        opt_text(r.figure_statuses),
        opt_text(r.figure_assignments),
        opt_int(r.lu_at),
        opt_text(r.view_instants),
        Bind::Bool(r.sensitive),
        opt_text(r.city_norm.as_deref()),
        opt_text(r.part_of_id),
    ]
}

/// The columns of `healthcare_services`, in the order of [`offer_values`].
const OFFER_COLUMNS: [Ident; 13] = [
    hs::ID,
    hs::IDENTIFIER_VALUE,
    hs::NAME,
    hs::TYPE_CODE,
    hs::CATEGORY_CODE,
    hs::SPECIALTY_CODE,
    hs::SENSITIVE_UNIT,
    hs::PROVIDED_BY_ID,
    hs::REGION,
    hs::CREATED_AT,
    hs::LAST_UPDATED,
    hs::RESOURCE_JSON,
    hs::NAME_NORM,
];

fn offer_values(r: &NewHealthcareService<'_>) -> [Bind; 13] {
    [
        text(r.id),
        opt_text(r.identifier_value),
        opt_text(r.name),
        opt_text(r.type_code),
        opt_text(r.category_code),
        opt_text(r.specialty_code),
        Bind::Bool(r.sensitive_unit),
        opt_text(r.provided_by_id),
        opt_text(r.region),
        opt_int(r.created_at),
        Bind::BigInt(r.last_updated),
        text(r.resource_json),
        opt_text(r.name_norm.as_deref()),
    ]
}

/// The columns of `organizations`, in the order of [`organization_values`].
const ORGANIZATION_COLUMNS: [Ident; 7] =
    [o::ID, o::FINESS, o::NAME, o::PART_OF_ID, o::REGION, o::LAST_UPDATED, o::RESOURCE_JSON];

fn organization_values(r: &NewOrganization<'_>) -> [Bind; 7] {
    [
        text(r.id),
        opt_text(r.finess),
        opt_text(r.name),
        opt_text(r.part_of_id),
        opt_text(r.region),
        Bind::BigInt(r.last_updated),
        text(r.resource_json),
    ]
}

/// Rows waiting to be inserted, and the resources they belong to.
pub(super) struct Pending {
    /// The resources' own rows (places and offers on PostgreSQL only).
    organizations: Rows<7>,
    places: Rows<30>,
    offers: Rows<13>,
    pub(super) figures: Rows<19>,
    pub(super) tokens: Rows<5>,
    pub(super) views: Rows<3>,
    pub(super) links: Rows<2>,
    pub(super) positions: Rows<6>,
    /// The key ([`resource_key`]) of each resource with rows here: its own row is written
    /// through [`Pending::place`], [`Pending::offer`] or [`Pending::organization`] before any other.
    owners: HashSet<u64>,
}

impl Default for Pending {
    fn default() -> Self {
        Self {
            organizations: Rows::new(o::TABLE, ORGANIZATION_COLUMNS),
            places: Rows::new(l::TABLE, PLACE_COLUMNS),
            offers: Rows::new(hs::TABLE, OFFER_COLUMNS),
            figures: Rows::new(c::TABLE, CAPACITY_COLUMNS),
            tokens: Rows::new(st::TABLE, [st::RESOURCE_TYPE, st::PARAM, st::CODE, st::SYSTEM, st::RESOURCE_ID]),
            views: Rows::new(lv::TABLE, [lv::LOCATION_ID, lv::VIEW, lv::LAST_UPDATED]),
            links: Rows::new(hl::TABLE, [hl::SERVICE_ID, hl::LOCATION_ID]),
            positions: Rows::new(lp::TABLE, [lp::LOCATION_ID, lp::LATITUDE, lp::LONGITUDE, lp::X, lp::Y, lp::Z]),
            owners: HashSet::new(),
        }
    }
}

impl Pending {
    /// Notes that rows of `resource_type`/`id` are about to be pushed.
    fn own(&mut self, resource_type: ResourceType, id: &str) {
        self.owners.insert(resource_key(resource_type, id));
    }

    /// Inserts what is pending first when some of it belongs to `resource_type`/`id` (about to be
    /// read back or replaced).
    pub(super) fn settle(&mut self, conn: &mut DbConn, resource_type: ResourceType, id: &str) -> Result<(), DbError> {
        if self.owners.is_empty() || !self.owners.contains(&resource_key(resource_type, id)) {
            return Ok(());
        }
        self.flush(conn)
    }

    /// Inserts what is pending when enough has gathered (rows, or bytes).
    pub(super) fn flush_if_full(&mut self, conn: &mut DbConn) -> Result<(), DbError> {
        let (rows, bytes) = self.sizes().into_iter().fold((0, 0), |(r, b), (n, m)| (r + n, b + m));
        if rows < FLUSH_ROWS && bytes < FLUSH_BYTES {
            return Ok(());
        }
        self.flush(conn)
    }

    /// Writes place `row` (see the module's comment for when).
    pub(super) fn place(&mut self, conn: &mut DbConn, row: &NewLocation<'_>) -> Result<(), DbError> {
        self.own(ResourceType::Location, row.id);
        match conn {
            DbConn::Sqlite(_) => super::text::insert_location(conn, row),
            DbConn::Postgresql(_) => {
                self.places.push(place_values(row));
                Ok(())
            }
        }
    }

    /// Writes offer `row`.
    pub(super) fn offer(&mut self, conn: &mut DbConn, row: &NewHealthcareService<'_>) -> Result<(), DbError> {
        self.own(ResourceType::HealthcareService, row.id);
        match conn {
            DbConn::Sqlite(_) => super::text::insert_service(conn, row),
            DbConn::Postgresql(_) => {
                self.offers.push(offer_values(row));
                Ok(())
            }
        }
    }

    /// Queues organisation `row` (on both backends: it has no text row).
    pub(super) fn organization(&mut self, row: &NewOrganization<'_>) {
        self.own(ResourceType::Organization, row.id);
        self.organizations.push(organization_values(row));
    }

    /// Inserts every pending row, each resource's own row before those that refer to it.
    pub(super) fn flush(&mut self, conn: &mut DbConn) -> Result<(), DbError> {
        self.organizations.flush(conn)?;
        self.places.flush(conn)?;
        self.offers.flush(conn)?;
        self.figures.flush(conn)?;
        self.tokens.flush(conn)?;
        self.views.flush(conn)?;
        self.links.flush(conn)?;
        self.positions.flush(conn)?;
        self.owners.clear();
        Ok(())
    }

    /// Rows and bytes pending in each table.
    fn sizes(&self) -> [(usize, usize); 8] {
        [
            (self.organizations.len(), self.organizations.bytes()),
            (self.places.len(), self.places.bytes()),
            (self.offers.len(), self.offers.bytes()),
            (self.figures.len(), self.figures.bytes()),
            (self.tokens.len(), self.tokens.bytes()),
            (self.views.len(), self.views.bytes()),
            (self.links.len(), self.links.bytes()),
            (self.positions.len(), self.positions.bytes()),
        ]
    }

    /// A position row.
    pub(super) fn position(&mut self, id: &str, lat: f64, lon: f64, unit: [f64; 3]) {
        let [x, y, z] = unit;
        self.positions.push([
            Bind::Text(id.to_owned()),
            Bind::Double(lat),
            Bind::Double(lon),
            Bind::Double(x),
            Bind::Double(y),
            Bind::Double(z),
        ]);
    }
}

/// A 64-bit key of `resource_type`/`id` (xxh3): 8 bytes whatever the id. Two resources of one key
/// only cost a flush or a lookup more.
pub(super) fn resource_key(resource_type: ResourceType, id: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = twox_hash::XxHash3_64::new();
    h.write(resource_type.as_str().as_bytes());
    h.write(b"/");
    h.write(id.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_xxh3_of_earlier_builds() {
        assert_eq!(resource_key(ResourceType::Location, "abc"), 0x2620_9511_5803_6a35);
    }
}

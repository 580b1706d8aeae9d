//! Row types, for the diesel DSL writes and the raw-SQL reads.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Bool, Double, Nullable, Text};

use super::schema::{healthcare_services, location_views, locations, organizations};

/// One resource as read for serving: by position (the select list of `db::sql` puts its columns in
/// the order of these fields, which [`ResourceSql`] types) or by name (within [`PartRow`]).
#[derive(Debug, Clone, Queryable, QueryableByName)]
pub struct ResourceRow {
    /// Logical id.
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Instant of last change (µs).
    #[diesel(sql_type = BigInt)]
    pub last_updated: i64,
    /// Rendered JSON (for a Location: the part before its capacity figures).
    #[diesel(sql_type = Text)]
    pub json: String,
    /// Location: the part after its capacity figures ('' for other types).
    #[diesel(sql_type = Text)]
    pub tail: String,
    /// Location: bytes of `json` kept when no figure is visible.
    #[diesel(sql_type = BigInt)]
    pub cut_head: i64,
    /// Location: bytes of `tail` dropped when no figure is visible.
    #[diesel(sql_type = BigInt)]
    pub cut_tail: i64,
    /// Location: all its capacity extensions, comma-separated and packed
    /// ([`crate::fhir::figures::pack`]; those a consumer sees are taken from it).
    #[diesel(sql_type = Nullable<Binary>)]
    pub figures: Option<Vec<u8>>,
    /// Location: the distinct statuses of its figures, comma-separated.
    #[diesel(sql_type = Nullable<Text>)]
    pub statuses: Option<String>,
    /// Location: the distinct temporary assignments of its figures, comma-separated.
    #[diesel(sql_type = Nullable<Text>)]
    pub assignments: Option<String>,
    /// Location: where its `meta.lastUpdated` goes in `json` + `tail` (`None`: already in `json`).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub lu_at: Option<i64>,
    /// Location read in id order: the instants of its views (`auth::views::encode_instants`);
    /// `last_updated` is then the place's own until [`crate::db::read`] picks the consumer's.
    #[diesel(sql_type = Nullable<Text>)]
    pub views: Option<String>,
    /// Location: linked to a sensitive unit (its figures hidden from scopes that hide those).
    #[diesel(sql_type = Bool)]
    pub sensitive: bool,
    /// `_sort=near`: the dot product of the place's unit vector with the centre's (`None` otherwise).
    #[diesel(sql_type = Nullable<Double>)]
    pub score: Option<f64>,
}

impl ResourceRow {
    /// A resource as served: `json` complete, nothing left to compose.
    pub fn served(id: String, last_updated: i64, json: String) -> Self {
        Self {
            id,
            last_updated,
            json,
            tail: String::new(),
            cut_head: 0,
            cut_tail: 0,
            figures: None,
            statuses: None,
            assignments: None,
            lu_at: None,
            views: None,
            sensitive: false,
            score: None,
        }
    }
}

/// The SQL types of a [`ResourceRow`]'s columns, in order.
pub type ResourceSql = (
    Text,
    BigInt,
    Text,
    Text,
    BigInt,
    BigInt,
    Nullable<Binary>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<BigInt>,
    Nullable<Text>,
    Bool,
    Nullable<Double>,
);

/// A COUNT(*) result.
#[derive(Debug, Clone, QueryableByName)]
pub struct CountRow {
    /// The count.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Insertable organization.
#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub id: &'a str,
    pub finess: Option<&'a str>,
    pub name: Option<&'a str>,
    pub part_of_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub last_updated: i64,
    pub resource_json: &'a str,
}

/// Insertable location.
#[derive(Debug, Insertable)]
#[diesel(table_name = locations)]
pub struct NewLocation<'a> {
    pub id: &'a str,
    pub functional_id: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub name_norm: Option<String>,
    pub status: Option<&'a str>,
    pub operational_status: Option<&'a str>,
    pub type_code: Option<&'a str>,
    pub address_line: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub city: Option<&'a str>,
    pub commune_insee: Option<&'a str>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub managing_org_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub created_at: Option<i64>,
    pub last_updated: i64,
    pub json_head: &'a str,
    pub json_tail: &'a str,
    pub empty_head_len: i64,
    pub empty_tail_skip: i64,
    pub figures_lz4: Option<&'a [u8]>,
    pub figure_statuses: Option<&'a str>,
    pub figure_assignments: Option<&'a str>,
    pub lu_at: Option<i64>,
    pub view_instants: Option<&'a str>,
    pub sensitive: bool,
    pub city_norm: Option<String>,
    pub part_of_id: Option<&'a str>,
}

/// Insertable view of a place: when what one capacity scope shows of it last changed.
#[derive(Debug, Insertable)]
#[diesel(table_name = location_views)]
pub struct NewLocationView<'a> {
    pub location_id: &'a str,
    pub view: &'a str,
    pub last_updated: i64,
}

/// Insertable operational offer.
#[derive(Debug, Insertable)]
#[diesel(table_name = healthcare_services)]
pub struct NewHealthcareService<'a> {
    pub id: &'a str,
    pub identifier_value: Option<&'a str>,
    pub name: Option<&'a str>,
    pub type_code: Option<&'a str>,
    pub category_code: Option<&'a str>,
    pub specialty_code: Option<&'a str>,
    pub sensitive_unit: bool,
    pub provided_by_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub created_at: Option<i64>,
    pub last_updated: i64,
    pub resource_json: &'a str,
    pub name_norm: Option<String>,
}

/// A row of a statement that returns two kinds of rows ([`crate::db::sql::lookup`]): which one,
/// and the row.
#[derive(Debug, Clone, QueryableByName)]
pub struct PartRow {
    /// 0: a match of the page; 1: an included offer.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub part: i32,
    /// The row.
    #[diesel(embed)]
    pub row: ResourceRow,
}

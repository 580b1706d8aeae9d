//! The capacity totals behind the MeasureReport aggregates (`capacity_totals`,
//! `area_view_instants`, see their migration): rebuilt at the end of every transaction that
//! changes what consumers read ([`refresh`]), read per request narrowed by the consumer's source
//! regions ([`totals`], [`instants`]); the consumer's capacity scope is applied to the rows by the
//! caller, with the same rule as the place views (`CapacityScope::admits`, sensitive places).

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Text};

use super::read::load;
use super::sql::SqlPlan;
use super::{DbConn, DbError};

/// The département of a place's commune (`l.commune_insee`): its INSEE code's first two
/// characters, three overseas (97x, 98x); '' without a commune code.
const DEPARTEMENT: &str = "CASE WHEN l.commune_insee IS NULL OR length(l.commune_insee) < 5 THEN '' \
     WHEN substr(l.commune_insee, 1, 2) IN ('97', '98') THEN substr(l.commune_insee, 1, 3) \
     ELSE substr(l.commune_insee, 1, 2) END";

/// Rebuilds the totals from the figures and the place views. Call inside the transaction that
/// changed them, at its end (`write::advance_generation` does).
pub fn refresh(conn: &mut DbConn) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    let totals = format!(
        "INSERT INTO capacity_totals \
         SELECT COALESCE(l.region, ''), {DEPARTEMENT}, c.capacity_type, c.capacity_status, c.temporality, \
         c.temporary_assignment, l.sensitive, SUM(c.nb_capacity), COUNT(*) \
         FROM capacities c JOIN locations l ON l.id = c.location_id GROUP BY 1, 2, 3, 4, 5, 6, 7"
    );
    let instants = format!(
        "INSERT INTO area_view_instants \
         SELECT v.view, COALESCE(l.region, ''), {DEPARTEMENT}, MAX(v.last_updated) \
         FROM location_views v JOIN locations l ON l.id = v.location_id GROUP BY 1, 2, 3"
    );
    for sql in ["DELETE FROM capacity_totals", totals.as_str(), "DELETE FROM area_view_instants", instants.as_str()] {
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// One row of `capacity_totals`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TotalRow {
    /// Source region of the places ('' without one).
    #[diesel(sql_type = Text)]
    pub region: String,
    /// Their département ('' without a commune code).
    #[diesel(sql_type = Text)]
    pub departement: String,
    /// TRE_R329.
    #[diesel(sql_type = Text)]
    pub capacity_type: String,
    /// TRE_R330.
    #[diesel(sql_type = Text)]
    pub capacity_status: String,
    /// TRE_R331.
    #[diesel(sql_type = Text)]
    pub temporality: String,
    /// TRE_R337.
    #[diesel(sql_type = Text)]
    pub temporary_assignment: String,
    /// Whether the places are linked to a sensitive unit.
    #[diesel(sql_type = Bool)]
    pub sensitive: bool,
    /// The sum of their figures' `nbCapacity`.
    #[diesel(sql_type = BigInt)]
    pub nb: i64,
}

/// The latest instant of one access view of the places of a source region and département.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct InstantRow {
    /// Source region.
    #[diesel(sql_type = Text)]
    pub region: String,
    /// Département.
    #[diesel(sql_type = Text)]
    pub departement: String,
    /// Microseconds since the epoch.
    #[diesel(sql_type = BigInt)]
    pub last_updated: i64,
}

fn in_regions(p: &mut SqlPlan, regions: Option<&[String]>) {
    if let Some(regions) = regions {
        p.push(" WHERE region IN ");
        p.text_list(regions);
    }
}

/// The totals of the places of `regions` (all without), in key order.
pub fn totals(conn: &mut DbConn, regions: Option<&[String]>) -> Result<Vec<TotalRow>, DbError> {
    let mut p = SqlPlan::new(
        "SELECT region, departement, capacity_type, capacity_status, temporality, temporary_assignment, sensitive, nb \
         FROM capacity_totals",
    );
    in_regions(&mut p, regions);
    p.push(" ORDER BY region, departement, capacity_type, capacity_status, temporality");
    load(conn, &p)
}

/// The instants of `view` of the places of `regions` (all without), per region and département.
pub fn instants(conn: &mut DbConn, view: &str, regions: Option<&[String]>) -> Result<Vec<InstantRow>, DbError> {
    let mut p = SqlPlan::new("SELECT region, departement, last_updated FROM area_view_instants");
    in_regions(&mut p, regions);
    p.push(if regions.is_some() { " AND view = " } else { " WHERE view = " });
    p.text(view);
    load(conn, &p)
}

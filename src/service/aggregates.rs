//! The capacity aggregates a consumer may see: the totals of France, of each ROR région it may
//! see and of each département of those régions, from the precomputed totals (`db::totals`)
//! narrowed exactly as its searches are: its source regions (in SQL), its capacity scope (the
//! statuses and temporary assignments it may see, and no figure of a place linked to a sensitive
//! unit when its profile hides those: the rule of the place views, `CapacityScope::admits`).
//!
//! An area's `lastUpdated` is the latest instant of the consumer's view of its places (which
//! moves whenever what the consumer sees of a place changes, a figure leaving its view included):
//! a consumer polling `_lastUpdated` sees every report whose counts may have changed for it.

use std::collections::BTreeMap;

use crate::db::sql::Scope;
use crate::db::totals::{self, InstantRow, TotalRow};
use crate::db::{DbConn, DbError};
use crate::fhir::codes::{CapacityCode, REGIONS};
use crate::fhir::measure_report::{Area, Counts};
use crate::fhir::territory::{DEPARTEMENTS, departement};

/// The statuses of the ROR's capacity figures (JDV_J188: TRE_R330 01 to 06).
const ROR_STATUSES: [&str; 6] = ["01", "02", "03", "04", "05", "06"];

/// One area's totals as the consumer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaTotals {
    /// The area.
    pub area: Area,
    /// Its visible figures' totals.
    pub counts: Counts,
    /// The latest change the consumer may see of its places (µs since the epoch; that of
    /// France for an area without places, 0 when there is none at all).
    pub last_updated_us: i64,
}

/// Scopes whose areas are remembered at most (a scope is an access view and a set of regions,
/// both from the consumer registry, which has few; about 1 MB each at 120k places); past it, what
/// was remembered is forgotten.
const REMEMBERED_SCOPES: usize = 32;

/// Per scope key: the data generation and the areas computed under it.
type Remembered = std::collections::HashMap<String, (i64, std::sync::Arc<Vec<AreaTotals>>)>;

/// The areas of each scope, remembered with the data generation they were computed under: an
/// import (which raises the generation) makes them be read again.
#[derive(Default)]
pub struct AreasMemo {
    entries: std::sync::Mutex<Remembered>,
}

impl AreasMemo {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The consumer's aggregates (France first, then its régions, then the départements of its
    /// régions, in code order), read in one snapshot, remembered per scope and data generation.
    pub fn read(&self, conn: &mut DbConn, scope: &Scope) -> Result<std::sync::Arc<Vec<AreaTotals>>, DbError> {
        let key = format!("{}|{:?}", scope.capacity.view_key(), scope.regions);
        crate::db::read::in_snapshot(conn, false, |c| {
            let generation = crate::db::read::generation(c)?;
            if let Some((g, areas)) = self.lock().get(&key)
                && *g == generation
            {
                return Ok(areas.clone());
            }
            let areas = std::sync::Arc::new(read_in(c, scope)?);
            let mut entries = self.lock();
            if entries.len() >= REMEMBERED_SCOPES {
                entries.clear();
            }
            entries.insert(key, (generation, areas.clone()));
            Ok(areas)
        })
    }
}

/// The consumer's aggregates, read inside a snapshot: France first, then its régions, then the
/// départements of its régions, in code order.
fn read_in(conn: &mut DbConn, scope: &Scope) -> Result<Vec<AreaTotals>, DbError> {
    let regions = scope.regions.as_deref();
    let view = scope.capacity.view_key();
    let rows = totals::totals(conn, regions)?;
    let instants = totals::instants(conn, &view, regions)?;
    Ok(aggregate(&rows, &instants, scope))
}

/// The statuses a report lists for the consumer (zeros included): the ROR's it may see, then any
/// other status among its visible totals.
pub fn statuses(scope: &Scope, areas: &[AreaTotals]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> =
        ROR_STATUSES.into_iter().filter(|s| !scope.capacity.none && scope.capacity.admits_status(s)).collect();
    for a in areas {
        for (_, status, _) in a.counts.keys() {
            let known = CapacityCode::Status.codes().iter().map(|(c, _)| *c).find(|c| c == status);
            if let Some(code) = known.filter(|c| !out.contains(c)) {
                out.push(code);
            }
        }
    }
    out
}

/// The areas and their totals from the rows of the consumer's regions (pure).
pub fn aggregate(rows: &[TotalRow], instants: &[InstantRow], scope: &Scope) -> Vec<AreaTotals> {
    let sees_region = |r: &str| scope.regions.as_ref().is_none_or(|rs| rs.iter().any(|x| x == r));
    let cap = &scope.capacity;
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for r in rows.iter().filter(|r| cap.admits(&r.capacity_status, &r.temporary_assignment)) {
        if cap.hide_sensitive && r.sensitive {
            continue;
        }
        let key = (r.capacity_type.clone(), r.capacity_status.clone(), r.temporality.clone());
        for id in [Area::France.id(), format!("region-{}", r.region), format!("departement-{}", r.departement)] {
            *counts.entry(id).or_default().entry(key.clone()).or_default() += r.nb;
        }
    }
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    for i in instants {
        for id in [Area::France.id(), format!("region-{}", i.region), format!("departement-{}", i.departement)] {
            let at = latest.entry(id).or_insert(i.last_updated);
            *at = (*at).max(i.last_updated);
        }
    }
    let france_at = latest.get("fr").copied().unwrap_or(0);
    let regions = REGIONS.iter().filter(|(code, _)| sees_region(code)).map(|(code, _)| Area::Region(code));
    let departements: Vec<Area> = DEPARTEMENTS
        .iter()
        .filter(|d| sees_region(d.region) || counts.contains_key(&format!("departement-{}", d.code)))
        .filter_map(|d| departement(d.code).map(Area::Departement))
        .collect();
    std::iter::once(Area::France)
        .chain(regions)
        .chain(departements)
        .map(|area| {
            let id = area.id();
            AreaTotals {
                area,
                counts: counts.remove(&id).unwrap_or_default(),
                last_updated_us: latest.get(&id).copied().unwrap_or(france_at),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;

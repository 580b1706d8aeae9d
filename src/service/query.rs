//! A read and a search as the database is asked them: in one snapshot, the page (one row more than
//! asked, to know whether more follow), the count only when it is needed, the included resources
//! cut at the server's cap, and the places completed with what the consumer may see of them.

use super::memo::Remembered;
use super::visibility::{PlaceComposer, compose, compose_locations};
use crate::base::validator::Held;
use crate::db::rows::ResourceRow;
use crate::db::sql::Scope;
use crate::db::{DbConn, DbError, in_place, read};
use crate::fhir::ResourceType;
use crate::search::cursor::CursorKey;
use crate::search::{Condition, SearchRequest, SortKey};

/// What a search found.
#[derive(Debug, Default)]
pub struct SearchResult {
    /// Number of matches, when asked for.
    pub total: Option<u64>,
    /// This page's matches.
    pub matches: Vec<ResourceRow>,
    /// Whether more matches follow this page.
    pub has_more: bool,
    /// Resources added by `_include` / `_revinclude`.
    pub included: Vec<(ResourceType, ResourceRow)>,
    /// Whether the include cap cut the included resources.
    pub included_truncated: bool,
    /// The data generation of the snapshot, when it was read.
    pub generation: Option<i64>,
    /// The validator the client holds, remembered for this search under this generation: the
    /// answer is unchanged, and nothing else was read.
    pub unchanged: Option<String>,
}

/// One resource by id, within `scope` (outside it, `None`: existence does not leak).
pub fn read(conn: &mut DbConn, rt: ResourceType, id: &str, scope: &Scope) -> Result<Option<ResourceRow>, DbError> {
    let mut rows = read::resource(conn, rt, id, scope)?;
    compose(conn, rt, &mut rows, scope)?;
    Ok(rows.into_iter().next())
}

/// What a search may take from earlier answers under the same data generation.
pub struct Reuse {
    /// Remembered totals of this search.
    pub totals: Remembered<u64>,
    /// With `If-None-Match`: the remembered validators of this search, and what the client holds.
    pub held: Option<(Remembered<String>, Held)>,
}

/// Runs a search in one read transaction, so that `total`, the page and its includes come from
/// the same snapshot. With `reuse`, a total remembered under the snapshot's data generation is
/// taken rather than counted (and a count remembered), and when the client holds the validator
/// remembered for this search under that generation, nothing else is read
/// ([`SearchResult::unchanged`]).
pub fn search(
    conn: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    max_included: usize,
    reuse: Option<&Reuse>,
) -> Result<SearchResult, DbError> {
    if let Some(out) = lookup(conn, req, scope, after, max_included, reuse)? {
        return Ok(out);
    }
    let ranges = req.conditions.iter().any(Condition::is_range);
    read::in_snapshot(conn, ranges, |c| {
        let mut out = SearchResult::default();
        if let Some((tags, held)) = reuse.and_then(|r| r.held.as_ref()) {
            let generation = read::generation(c)?;
            out.generation = Some(generation);
            if let Some(tag) = tags.memo.get(&tags.key, generation).filter(|t| held.holds(t)) {
                out.unchanged = Some(tag);
                return Ok(out);
            }
        }
        let totals = reuse.map(|r| &r.totals);
        if req.summary_count || req.count == 0 {
            if req.total || req.summary_count {
                out.total = Some(total(c, req, scope, totals, &mut out.generation)?);
            }
            return Ok(out);
        }
        let (mut rows, composed) = page(c, req, scope, after)?;
        out.has_more = rows.len() > req.count;
        rows.truncate(req.count);
        if req.total {
            out.total = match known_total(after, out.has_more, rows.len()) {
                Some(n) => Some(n),
                None => Some(total(c, req, scope, totals, &mut out.generation)?),
            };
        }
        if ranges {
            read::plans_without_values(c)?;
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        if !ids.is_empty() {
            includes(c, req, scope, &ids, max_included, &mut out)?;
        }
        if !composed {
            compose(c, req.resource, &mut rows, scope)?;
        }
        out.matches = rows;
        Ok(out)
    })
}

/// The page of `req` (one row more than asked), and whether its rows are already composed: places
/// for a consumer who sees all of a place's figures or none are composed as SQLite hands their
/// rows over ([`in_place`]), without an owned copy of each row's columns first; the others are
/// read as owned rows, composed later ([`compose`]).
fn page(
    c: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
) -> Result<(Vec<ResourceRow>, bool), DbError> {
    let limit = req.count + 1;
    let composer = match req.resource {
        // The rows read in place carry no distance: `_sort=near` reads owned rows.
        ResourceType::Location if req.sort.key != SortKey::Near => PlaceComposer::for_scope(scope),
        _ => None,
    };
    let Some(mut places) = composer else { return Ok((read::page(c, req, scope, after, limit)?, false)) };
    let mut rows = Vec::with_capacity(limit);
    in_place::each_of_page(c, req, scope, after, limit, |row| {
        rows.push(places.compose_row(&row, scope)?);
        Ok::<_, DbError>(())
    })?;
    Ok((rows, true))
}

/// PostgreSQL, a lookup (places by identifiers, ids or offers: as many matches as values at most,
/// within one page) by a consumer who sees all of a place's figures or none: the page and the
/// offers of its places in one statement, which is one round trip instead of four and its own
/// snapshot without `BEGIN` and `COMMIT`. `None` when the search is not one, or when its answer
/// needs more than that statement read (more matches than a page; a place stored without its
/// figures' piece): the caller then runs it in a transaction, from the start.
fn lookup(
    conn: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    max_included: usize,
    reuse: Option<&Reuse>,
) -> Result<Option<SearchResult>, DbError> {
    let held = reuse.is_some_and(|r| r.held.is_some());
    // Decided from the consumer's scope, not from the places: whether a place holds a figure this
    // consumer may not see must not decide how its answer is made (nor how long it takes).
    let filtered = !scope.capacity.all_or_nothing();
    if !matches!(conn, DbConn::Postgresql(_)) || held || filtered || !is_lookup(req) {
        return Ok(None);
    }
    let services = if req.revinclude_services { max_included + 1 } else { 0 };
    let (mut rows, included) = read::page_with_services(conn, req, scope, after, req.count + 1, services)?;
    if rows.len() > req.count || super::visibility::composing_reads(&rows, scope) {
        return Ok(None);
    }
    let mut out = SearchResult::default();
    if req.total {
        // Counting would take another statement, in the same snapshot: the transaction's.
        let Some(n) = known_total(after, false, rows.len()) else { return Ok(None) };
        out.total = Some(n);
    }
    rows.sort_by(|a, b| if req.sort.descending { b.id.cmp(&a.id) } else { a.id.cmp(&b.id) });
    if req.revinclude_services {
        add_included(&mut out, ResourceType::HealthcareService, included, max_included);
    }
    compose_locations(conn, &mut rows, scope)?;
    out.matches = rows;
    Ok(Some(out))
}

/// Whether `req` is a lookup of places (see [`lookup`]): ordered by id, no include but the offers,
/// no range, and a condition whose values bound the matches to one page.
fn is_lookup(req: &SearchRequest) -> bool {
    let bounded = |c: &Condition| c.named_values().is_some_and(|n| n <= req.count);
    req.resource == ResourceType::Location
        && req.sort.key == SortKey::Id
        && req.count > 0
        && !(req.summary_count || req.include_locations || req.include_organizations)
        && !req.conditions.iter().any(Condition::is_range)
        && crate::db::sql::region_code(req).is_none()
        && req.conditions.iter().any(bounded)
}

/// The total of a search known without counting: a first page that holds every match (`n` of
/// them, none more to come) is its own count; a later page carries the count made when the search
/// started, in its cursor. `None`: it must be counted.
fn known_total(after: Option<&CursorKey>, has_more: bool, n: usize) -> Option<u64> {
    match after {
        None if !has_more => Some(n as u64),
        Some(key) => key.total,
        None => None,
    }
}

/// Adds at most `max` of `rows` (read with one more, to know whether the cap cut them) to the
/// included resources.
fn add_included(out: &mut SearchResult, rt: ResourceType, rows: Vec<ResourceRow>, max: usize) {
    out.included_truncated |= rows.len() > max;
    out.included.extend(rows.into_iter().take(max).map(|r| (rt, r)));
}

/// The number of matches: remembered, or counted. A count is remembered only when the generation
/// read before it is still the one after it: serving transactions are one snapshot on both
/// backends, but a caller outside one (a writable connection in `read committed`) could see an
/// import commit in between.
fn total(
    c: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    memo: Option<&Remembered<u64>>,
    generation: &mut Option<i64>,
) -> Result<u64, DbError> {
    let Some(m) = memo else { return read::count(c, req, scope) };
    let g = match *generation {
        Some(g) => g,
        None => read::generation(c)?,
    };
    *generation = Some(g);
    if let Some(n) = m.memo.get(&m.key, g) {
        return Ok(n);
    }
    let n = read::count(c, req, scope)?;
    if read::generation(c)? == g {
        m.memo.put(&m.key, g, n);
    }
    Ok(n)
}

/// The resources `_revinclude` and `_include` add to a page of matches `ids`, at most
/// `max_included` of each (one more is read to know whether the cap cut them).
fn includes(
    c: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    ids: &[String],
    max_included: usize,
    out: &mut SearchResult,
) -> Result<(), DbError> {
    if req.revinclude_services {
        let inc = read::services_of_locations(c, ids, scope, max_included + 1)?;
        add_included(out, ResourceType::HealthcareService, inc, max_included);
    }
    if req.include_locations {
        let mut inc = read::locations_of_services(c, ids, scope, max_included + 1)?;
        out.included_truncated |= inc.len() > max_included;
        inc.truncate(max_included);
        compose_locations(c, &mut inc, scope)?;
        out.included.extend(inc.into_iter().map(|r| (ResourceType::Location, r)));
    }
    if req.include_organizations {
        let inc = read::organizations_of(c, req.resource, ids, scope, max_included + 1)?;
        add_included(out, ResourceType::Organization, inc, max_included);
    }
    Ok(())
}

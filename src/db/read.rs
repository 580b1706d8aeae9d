//! Read queries: running a [`SqlPlan`] on either backend, and the search pipeline (count, page and
//! includes in one read transaction, so `total` and the page come from the same snapshot).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use diesel::connection::Connection;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text, Untyped};
use diesel::{QueryResult, QueryableByName, pg::Pg, sqlite::Sqlite};

use super::rows::{CountRow, ResourceRow};
use super::{DbConn, DbError};
use crate::auth::views;
use crate::db::sql::{self, Bind, Scope, SqlPlan};
use crate::fhir::{ResourceType, render};
use crate::search::cursor::CursorKey;
use crate::search::date::format_instant;
use crate::search::{Condition, SearchRequest};

/// A [`SqlPlan`] as a diesel query. Its statement is prepared once per connection and kept in
/// diesel's statement cache (keyed by its text) when [`cacheable`] allows; `?` placeholders become
/// the backend's own (`$n` on PostgreSQL) as the binds are pushed.
struct PlanQuery<'a> {
    plan: &'a SqlPlan,
    cache: bool,
}

impl QueryId for PlanQuery<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for PlanQuery<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for PlanQuery<'_> {}

impl<DB> QueryFragment<DB> for PlanQuery<'_>
where
    DB: diesel::backend::Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        let mut binds = self.plan.binds.iter();
        for (i, piece) in self.plan.sql.split('?').enumerate() {
            if i > 0 {
                match binds.next() {
                    Some(Bind::Text(s)) => out.push_bind_param::<Text, String>(s)?,
                    Some(Bind::BigInt(n)) => out.push_bind_param::<BigInt, i64>(n)?,
                    Some(Bind::Null) => out.push_bind_param::<Nullable<Text>, Option<String>>(&None)?,
                    None => return Err(diesel::result::Error::QueryBuilderError("a placeholder has no value".into())),
                }
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

/// Most distinct statement texts kept prepared (the same texts on every pooled connection).
/// Searches take few shapes (IN lists are padded to buckets), but parameter combinations are the
/// consumers' choice: past this many, new shapes are prepared for each use instead of filling
/// memory.
const MAX_CACHED_SHAPES: usize = 256;

/// Whether statements with this text may be kept prepared: the first [`MAX_CACHED_SHAPES`]
/// distinct texts seen by the process may.
fn cacheable(sql: &str) -> bool {
    use std::hash::{Hash, Hasher};
    static SHAPES: OnceLock<Mutex<HashSet<u64>>> = OnceLock::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    sql.hash(&mut h);
    let key = h.finish();
    let Ok(mut shapes) = SHAPES.get_or_init(|| Mutex::new(HashSet::new())).lock() else { return false };
    if shapes.contains(&key) {
        return true;
    }
    if shapes.len() < MAX_CACHED_SHAPES {
        shapes.insert(key);
        return true;
    }
    false
}

/// Runs `plan` and maps the rows.
pub fn load<T>(conn: &mut DbConn, plan: &SqlPlan) -> Result<Vec<T>, DbError>
where
    T: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    let query = PlanQuery { plan, cache: cacheable(&plan.sql) };
    match conn {
        DbConn::Sqlite(c) => query.load::<T>(c).map_err(DbError::from),
        DbConn::Postgresql(c) => query.load::<T>(c).map_err(DbError::from),
    }
}

/// Runs a statement that returns no rows (the import's multi-row inserts); the number of rows
/// it changed.
pub fn execute(conn: &mut DbConn, plan: &SqlPlan) -> Result<usize, DbError> {
    let query = PlanQuery { plan, cache: cacheable(&plan.sql) };
    match conn {
        DbConn::Sqlite(c) => query.execute(c).map_err(DbError::from),
        DbConn::Postgresql(c) => query.execute(c).map_err(DbError::from),
    }
}

/// One visible capacity extension.
#[derive(Debug, Clone, QueryableByName)]
struct FigureRow {
    #[diesel(sql_type = Text)]
    location_id: String,
    #[diesel(sql_type = Text)]
    json: String,
}

fn codes(list: Option<&str>) -> impl Iterator<Item = &str> + Clone {
    list.unwrap_or_default().split(',').filter(|c| !c.is_empty())
}

/// Where the figures a consumer sees of one place come from.
enum Figures {
    /// None is visible (no capacity for this consumer, or a place linked to a sensitive unit).
    Hidden,
    /// All are visible: the place's stored piece ('' when it has none).
    Stored(String),
    /// Some may be hidden: filtered from `capacities`.
    Filtered,
}

/// Completes the JSON of Locations with the capacity figures the consumer may see.
///
/// A place whose figures are all visible to the consumer is completed with its stored figures in
/// one piece; only the others have their figures filtered from `capacities`.
fn compose_locations(conn: &mut DbConn, rows: &mut [ResourceRow], scope: &Scope) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    let cap = &scope.capacity;
    let view = cap.view_key();
    for row in rows.iter_mut() {
        if let Some(instants) = row.views.take() {
            row.last_updated = views::instant_of(&instants, &view).unwrap_or(row.last_updated);
        }
    }
    let sources: Vec<Figures> = rows
        .iter_mut()
        .map(|r| match r.figures.take() {
            _ if cap.none || (cap.hide_sensitive && r.sensitive) => Figures::Hidden,
            Some(piece) if cap.admits_all(codes(r.statuses.as_deref()), codes(r.assignments.as_deref())) => {
                Figures::Stored(piece)
            }
            _ => Figures::Filtered,
        })
        .collect();
    let filtered: Vec<String> =
        rows.iter().zip(&sources).filter(|(_, s)| matches!(s, Figures::Filtered)).map(|(r, _)| r.id.clone()).collect();
    let figures = if filtered.is_empty() {
        Vec::new()
    } else {
        load::<FigureRow>(conn, &sql::visible_figures(&filtered, scope))?
    };
    let mut by_place: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for f in &figures {
        by_place.entry(f.location_id.as_str()).or_default().push(f.json.as_str());
    }
    for (row, source) in rows.iter_mut().zip(&sources) {
        let visible: Vec<&str> = match source {
            Figures::Hidden => Vec::new(),
            Figures::Stored(piece) => std::iter::once(piece.as_str()).filter(|p| !p.is_empty()).collect(),
            Figures::Filtered => by_place.get(row.id.as_str()).cloned().unwrap_or_default(),
        };
        let parts = render::StoredParts {
            head: &row.json,
            tail: &row.tail,
            empty_head_len: usize::try_from(row.cut_head).unwrap_or(0),
            empty_tail_skip: usize::try_from(row.cut_tail).unwrap_or(0),
            last_updated_at: row.lu_at.and_then(|a| usize::try_from(a).ok()),
        };
        // The row's instant is the consumer's view of the place (see `sql::select_list`).
        row.json = render::compose_location(&parts, &format_instant(row.last_updated), visible);
        row.tail = String::new();
    }
    Ok(())
}

/// One resource by id, within `scope` (outside it, `None`: existence does not leak).
pub fn read(conn: &mut DbConn, rt: ResourceType, id: &str, scope: &Scope) -> Result<Option<ResourceRow>, DbError> {
    let mut rows = load::<ResourceRow>(conn, &sql::read(rt, id, scope))?;
    if rt == ResourceType::Location {
        compose_locations(conn, &mut rows, scope)?;
    }
    Ok(rows.into_iter().next())
}

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
}

fn count(c: &mut DbConn, req: &SearchRequest, scope: &Scope) -> Result<u64, DbError> {
    let n = load::<CountRow>(c, &sql::count(req, scope))?.first().map_or(0, |r| r.n);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Runs a search in one read transaction.
pub fn search(
    conn: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    max_included: usize,
) -> Result<SearchResult, DbError> {
    conn.transaction::<_, DbError, _>(|c| {
        if matches!(c, DbConn::Postgresql(_)) && req.conditions.iter().any(Condition::is_range) {
            // PostgreSQL plans a prepared statement without its values after five runs; for a range
            // that plan guesses a third of the rows match and walks the whole id index (S4 on 12k
            // places: 10-20 ms against 2 ms planned with the values). Plan this search's statements
            // with their values, for this transaction only.
            diesel::connection::SimpleConnection::batch_execute(c, "SET LOCAL plan_cache_mode = force_custom_plan")?;
        }
        let mut out = SearchResult::default();
        if req.summary_count || req.count == 0 {
            if req.total || req.summary_count {
                out.total = Some(count(c, req, scope)?);
            }
            return Ok(out);
        }
        let mut rows = load::<ResourceRow>(c, &sql::page(req, scope, after, req.count + 1))?;
        out.has_more = rows.len() > req.count;
        rows.truncate(req.count);
        if req.total {
            // A first page that holds every match is its own count; later pages carry the count made
            // when the search started (in their cursor). Only a first page with more to come counts.
            out.total = match after {
                None if !out.has_more => Some(rows.len() as u64),
                Some(key) if key.total.is_some() => key.total,
                _ => Some(count(c, req, scope)?),
            };
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        if !ids.is_empty() {
            if req.revinclude_services {
                let inc = load::<ResourceRow>(c, &sql::services_of_locations(&ids, scope, max_included + 1))?;
                out.included_truncated |= inc.len() > max_included;
                out.included.extend(inc.into_iter().take(max_included).map(|r| (ResourceType::HealthcareService, r)));
            }
            if req.include_locations {
                let mut inc = load::<ResourceRow>(c, &sql::locations_of_services(&ids, scope, max_included + 1))?;
                out.included_truncated |= inc.len() > max_included;
                inc.truncate(max_included);
                compose_locations(c, &mut inc, scope)?;
                out.included.extend(inc.into_iter().take(max_included).map(|r| (ResourceType::Location, r)));
            }
        }
        if req.resource == ResourceType::Location {
            compose_locations(c, &mut rows, scope)?;
        }
        out.matches = rows;
        Ok(out)
    })
}

/// Whether the database answers (for `/ready`).
pub fn ping(conn: &mut DbConn) -> Result<(), DbError> {
    load::<CountRow>(
        conn,
        &SqlPlan { sql: "SELECT COUNT(*) AS n FROM organizations WHERE 1 = 0".into(), binds: vec![] },
    )
    .map(|_| ())
}

/// A single text value.
#[derive(Debug, Clone, QueryableByName)]
pub struct TextRow {
    /// The value.
    #[diesel(sql_type = Text)]
    pub v: String,
}

/// A few functional ids of places and identifiers of offers, for example URLs.
pub fn sample_identifiers(conn: &mut DbConn, n: usize) -> Result<(Vec<String>, Vec<String>), DbError> {
    let limit = i64::try_from(n).unwrap_or(1);
    let places = load::<TextRow>(
        conn,
        &SqlPlan {
            sql: "SELECT functional_id AS v FROM locations WHERE functional_id IS NOT NULL ORDER BY id LIMIT ?".into(),
            binds: vec![Bind::BigInt(limit)],
        },
    )?;
    let offers = load::<TextRow>(
        conn,
        &SqlPlan {
            sql: "SELECT identifier_value AS v FROM healthcare_services WHERE identifier_value IS NOT NULL ORDER BY id LIMIT ?"
                .into(),
            binds: vec![Bind::BigInt(limit)],
        },
    )?;
    Ok((places.into_iter().map(|r| r.v).collect(), offers.into_iter().map(|r| r.v).collect()))
}

/// Number of stored Locations.
pub fn location_count(conn: &mut DbConn) -> Result<u64, DbError> {
    let n = load::<CountRow>(conn, &SqlPlan { sql: "SELECT COUNT(*) AS n FROM locations".into(), binds: vec![] })?
        .first()
        .map_or(0, |r| r.n);
    Ok(u64::try_from(n).unwrap_or(0))
}

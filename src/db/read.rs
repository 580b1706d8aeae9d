//! Read queries: running a [`SqlPlan`] on either backend, and the statements a read or a search is
//! made of (count, page, includes, visible figures), run by `service::query` in one snapshot.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::{Mutex, OnceLock};

use diesel::connection::Connection;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Binary, Bool, Double, HasSqlType, Nullable, Text, Untyped};
use diesel::{QueryResult, QueryableByName, pg::Pg, sqlite::Sqlite};

use super::rows::{CountRow, PartRow, ResourceRow, ResourceSql};
use super::{DbConn, DbError};
use crate::config::database::Backend;
use crate::db::ident::search_tags_off_region as off_region;
use crate::db::sql::{self, Bind, Scope, SqlPlan};
use crate::fhir::ResourceType;
use crate::search::SearchRequest;
use crate::search::cursor::CursorKey;

/// A [`SqlPlan`] as a diesel query. Its statement is prepared once per connection and kept in
/// diesel's statement cache (keyed by its text) when [`cacheable`] allows; its text is sent piece
/// by piece, each value bound where the plan put it (the backend writes its own placeholder:
/// `?` on SQLite, `$n` on PostgreSQL).
///
/// Its rows are read by name (`ST` = [`Untyped`], for [`QueryableByName`] rows) or by position
/// (`ST` the tuple of the columns' SQL types, for [`diesel::Queryable`] rows).
pub(super) struct PlanQuery<'a, ST = Untyped> {
    plan: &'a SqlPlan,
    cache: bool,
    row: PhantomData<ST>,
}

impl<'a, ST> PlanQuery<'a, ST> {
    pub(super) fn new(plan: &'a SqlPlan) -> Self {
        Self { plan, cache: cacheable(plan.sql()), row: PhantomData }
    }
}

impl<ST> QueryId for PlanQuery<'_, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> Query for PlanQuery<'_, ST> {
    type SqlType = ST;
}

impl<Conn, ST> RunQueryDsl<Conn> for PlanQuery<'_, ST> {}

impl<DB, ST> QueryFragment<DB> for PlanQuery<'_, ST>
where
    DB: diesel::backend::Backend
        + HasSqlType<Text>
        + HasSqlType<BigInt>
        + HasSqlType<Double>
        + HasSqlType<Bool>
        + HasSqlType<Binary>,
    String: ToSql<Text, DB>,
    Option<String>: ToSql<Nullable<Text>, DB>,
    i64: ToSql<BigInt, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
    f64: ToSql<Double, DB>,
    Option<f64>: ToSql<Nullable<Double>, DB>,
    bool: ToSql<Bool, DB>,
    Vec<u8>: ToSql<Binary, DB>,
    Option<Vec<u8>>: ToSql<Nullable<Binary>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        for (text, bind) in self.plan.pieces() {
            out.push_sql(text);
            match bind {
                Some(Bind::Text(s)) => out.push_bind_param::<Text, String>(s)?,
                Some(Bind::BigInt(n)) => out.push_bind_param::<BigInt, i64>(n)?,
                Some(Bind::Double(x)) => out.push_bind_param::<Double, f64>(x)?,
                Some(Bind::Null) => out.push_bind_param::<Nullable<Text>, Option<String>>(&None)?,
                Some(Bind::Bool(b)) => out.push_bind_param::<Bool, bool>(b)?,
                Some(Bind::Bytes(b)) => out.push_bind_param::<Binary, Vec<u8>>(b)?,
                Some(Bind::NullBigInt) => out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&None)?,
                Some(Bind::NullDouble) => out.push_bind_param::<Nullable<Double>, Option<f64>>(&None)?,
                Some(Bind::NullBytes) => out.push_bind_param::<Nullable<Binary>, Option<Vec<u8>>>(&None)?,
                None => {}
            }
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

/// Runs `plan` and maps the rows, each field read by its column's name.
pub fn load<T>(conn: &mut DbConn, plan: &SqlPlan) -> Result<Vec<T>, DbError>
where
    T: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    let query = PlanQuery::<Untyped>::new(plan);
    match conn {
        DbConn::Sqlite(c) => query.load::<T>(c).map_err(DbError::from),
        DbConn::Postgresql(c) => query.load::<T>(c).map_err(DbError::from),
    }
}

/// Runs `plan`, whose select list is that of `sql::select_list`, and maps its rows by position:
/// a page's rows are many, and looking each of their 13 fields up by name took a tenth of an
/// export's instructions on SQLite (BENCHMARKS.md). `sql`'s tests check the columns' order.
pub(super) fn resources(conn: &mut DbConn, plan: &SqlPlan) -> Result<Vec<ResourceRow>, DbError> {
    let query = PlanQuery::<ResourceSql>::new(plan);
    match conn {
        DbConn::Sqlite(c) => query.load::<ResourceRow>(c).map_err(DbError::from),
        DbConn::Postgresql(c) => query.load::<ResourceRow>(c).map_err(DbError::from),
    }
}

/// Runs a statement that returns no rows (the import's multi-row inserts); the number of rows
/// it changed.
pub fn execute(conn: &mut DbConn, plan: &SqlPlan) -> Result<usize, DbError> {
    let query = PlanQuery::<Untyped>::new(plan);
    match conn {
        DbConn::Sqlite(c) => query.execute(c).map_err(DbError::from),
        DbConn::Postgresql(c) => query.execute(c).map_err(DbError::from),
    }
}

/// One visible capacity figure of a place.
#[derive(Debug, Clone, QueryableByName)]
pub struct FigureRow {
    /// The place.
    #[diesel(sql_type = Text)]
    pub location_id: String,
    /// Its position among the place's figures (from 1), that of its extension in the place's piece.
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
}

/// The capacity figures of `places` that `scope` admits, one row per figure.
pub fn visible_figures(conn: &mut DbConn, places: &[String], scope: &Scope) -> Result<Vec<FigureRow>, DbError> {
    load::<FigureRow>(conn, &sql::visible_figures(places, scope))
}

/// The stored row of one resource by id, if `scope` admits it.
pub fn resource(conn: &mut DbConn, rt: ResourceType, id: &str, scope: &Scope) -> Result<Vec<ResourceRow>, DbError> {
    resources(conn, &sql::read(rt, id, scope))
}

/// Number of matches of `req` within `scope`.
pub fn count(c: &mut DbConn, req: &SearchRequest, scope: &Scope) -> Result<u64, DbError> {
    let n = load::<CountRow>(c, &sql::count(req, scope))?.first().map_or(0, |r| r.n);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// At most `limit` matches of `req` within `scope`, in its order, after the cursor's key.
pub fn page(
    c: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    limit: usize,
) -> Result<Vec<ResourceRow>, DbError> {
    let plan = page_plan(c, req, scope, after, limit)?;
    resources(c, &plan)
}

/// The statement of a page of `req` ([`page`]; [`super::in_place::each_of_page`] reads its rows
/// in place).
pub(super) fn page_plan(
    c: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    limit: usize,
) -> Result<SqlPlan, DbError> {
    let how = planning(c, req)?;
    Ok(sql::page(req, scope, after, limit, how))
}

/// What the page of `req` may rely on: its backend and, for a région's `_tag` with figure
/// criteria, whether the tag is held only as a région (one lookup, in the caller's snapshot).
pub fn planning(c: &mut DbConn, req: &SearchRequest) -> Result<sql::Planning, DbError> {
    let mut how = sql::Planning::for_backend(backend_of(c));
    if let Some(code) = sql::region_code(req) {
        let mut p = SqlPlan::new("SELECT COUNT(*) AS n FROM ");
        p.ident(off_region::TABLE);
        p.push(" WHERE ");
        p.ident(off_region::CODE);
        p.push(" = ");
        p.text(code);
        how.region_exact = load::<CountRow>(c, &p)?.first().is_some_and(|r| r.n == 0);
    }
    Ok(how)
}

fn backend_of(c: &DbConn) -> Backend {
    match c {
        DbConn::Sqlite(_) => Backend::Sqlite,
        DbConn::Postgresql(_) => Backend::Postgres,
    }
}

/// One page of at most `limit` rows and at most `max_services` offers linked to any of them, in one
/// statement (see [`sql::lookup`]): the page's rows (in no set order), then the offers (by id).
/// The page is planned without reading anything first (no région walk).
pub fn page_with_services(
    c: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    limit: usize,
    max_services: usize,
) -> Result<(Vec<ResourceRow>, Vec<ResourceRow>), DbError> {
    let how = sql::Planning::for_backend(backend_of(c));
    let plan = sql::lookup::page_with_services(req, scope, after, limit, max_services, how);
    let (page, services): (Vec<_>, Vec<_>) = load::<PartRow>(c, &plan)?.into_iter().partition(|r| r.part == 0);
    Ok((page.into_iter().map(|r| r.row).collect(), services.into_iter().map(|r| r.row).collect()))
}

/// At most `limit` offers linked to the places `ids`, within `scope`.
pub fn services_of_locations(
    c: &mut DbConn,
    ids: &[String],
    scope: &Scope,
    limit: usize,
) -> Result<Vec<ResourceRow>, DbError> {
    resources(c, &sql::services_of_locations(ids, scope, limit))
}

/// At most `limit` places the offers `ids` reference, within `scope`.
pub fn organizations_of(
    c: &mut DbConn,
    rt: ResourceType,
    ids: &[String],
    scope: &Scope,
    limit: usize,
) -> Result<Vec<ResourceRow>, DbError> {
    resources(c, &sql::organizations_of(rt, ids, scope, limit))
}

/// The Locations referenced by any of `ids` (`_include=HealthcareService:location`).
pub fn locations_of_services(
    c: &mut DbConn,
    ids: &[String],
    scope: &Scope,
    limit: usize,
) -> Result<Vec<ResourceRow>, DbError> {
    resources(c, &sql::locations_of_services(ids, scope, limit))
}

/// Runs `f` in one read transaction (one snapshot).
///
/// On PostgreSQL, serving sessions run prepared statements with plans made without their values
/// (`plan_cache_mode = force_generic_plan`, set by `connect`): most of a search's statements look
/// rows up by ids or codes whatever the values, and planning them with their values each time cost
/// more than running them (0.6-2 ms a statement: with a list of 50 identifiers, the planner weighs
/// each value against the column's statistics). With `planned_with_values`, this transaction's
/// statements are planned with their values instead, until [`plans_without_values`]: a plan made
/// without them guesses that a `_lastUpdated` range matches a third of the rows and walks the whole
/// id index (S4 on 12k places: 10-20 ms against 2 ms planned with the values).
pub fn in_snapshot<T, E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    planned_with_values: bool,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    conn.transaction::<_, E, _>(|c| {
        if planned_with_values && matches!(c, DbConn::Postgresql(_)) {
            diesel::connection::SimpleConnection::batch_execute(c, "SET LOCAL plan_cache_mode = force_custom_plan")?;
        }
        f(c)
    })
}

/// Within an [`in_snapshot`] transaction planned with values, plans the statements that follow
/// without them again (the includes of a page, looked up by ids).
pub fn plans_without_values(conn: &mut DbConn) -> Result<(), DbError> {
    if matches!(conn, DbConn::Postgresql(_)) {
        diesel::connection::SimpleConnection::batch_execute(conn, "SET LOCAL plan_cache_mode = force_generic_plan")?;
    }
    Ok(())
}

/// The data generation: raised by every import and by every start-up rewrite of stored rows, so
/// that two reads under one generation read the same data.
pub fn generation(conn: &mut DbConn) -> Result<i64, DbError> {
    use super::schema::data_generation as g;
    use diesel::{QueryDsl, RunQueryDsl};
    Ok(g::table.find(1).select(g::generation).first(conn)?)
}

/// Whether the database answers (for `/ready`).
pub fn ping(conn: &mut DbConn) -> Result<(), DbError> {
    load::<CountRow>(conn, &SqlPlan::new("SELECT COUNT(*) AS n FROM organizations WHERE 1 = 0")).map(|_| ())
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
    let mut places =
        SqlPlan::new("SELECT functional_id AS v FROM locations WHERE functional_id IS NOT NULL ORDER BY id LIMIT ");
    places.int(limit);
    let mut offers = SqlPlan::new(
        "SELECT identifier_value AS v FROM healthcare_services WHERE identifier_value IS NOT NULL ORDER BY id LIMIT ",
    );
    offers.int(limit);
    let places = load::<TextRow>(conn, &places)?;
    let offers = load::<TextRow>(conn, &offers)?;
    Ok((places.into_iter().map(|r| r.v).collect(), offers.into_iter().map(|r| r.v).collect()))
}

/// Number of stored Locations.
pub fn location_count(conn: &mut DbConn) -> Result<u64, DbError> {
    let n = load::<CountRow>(conn, &SqlPlan::new("SELECT COUNT(*) AS n FROM locations"))?.first().map_or(0, |r| r.n);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// What the committed imports of this database did, all together (`import_runs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct ImportTotals {
    /// Imports committed.
    #[diesel(sql_type = BigInt)]
    pub runs: i64,
    /// Resources they inserted.
    #[diesel(sql_type = BigInt)]
    pub inserted: i64,
    /// Resources they changed.
    #[diesel(sql_type = BigInt)]
    pub updated: i64,
    /// Resources they found identical to what was stored.
    #[diesel(sql_type = BigInt)]
    pub unchanged: i64,
    /// When the last one committed (µs since the epoch; `None` before the first).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub last_finished_at: Option<i64>,
}

/// The committed imports' totals, in one statement (for the metrics).
pub fn import_totals(conn: &mut DbConn) -> Result<ImportTotals, DbError> {
    // PostgreSQL sums BIGINTs as NUMERIC: each sum is cast back.
    let plan = SqlPlan::new(
        "SELECT COUNT(*) AS runs, CAST(COALESCE(SUM(inserted), 0) AS BIGINT) AS inserted, \
         CAST(COALESCE(SUM(updated), 0) AS BIGINT) AS updated, \
         CAST(COALESCE(SUM(unchanged), 0) AS BIGINT) AS unchanged, \
         MAX(finished_at) AS last_finished_at FROM import_runs",
    );
    load::<ImportTotals>(conn, &plan)?.into_iter().next().ok_or_else(|| DbError::from(diesel::result::Error::NotFound))
}

//! Read queries: running a [`SqlPlan`] on either backend, and the search pipeline (count, page and
//! includes in one read transaction, so `total` and the page come from the same snapshot).

use diesel::connection::Connection;
use diesel::query_builder::QueryFragment;
use diesel::query_dsl::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, pg::Pg, sqlite::Sqlite};

use super::rows::{CountRow, ResourceRow};
use super::{DbConn, DbError};
use crate::fhir::ResourceType;
use crate::search::SearchRequest;
use crate::search::cursor::CursorKey;
use crate::search::sql::{self, Bind, Scope, SqlPlan};

/// `?` → `$1, $2, …` for PostgreSQL (the generated SQL never has `?` inside literals).
fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn load_boxed<'a, DB, T, C>(conn: &mut C, sql: String, binds: &'a [Bind]) -> Result<Vec<T>, DbError>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<BigInt>
        + 'static,
    C: Connection<Backend = DB> + diesel::connection::LoadConnection,
    T: QueryableByName<DB> + 'static,
    String: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    diesel::query_builder::BoxedSqlQuery<'a, DB, diesel::query_builder::SqlQuery>: QueryFragment<DB>,
{
    let mut q = diesel::sql_query(sql).into_boxed::<DB>();
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind::<Text, _>(s.clone()),
            Bind::BigInt(i) => q.bind::<BigInt, _>(*i),
        };
    }
    q.load::<T>(conn).map_err(DbError::from)
}

/// Runs `plan` and maps the rows.
pub fn load<T>(conn: &mut DbConn, plan: &SqlPlan) -> Result<Vec<T>, DbError>
where
    T: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    match conn {
        DbConn::Sqlite(c) => load_boxed::<Sqlite, T, _>(c, plan.sql.clone(), &plan.binds),
        DbConn::Postgresql(c) => load_boxed::<Pg, T, _>(c, pg_placeholders(&plan.sql), &plan.binds),
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

/// Completes the JSON of Locations with the capacity figures the consumer may see.
fn compose_locations(conn: &mut DbConn, rows: &mut [ResourceRow], scope: &Scope) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    let figures = if scope.capacity.none {
        Vec::new()
    } else {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        load::<FigureRow>(conn, &sql::visible_figures(&ids, scope))?
    };
    let mut by_place: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for f in &figures {
        by_place.entry(f.location_id.as_str()).or_default().push(f.json.as_str());
    }
    for row in rows.iter_mut() {
        let visible = by_place.get(row.id.as_str()).into_iter().flatten().copied();
        row.json = crate::fhir::render::compose_location(
            &row.json,
            &row.tail,
            usize::try_from(row.cut_head).unwrap_or(0),
            usize::try_from(row.cut_tail).unwrap_or(0),
            visible,
        );
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

/// Runs a search in one read transaction.
pub fn search(
    conn: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    max_included: usize,
) -> Result<SearchResult, DbError> {
    conn.transaction::<_, DbError, _>(|c| {
        let mut out = SearchResult::default();
        if req.total || req.summary_count {
            let n = load::<CountRow>(c, &sql::count(req, scope))?.first().map_or(0, |r| r.n);
            out.total = Some(u64::try_from(n).unwrap_or(0));
        }
        if req.summary_count || req.count == 0 {
            return Ok(out);
        }
        let mut rows = load::<ResourceRow>(c, &sql::page(req, scope, after, req.count + 1))?;
        out.has_more = rows.len() > req.count;
        rows.truncate(req.count);
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

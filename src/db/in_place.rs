//! Rows read in place: a statement's rows handed one at a time to a caller, their text and bytes
//! borrowed from SQLite's current row instead of copied into a [`ResourceRow`] each. An export
//! writes France's places this way, without diesel's owned rows (an allocation and a copy per
//! column of every row; BENCHMARKS.md).
//!
//! On PostgreSQL the rows come over a socket anyway: they are loaded as owned rows, then handed
//! over the same way, so that callers have one path.

use diesel::connection::{DefaultLoadingMode, LoadConnection};
use diesel::deserialize::FromSqlRef;
use diesel::row::{Field, Row};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};

use super::rows::{ResourceRow, ResourceSql};
use super::sql::{Scope, SqlPlan};
use super::{DbConn, DbError, read};
use crate::search::SearchRequest;
use crate::search::cursor::CursorKey;

/// A row of the select list of `sql::select_list` ([`ResourceRow`]'s fields, in its order),
/// borrowed for the time it is handed over.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'r> {
    /// Logical id.
    pub id: &'r str,
    /// Instant of last change (µs).
    pub last_updated: i64,
    /// Rendered JSON (for a Location: the part before its capacity figures).
    pub json: &'r str,
    /// Location: the part after its capacity figures.
    pub tail: &'r str,
    /// Location: bytes of `json` kept when no figure is visible.
    pub cut_head: i64,
    /// Location: bytes of `tail` dropped when no figure is visible.
    pub cut_tail: i64,
    /// Location: its capacity extensions, packed.
    pub figures: Option<&'r [u8]>,
    /// Location: the distinct statuses of its figures.
    pub statuses: Option<&'r str>,
    /// Location: the distinct temporary assignments of its figures.
    pub assignments: Option<&'r str>,
    /// Location: where its `meta.lastUpdated` goes.
    pub lu_at: Option<i64>,
    /// Location read in id order: the instants of its views.
    pub views: Option<&'r str>,
    /// Location: linked to a sensitive unit.
    pub sensitive: bool,
}

impl<'r> RowRef<'r> {
    /// The fields of an owned row.
    pub fn of(r: &'r ResourceRow) -> Self {
        Self {
            id: &r.id,
            last_updated: r.last_updated,
            json: &r.json,
            tail: &r.tail,
            cut_head: r.cut_head,
            cut_tail: r.cut_tail,
            figures: r.figures.as_deref(),
            statuses: r.statuses.as_deref(),
            assignments: r.assignments.as_deref(),
            lu_at: r.lu_at,
            views: r.views.as_deref(),
            sensitive: r.sensitive,
        }
    }
}

/// Runs `plan` (a select list of `sql::select_list`) and hands each of its rows to `each`, in
/// order; stops at the first error `each` returns.
pub fn each_row<E: From<DbError>>(
    conn: &mut DbConn,
    plan: &SqlPlan,
    mut each: impl FnMut(RowRef<'_>) -> Result<(), E>,
) -> Result<(), E> {
    match conn {
        DbConn::Sqlite(c) => {
            let query = read::PlanQuery::<ResourceSql>::new(plan);
            let cursor = LoadConnection::<DefaultLoadingMode>::load(c, query).map_err(DbError::from)?;
            for row in cursor {
                // Each row is dropped before the next is read: diesel then keeps no copy of it.
                let row = row.map_err(DbError::from)?;
                let fields: [_; COLUMNS] = std::array::from_fn(|i| row.get(i));
                let mut values: [Option<SqliteValue<'_, '_, '_>>; COLUMNS] =
                    std::array::from_fn(|i| fields[i].as_ref().and_then(|f| f.value()));
                each(sqlite_row(&mut values)?)?;
            }
            Ok(())
        }
        DbConn::Postgresql(_) => {
            for r in read::resources(conn, plan)? {
                each(RowRef::of(&r))?;
            }
            Ok(())
        }
    }
}

/// The fields of one SQLite row, from its columns' values (`None`: NULL), borrowed from them.
/// Text is read as diesel reads it into a `String` (checked as UTF-8: bytes that are not fail the
/// row), without the copy.
fn sqlite_row<'v, 'r>(values: &'v mut [Option<SqliteValue<'r, 'r, 'r>>]) -> Result<RowRef<'v>, DbError> {
    let mut it = values.iter_mut().map(Option::as_mut);
    let mut next = || it.next().flatten();
    let (id, lu, json, tail, cut_head, cut_tail) = (next(), next(), next(), next(), next(), next());
    let (figures, statuses, assignments, lu_at, views, sensitive) = (next(), next(), next(), next(), next(), next());
    let int = |v: Option<&mut SqliteValue<'r, 'r, 'r>>| v.map(|v| v.read_long());
    let text = |v: Option<&'v mut SqliteValue<'r, 'r, 'r>>| -> Result<Option<&'v str>, DbError> {
        v.map(<&str as FromSqlRef<'v, Text, Sqlite>>::from_sql).transpose().map_err(unreadable)
    };
    Ok(RowRef {
        id: text(id)?.ok_or_else(|| missing("id"))?,
        last_updated: int(lu).ok_or_else(|| missing("last_updated"))?,
        json: text(json)?.unwrap_or_default(),
        tail: text(tail)?.unwrap_or_default(),
        cut_head: int(cut_head).unwrap_or(0),
        cut_tail: int(cut_tail).unwrap_or(0),
        // A blob is read as it is stored, without a copy.
        figures: figures.map(|v| v.read_blob()),
        statuses: text(statuses)?,
        assignments: text(assignments)?,
        lu_at: int(lu_at),
        views: text(views)?,
        sensitive: int(sensitive).is_some_and(|n| n != 0),
    })
}

/// The select list's columns read here (the last one, `score`, is not: a walk by id has none).
const COLUMNS: usize = 12;

fn unreadable(e: Box<dyn std::error::Error + Send + Sync>) -> DbError {
    DbError::Unreadable(format!("a stored text: {e}"))
}

fn missing(column: &str) -> DbError {
    DbError::Unreadable(format!("a row without its {column}"))
}

/// The rows of a page of `req` (as [`read::page`] reads them), handed to `each` in order.
pub fn each_of_page<E: From<DbError>>(
    conn: &mut DbConn,
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    limit: usize,
    each: impl FnMut(RowRef<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let plan = read::page_plan(conn, req, scope, after, limit)?;
    each_row(conn, &plan, each)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;

    fn conn() -> DbConn {
        DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").expect("an in-memory database"))
    }

    /// The rows as handed over, owned again to be compared.
    fn rows(c: &mut DbConn, plan: &SqlPlan) -> Result<Vec<String>, DbError> {
        let mut out = Vec::new();
        each_row(c, plan, |r: RowRef<'_>| {
            out.push(format!(
                "{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
                r.id,
                r.last_updated,
                r.json,
                r.tail,
                r.cut_head,
                r.cut_tail,
                r.figures,
                r.statuses,
                r.assignments,
                r.lu_at,
                r.views,
                r.sensitive
            ));
            Ok::<_, DbError>(())
        })?;
        Ok(out)
    }

    #[test]
    fn rows_are_handed_over_with_their_nulls_and_bytes() {
        let mut c = conn();
        let mut p = SqlPlan::new("SELECT ");
        p.text("é1");
        p.push(
            ", 7, '{\"a\":1}', 'z', 3, 4, x'0102', '01,02', NULL, 5, 'v', 1, NULL \
             UNION ALL SELECT 'b', -1, '', '', 0, 0, NULL, NULL, '1', NULL, NULL, 0, 0.5",
        );
        let got = rows(&mut c, &p).expect("rows");
        assert_eq!(
            got,
            [
                r#"é1|7|{"a":1}|z|3|4|Some([1, 2])|Some("01,02")|None|Some(5)|Some("v")|true"#,
                r#"b|-1|||0|0|None|None|Some("1")|None|None|false"#,
            ]
        );
    }

    #[test]
    fn rows_in_place_read_as_owned_rows_do() {
        let mut c = conn();
        let p = SqlPlan::new(
            "SELECT 'a', 1, '{\"é\":1}', 'z', 2, 3, x'00ff', 's', 't', 4, 'v', 0, NULL \
             UNION ALL SELECT 'b', 2, '{}', '', 0, 0, NULL, NULL, NULL, NULL, NULL, 1, NULL",
        );
        let owned: Vec<String> =
            read::resources(&mut c, &p).expect("owned rows").iter().map(|r| format!("{:?}", RowRef::of(r))).collect();
        let mut in_place = Vec::new();
        each_row(&mut c, &p, |r| {
            in_place.push(format!("{r:?}"));
            Ok::<_, DbError>(())
        })
        .expect("rows in place");
        assert_eq!(in_place, owned);
    }

    #[test]
    fn text_that_is_not_utf8_fails_as_owned_rows_fail() {
        let mut c = conn();
        let p = SqlPlan::new("SELECT 'a', 1, CAST(x'7bff7d' AS TEXT), '', 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL");
        assert!(read::resources(&mut c, &p).is_err(), "owned");
        let r = each_row(&mut c, &p, |_| Ok::<_, DbError>(()));
        assert!(matches!(r, Err(DbError::Unreadable(ref m)) if m.contains("text")), "{r:?}");
    }

    #[test]
    fn an_error_of_the_caller_stops_the_rows() {
        let mut c = conn();
        let p = SqlPlan::new(
            "SELECT 'a', 1, '', '', 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL UNION ALL SELECT 'b', 1, '', '', 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL",
        );
        let mut seen = 0;
        let r = each_row(&mut c, &p, |_| {
            seen += 1;
            Err(DbError::Unreadable("stop".into()))
        });
        assert!(r.is_err() && seen == 1);
    }
}

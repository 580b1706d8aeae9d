//! A page and the offers of its places in one statement: what PostgreSQL runs for a search of
//! places ordered by id (see `service::query`), so that it is one round trip and one snapshot
//! without `BEGIN` and `COMMIT`.

use super::{Planning, Scope, SqlPlan, linked_to, page};
use crate::fhir::ResourceType;
use crate::search::SearchRequest;
use crate::search::cursor::CursorKey;

/// The columns of a [`crate::db::rows::ResourceRow`], in one order for both parts.
const COLUMNS: &str = "id, last_updated, views, json, tail, cut_head, cut_tail, figures, statuses, \
                       assignments, lu_at, sensitive, score";

/// The page (`part` 0, at most `limit` rows, ordered by id) and, within `scope`, at most
/// `max_services` offers linked to its first `shown` rows (`part` 1), in one statement. The page's
/// rows come in no set order (the caller orders them); the offers are the first by id, as
/// [`super::services_of_locations`] reads them. A page read with one row more than it shows (to
/// know whether more follow) thus brings only the offers of the rows it shows.
pub fn page_with_services(
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    (limit, shown): (usize, usize),
    max_services: usize,
    how: Planning,
) -> SqlPlan {
    let mut p = SqlPlan::new("WITH page AS MATERIALIZED (");
    p.append(page(req, scope, after, limit, how));
    p.push("), shown AS (SELECT page.id FROM page ORDER BY page.id");
    p.push(if req.sort.descending { " DESC" } else { " ASC" });
    p.push(" LIMIT ");
    p.number(shown);
    p.push(") SELECT 0 AS part, ");
    p.push(COLUMNS);
    p.push(" FROM page UNION ALL SELECT 1 AS part, ");
    p.push(COLUMNS);
    p.push(" FROM (");
    p.append(linked_to(ResourceType::HealthcareService, None, scope, max_services));
    p.push(") s");
    p
}

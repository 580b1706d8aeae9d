//! A page and the offers of its places in one statement: what PostgreSQL runs for a lookup (a
//! search by identifiers, ids or offers, whose matches are few) so that it is one round trip and
//! one snapshot without `BEGIN` and `COMMIT` (see `service::query`).

use super::{Planning, Scope, SqlPlan, linked_to, page};
use crate::fhir::ResourceType;
use crate::search::SearchRequest;
use crate::search::cursor::CursorKey;

/// The columns of a [`crate::db::rows::ResourceRow`], in one order for both parts.
const COLUMNS: &str = "id, last_updated, json, tail, cut_head, cut_tail, figures, statuses, assignments, \
                       lu_at, views, sensitive, score";

/// The page (`part` 0, at most `limit` rows) and, within `scope`, at most `max_services` offers
/// linked to any of its rows (`part` 1), in one statement. The page's rows come in no set order
/// (the caller orders them); the offers are the first by id, as [`super::services_of_locations`]
/// reads them. Meant for pages whose every row is kept: the offers are those of all `limit` rows.
pub fn page_with_services(
    req: &SearchRequest,
    scope: &Scope,
    after: Option<&CursorKey>,
    limit: usize,
    max_services: usize,
    how: Planning,
) -> SqlPlan {
    let mut p = SqlPlan::new("WITH page AS MATERIALIZED (");
    p.append(page(req, scope, after, limit, how));
    p.push(") SELECT 0 AS part, ");
    p.push(COLUMNS);
    p.push(" FROM page UNION ALL SELECT 1 AS part, ");
    p.push(COLUMNS);
    p.push(" FROM (");
    p.append(linked_to(ResourceType::HealthcareService, None, scope, max_services));
    p.push(") s");
    p
}

//! PostgreSQL searches of places in one statement (issue 13): a search of places ordered by id (by
//! identifiers, ids or offers; by `_lastUpdated`, as S4 polls) is answered by one statement, outside
//! any transaction (diesel's instrumentation counts what is sent), and its answer is the one the
//! transaction path gives (taken by a client holding a validator, `If-None-Match`), for every
//! profile and for a regional consumer, on a first page and on a later one. A consumer whose
//! figures are filtered by status or assignment takes the transaction from the start; where the
//! one statement cannot answer alone (a first page that is full, whose total must be counted), the
//! search starts again in a transaction, with the same answer.

use std::sync::{Arc, Mutex};

use ror_capacity::auth::policy::Profile;
use ror_capacity::base::validator::Held;
use ror_capacity::config::SearchLimits;
use ror_capacity::db::sql::Scope;
use ror_capacity::db::{self, DbConn};
use ror_capacity::fhir::ResourceType;
use ror_capacity::search::cursor::CursorKey;
use ror_capacity::search::parse::parse;
use ror_capacity::service::memo::{GenerationMemo, Remembered};
use ror_capacity::service::query::{Reuse, SearchResult, search};

use crate::helpers::{Backend, Dataset, TestDb, dataset, skip_without_postgres};

/// What the connection sent: `begin`, `query`, `commit` and the like, in order.
fn recorded(conn: &mut DbConn) -> Arc<Mutex<Vec<&'static str>>> {
    use diesel::connection::{Connection, InstrumentationEvent};
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    conn.set_instrumentation(move |e: InstrumentationEvent<'_>| {
        let kind = match e {
            InstrumentationEvent::StartQuery { .. } => "query",
            InstrumentationEvent::BeginTransaction { .. } => "begin",
            InstrumentationEvent::CommitTransaction { .. } => "commit",
            InstrumentationEvent::RollbackTransaction { .. } => "rollback",
            _ => return,
        };
        sink.lock().unwrap().push(kind);
    });
    events
}

/// Runs `query` (after `after`); with `transaction`, as a client holding a validator asks it,
/// which is read in a transaction whatever the search (nothing is remembered, so it runs whole).
fn run_after(
    conn: &mut DbConn,
    query: &str,
    scope: &Scope,
    after: Option<&CursorKey>,
    transaction: bool,
) -> SearchResult {
    // The queries here hold nothing to decode.
    let pairs: Vec<(String, String)> =
        query.split('&').map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap()).collect();
    let req = parse(ResourceType::Location, &pairs, false, &SearchLimits::default()).unwrap();
    let reuse = Reuse {
        totals: Remembered { memo: Arc::new(GenerationMemo::new(0)), key: String::new() },
        held: Some((Remembered { memo: Arc::new(GenerationMemo::new(0)), key: String::new() }, Held::Tags(Vec::new()))),
    };
    search(conn, &req, scope, after, 1000, transaction.then_some(&reuse)).unwrap()
}

fn run(conn: &mut DbConn, query: &str, scope: &Scope) -> SearchResult {
    run_after(conn, query, scope, None, false)
}

/// Ids with their JSON.
type Resources = Vec<(String, String)>;

/// The ids and JSON of the matches, then of the included resources.
fn answer(r: &SearchResult) -> (Resources, Resources) {
    let m = r.matches.iter().map(|r| (r.id.clone(), r.json.clone())).collect();
    let i = r.included.iter().map(|(_, r)| (r.id.clone(), r.json.clone())).collect();
    (m, i)
}

fn scopes(data: &Dataset) -> Vec<(String, Scope)> {
    let mut all: Vec<(String, Scope)> =
        (0..=5).map(|n| (format!("profile {n}"), Scope::of_profile(Profile::new(n).unwrap()))).collect();
    let mut regional = Scope::of_profile(Profile::new(1).unwrap());
    regional.regions = Some(vec![data.first_region()]);
    all.push(("regional profile 1".into(), regional));
    all
}

/// Runs `q` both ways on every scope and compares; returns how many ran as one statement.
fn compare(conn: &mut DbConn, data: &Dataset, q: &str, after: Option<&CursorKey>) -> usize {
    let mut single = 0;
    for (name, scope) in scopes(data) {
        let events = recorded(conn);
        let fast = run_after(conn, q, &scope, after, false);
        let sent = events.lock().unwrap().clone();
        let slow = run_after(conn, q, &scope, after, true);
        assert_eq!(fast.total, slow.total, "{name}: {q}");
        let ids = |r: &SearchResult| {
            let (m, i) = answer(r);
            (m.into_iter().map(|(id, _)| id).collect::<Vec<_>>(), i.into_iter().map(|(id, _)| id).collect::<Vec<_>>())
        };
        assert_eq!(ids(&fast), ids(&slow), "{name}: {q}");
        assert!(answer(&fast) == answer(&slow), "{name}: {q}: the same ids, another JSON");
        assert_eq!(fast.has_more, slow.has_more, "{name}: {q}");
        assert_eq!(fast.included_truncated, slow.included_truncated, "{name}: {q}");
        assert!(!fast.matches.is_empty(), "{name}: {q}");
        if scope.capacity.all_or_nothing() {
            assert_eq!(sent, ["query"], "{name}: {q}: one statement");
            single += 1;
        } else {
            // Whether a place holds a figure this consumer may not see does not decide the
            // path: a consumer whose figures are filtered always takes the transaction.
            assert_eq!(sent.first(), Some(&"begin"), "{name}: {q}: a transaction: {sent:?}");
        }
    }
    single
}

#[test]
fn searches_by_id_order_are_one_statement_with_the_answer_of_a_transaction() {
    if skip_without_postgres("searches_by_id_order_are_one_statement_with_the_answer_of_a_transaction") {
        return;
    }
    let data = dataset().clone();
    let test_db = TestDb::new(Backend::Postgres);
    test_db.import(&[&data.path]).unwrap();
    let mut conn = db::connect(&test_db.db_url(), true).unwrap();
    let ids: Vec<String> = data.locations.values().filter_map(|l| Dataset::identifier(l, None)).take(30).collect();
    let rev = "_revinclude=HealthcareService:location";
    let searches = [
        format!("identifier={}&{rev}", ids[0]),
        format!("identifier={}&{rev}", ids.join(",")),
        format!("identifier={}&_count=5&{rev}", ids[..5].join(",")),
        format!("identifier={}", ids[..3].join(",")),
        format!("identifier={}&_sort=-_id&{rev}", ids[..10].join(",")),
        // A range of instants, planned with its bound; a full page (more follow), no total asked.
        format!("_lastUpdated=ge1900-01-01&_count=7&_total=none&{rev}"),
        format!("_lastUpdated=ge1900-01-01&_count=7&_total=none&_sort=-_id&{rev}"),
        // A page that holds every match is its own total.
        format!("_lastUpdated=ge1900-01-01&identifier={}&{rev}", ids[..4].join(",")),
    ];
    let mut single = 0;
    for q in &searches {
        single += compare(&mut conn, &data, q, None);
    }
    assert!(single >= 2 * searches.len(), "profile 1 and the regional consumer: {single} searches in one statement");

    // A later page, after a cursor carrying the total counted on the first.
    let first = run(&mut conn, &format!("_lastUpdated=ge1900-01-01&_count=7&{rev}"), &scopes(&data)[1].1);
    let last = first.matches.last().unwrap();
    let after = CursorKey { last_updated: None, id: last.id.clone(), total: first.total, score_bits: None };
    assert!(compare(&mut conn, &data, &format!("_lastUpdated=ge1900-01-01&_count=7&{rev}"), Some(&after)) >= 2);

    // A first page that does not hold every match, with its total: counted, in a transaction.
    for q in
        [format!("identifier={}&_count=3&{rev}", ids[..5].join(",")), "_lastUpdated=ge1900-01-01&_count=3".to_owned()]
    {
        let events = recorded(&mut conn);
        let page = run(&mut conn, &q, &scopes(&data)[1].1);
        assert!(page.has_more && page.total.is_some() && events.lock().unwrap().contains(&"begin"), "{q}");
    }
}

//! PostgreSQL lookups in one statement (issue 13): a search of places by identifiers, ids or offers
//! is answered by one statement, outside any transaction (diesel's instrumentation counts what is
//! sent), and its answer is the one the transaction path gives, for every profile and for a
//! regional consumer (the same search with a range every place meets, `_lastUpdated=ge1900-01-01`,
//! takes that path). A consumer whose figures are filtered by status or assignment takes the
//! transaction from the start; where the one statement cannot answer alone (more matches than a
//! page), the search starts again in a transaction, with the same answer.

use std::sync::{Arc, Mutex};

use ror_capacity::auth::policy::Profile;
use ror_capacity::config::SearchLimits;
use ror_capacity::db::sql::Scope;
use ror_capacity::db::{self, DbConn};
use ror_capacity::fhir::ResourceType;
use ror_capacity::search::parse::parse;
use ror_capacity::service::query::{SearchResult, search};

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

fn run(conn: &mut DbConn, query: &str, scope: &Scope) -> SearchResult {
    // The queries here hold nothing to decode.
    let pairs: Vec<(String, String)> =
        query.split('&').map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap()).collect();
    let req = parse(ResourceType::Location, &pairs, false, &SearchLimits::default()).unwrap();
    search(conn, &req, scope, None, 1000, None).unwrap()
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

#[test]
fn lookups_are_one_statement_with_the_answer_of_a_transaction() {
    if skip_without_postgres("lookups_are_one_statement_with_the_answer_of_a_transaction") {
        return;
    }
    let data = dataset().clone();
    let test_db = TestDb::new(Backend::Postgres);
    test_db.import(&[&data.path]).unwrap();
    let mut conn = db::connect(&test_db.db_url(), true).unwrap();
    let ids: Vec<String> = data.locations.values().filter_map(|l| Dataset::identifier(l, None)).take(30).collect();
    let rev = "_revinclude=HealthcareService:location";
    let lookups = [
        format!("identifier={}&{rev}", ids[0]),
        format!("identifier={}&{rev}", ids.join(",")),
        format!("identifier={}&_count=5&{rev}", ids[..5].join(",")),
        format!("identifier={}", ids[..3].join(",")),
        format!("identifier={}&_sort=-_id&{rev}", ids[..10].join(",")),
    ];
    let mut single = 0;
    for (name, scope) in scopes(&data) {
        for q in &lookups {
            let events = recorded(&mut conn);
            let fast = run(&mut conn, q, &scope);
            let sent = events.lock().unwrap().clone();
            let slow = run(&mut conn, &format!("{q}&_lastUpdated=ge1900-01-01"), &scope);
            assert_eq!(fast.total, slow.total, "{name}: {q}");
            assert_eq!(answer(&fast), answer(&slow), "{name}: {q}");
            assert_eq!(fast.has_more, slow.has_more, "{name}: {q}");
            assert_eq!(fast.included_truncated, slow.included_truncated, "{name}: {q}");
            if scope.capacity.all_or_nothing() {
                assert_eq!(sent, ["query"], "{name}: {q}: one statement");
                single += 1;
            } else {
                // Whether a place holds a figure this consumer may not see does not decide the
                // path: a consumer whose figures are filtered always takes the transaction.
                assert_eq!(sent.first(), Some(&"begin"), "{name}: {q}: a transaction: {sent:?}");
            }
        }
    }
    assert!(single >= 2 * lookups.len(), "profile 1 and the regional consumer: {single} lookups in one statement");

    // A page that does not hold every match (more identifiers than `_count`) is not a lookup.
    let events = recorded(&mut conn);
    let page = run(&mut conn, &format!("identifier={}&_count=3&{rev}", ids[..5].join(",")), &scopes(&data)[1].1);
    assert!(page.has_more && events.lock().unwrap().contains(&"begin"));
}

use super::*;
use crate::search::limits::SearchLimits;
use crate::search::parse::parse;

fn req(rt: ResourceType, q: &str) -> SearchRequest {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
    parse(rt, &pairs, false, &SearchLimits::default()).unwrap()
}

#[test]
fn in_lists_take_few_shapes() {
    assert_eq!((0..=9).map(list_bucket).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 8, 8, 8, 8, 16]);
    let ids: Vec<String> = (0..5).map(|i| format!("l{i}")).collect();
    let plan = visible_figures(&ids, &Scope::everything());
    assert_eq!(plan.binds.len(), 8);
    assert_eq!(plan.binds[7], Bind::Text("l4".into()));
    let plan = visible_figures(&ids[..4], &Scope::everything());
    assert_eq!(plan.binds.len(), 4);
    let empty = visible_figures(&[], &Scope::everything());
    assert!(empty.sql.contains("IN (SELECT NULL WHERE 1 = 0)"), "{}", empty.sql);
}

#[test]
fn statement_texts_do_not_multiply_with_values() {
    // _count=1…200 and 1…1,000 identifiers: a handful of shapes each, not one per value.
    let mut texts = std::collections::HashSet::new();
    for n in 1..=200 {
        let r = req(ResourceType::Location, &format!("_count={n}"));
        texts.insert(page(&r, &Scope::everything(), None, r.count + 1).sql);
    }
    assert!(texts.len() <= 12, "{} shapes for _count", texts.len());
    texts.clear();
    for n in 1..=1000 {
        let ids = (0..n).map(|i| format!("27/{i}")).collect::<Vec<_>>().join(",");
        let r = req(ResourceType::Location, &format!("identifier={ids}"));
        texts.insert(page(&r, &Scope::everything(), None, r.count + 1).sql);
    }
    assert!(texts.len() <= 14, "{} shapes for 1..1000 identifiers", texts.len());
}

#[test]
fn values_are_always_bound() {
    let r = req(ResourceType::Location, "identifier=x'; DROP TABLE locations;--&name=O'Brien%");
    let plan = page(&r, &Scope::everything(), None, 10);
    assert!(!plan.sql.contains("DROP"));
    assert!(!plan.sql.contains("O'Brien"));
    assert_eq!(plan.sql.matches('?').count(), plan.binds.len());
}

#[test]
fn repeated_semi_joins_are_one_intersection() {
    let one = req(ResourceType::Location, "_lastUpdated=ge2020&name=a&_has:HealthcareService:location:_id=x");
    let plan = count(&one, &Scope::everything());
    assert!(!plan.sql.contains("INTERSECT"), "{}", plan.sql);
    let q: Vec<String> = (0..90).map(|i| format!("_lastUpdated=ge20{:02}", i % 30)).collect();
    let many = req(ResourceType::Location, &format!("{}&identifier=x&name=a&_id=b", q.join("&")));
    let plan = page(&many, &Scope::everything(), None, 10);
    // 91 subqueries: two groups (64 + 27), so 89 INTERSECTs and two `IN`s.
    assert_eq!(plan.sql.matches(" INTERSECT ").count(), 89, "{}", plan.sql);
    assert_eq!(plan.sql.matches("r.id IN (SELECT").count(), 2, "{}", plan.sql);
    assert_eq!(plan.sql.matches('?').count(), plan.binds.len());
}

#[test]
fn has_is_a_semi_join_and_keyset_follows_the_sort() {
    let r = req(ResourceType::Location, "_has:HealthcareService:location:identifier=11/1,11/2&_sort=-_lastUpdated");
    let after = CursorKey { last_updated: Some(5), id: "9".into(), total: None };
    let plan = page(&r, &Scope::everything(), Some(&after), 3);
    assert!(plan.sql.contains("IN (SELECT hl.location_id FROM healthcare_service_locations"), "{}", plan.sql);
    assert!(plan.sql.contains("lv.last_updated < ?"), "{}", plan.sql);
    assert!(plan.sql.ends_with("ORDER BY lv.last_updated DESC, lv.location_id DESC LIMIT 3"), "{}", plan.sql);
    assert_eq!(plan.sql.matches('?').count(), plan.binds.len());
}

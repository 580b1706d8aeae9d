use super::*;
use crate::search::TokenValue;
use crate::search::normalize;

fn p(rt: ResourceType, q: &str) -> Result<SearchRequest, Vec<Issue>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
    parse(rt, &pairs, false, &SearchLimits::default())
}

#[test]
fn tokens_and_escapes() {
    let r = p(ResourceType::Location, "identifier=52/1,sys|v,|bare,a\\,b&_tag=52").unwrap();
    let Condition::Tokens { param, values } = &r.conditions[0] else { panic!() };
    assert_eq!(*param, "identifier");
    assert_eq!(values[0], TokenValue { system: None, code: Some("52/1".into()) });
    assert_eq!(values[1], TokenValue { system: Some("sys".into()), code: Some("v".into()) });
    assert_eq!(values[2], TokenValue { system: Some(String::new()), code: Some("bare".into()) });
    assert_eq!(values[3], TokenValue { system: None, code: Some("a,b".into()) });
    assert_eq!(r.conditions.len(), 2);
}

#[test]
fn strict_and_lenient_unknown_parameters() {
    let e = p(ResourceType::Location, "foo=1").unwrap_err();
    assert_eq!(e[0].code, "not-supported");
    let pairs = vec![("foo".to_owned(), "1".to_owned()), ("_id".to_owned(), "a".to_owned())];
    let r = parse(ResourceType::Location, &pairs, true, &SearchLimits::default()).unwrap();
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.canonical_query, "_id=a");
}

#[test]
fn count_is_clamped_and_sort_checked() {
    let r = p(ResourceType::Location, "_count=500&_sort=-_lastUpdated").unwrap();
    assert_eq!(r.count, 200);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.sort, Sort { key: SortKey::LastUpdated, descending: true });
    assert!(p(ResourceType::Location, "_count=-1").is_err());
    assert!(p(ResourceType::Location, "_sort=name").is_err());
    assert!(p(ResourceType::Location, "identifier=").is_err());
    assert!(p(ResourceType::Location, "_lastUpdated=ge2023-13").is_err());
    assert!(p(ResourceType::Location, "_has:HealthcareService:location:name=x").is_err());
    assert!(p(ResourceType::Organization, "_revinclude=HealthcareService:location").is_err());
}

#[test]
fn or_values_are_capped() {
    let many: Vec<String> = (0..1001).map(|i| format!("v{i}")).collect();
    let e = p(ResourceType::Location, &format!("identifier={}", many.join(","))).unwrap_err();
    assert_eq!(e[0].code, "too-costly");
}

#[test]
fn long_values_and_names_are_refused_without_echo() {
    let max = SearchLimits::default().max_value_len;
    assert!(p(ResourceType::Location, &format!("name={}", "a".repeat(max))).is_ok());
    // SQLite refused a 60,000-character LIKE pattern ("pattern too complex"): a 500 before.
    for q in [format!("name={}", "a".repeat(60_000)), format!("{}=1", "n".repeat(max + 1))] {
        let e = p(ResourceType::Location, &q).unwrap_err();
        assert_eq!(e[0].code, "too-costly");
        assert!(e[0].diagnostics.len() < 200, "{}", e[0].diagnostics);
    }
    // Each comma-separated value counts on its own.
    assert!(p(ResourceType::Location, &format!("identifier={}", vec!["v"; 900].join(","))).is_ok());
}

#[test]
fn format_takes_no_modifier() {
    assert!(p(ResourceType::Location, "_format=json").is_ok());
    assert_eq!(p(ResourceType::Location, "_format:x=json").unwrap_err()[0].code, "not-supported");
}

#[test]
fn normalize_strips_accents() {
    assert_eq!(normalize("Hébergement Cœur"), "hebergement coeur");
}

#[test]
fn small_lookups_name_a_few_values_and_nothing_else() {
    let small = |q: &str| p(ResourceType::Location, q).unwrap().is_small_lookup(4);
    assert!(small("identifier=52/1&_revinclude=HealthcareService:location"));
    assert!(small("identifier=a,b&_id=c,d"));
    assert!(small("_has:HealthcareService:location:identifier=x"));
    assert!(small("_id=a&_include=Location:organization"));
    assert!(!small("identifier=a,b,c,d,e"), "more than four values");
    assert!(!small("identifier=a,b,c&_id=d,e"), "five values in all");
    assert!(!small("identifier=a&_lastUpdated=ge2024"), "a range beside them");
    assert!(!small("identifier=a&capacity-status=02"), "a criterion the values do not bound");
    assert!(!small("_count=10"), "no value at all");
    assert!(!small("identifier=a&_summary=count"));
}

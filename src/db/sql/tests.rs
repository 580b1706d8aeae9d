use std::collections::HashSet;

use super::*;
use crate::auth::policy::{Profile, capacity_scope};
use crate::search::limits::SearchLimits;
use crate::search::parse::parse;

/// A page as SQLite is asked it.
fn page(req: &SearchRequest, scope: &Scope, after: Option<&CursorKey>, limit: usize) -> SqlPlan {
    super::page(req, scope, after, limit, super::Planning::for_backend(Backend::Sqlite))
}

fn req(rt: ResourceType, q: &str) -> SearchRequest {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
    parse(rt, &pairs, false, &SearchLimits::default()).unwrap()
}

#[test]
fn in_lists_take_few_shapes() {
    assert_eq!((0..=9).map(list_bucket).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 8, 8, 8, 8, 16]);
    let ids: Vec<String> = (0..5).map(|i| format!("l{i}")).collect();
    let plan = visible_figures(&ids, &Scope::everything());
    assert_eq!(plan.binds().len(), 8);
    assert_eq!(plan.binds()[7], Bind::Text("l4".into()));
    let plan = visible_figures(&ids[..4], &Scope::everything());
    assert_eq!(plan.binds().len(), 4);
    let empty = visible_figures(&[], &Scope::everything());
    assert!(empty.sql().contains("IN (SELECT NULL WHERE 1 = 0)"), "{}", empty.sql());
}

#[test]
fn statement_texts_do_not_multiply_with_values() {
    // _count=1…200 and 1…1,000 identifiers: a handful of shapes each, not one per value.
    let mut texts = std::collections::HashSet::new();
    for n in 1..=200 {
        let r = req(ResourceType::Location, &format!("_count={n}"));
        texts.insert(page(&r, &Scope::everything(), None, r.count + 1).sql().to_owned());
    }
    assert!(texts.len() <= 12, "{} shapes for _count", texts.len());
    texts.clear();
    for n in 1..=1000 {
        let ids = (0..n).map(|i| format!("27/{i}")).collect::<Vec<_>>().join(",");
        let r = req(ResourceType::Location, &format!("identifier={ids}"));
        texts.insert(page(&r, &Scope::everything(), None, r.count + 1).sql().to_owned());
    }
    assert!(texts.len() <= 14, "{} shapes for 1..1000 identifiers", texts.len());
}

#[test]
fn values_are_always_bound() {
    let r = req(ResourceType::Location, "identifier=x'; DROP TABLE locations;--&name=O'Brien%");
    let plan = page(&r, &Scope::everything(), None, 10);
    assert!(!plan.sql().contains("DROP"));
    assert!(!plan.sql().contains("O'Brien"));
    assert_eq!(plan.sql().matches('?').count(), plan.binds().len());
}

#[test]
fn repeated_semi_joins_are_one_intersection() {
    let one = req(ResourceType::Location, "_lastUpdated=ge2020&name=a&_has:HealthcareService:location:_id=x");
    let plan = count(&one, &Scope::everything());
    assert!(!plan.sql().contains("INTERSECT"), "{}", plan.sql());
    let q: Vec<String> = (0..90).map(|i| format!("_lastUpdated=ge20{:02}", i % 30)).collect();
    let many = req(ResourceType::Location, &format!("{}&identifier=x&name=a&_id=b", q.join("&")));
    let plan = page(&many, &Scope::everything(), None, 10);
    // The page walks the one identifier's token rows (db::sql::walk); the 90 other subqueries make
    // two groups (64 + 26), so 88 INTERSECTs and two `IN`s.
    assert!(plan.sql().contains(" FROM search_tokens t JOIN locations r "), "{}", plan.sql());
    assert_eq!(plan.sql().matches(" INTERSECT ").count(), 88, "{}", plan.sql());
    assert_eq!(plan.sql().matches("r.id IN (SELECT").count(), 2, "{}", plan.sql());
    assert_eq!(plan.sql().matches('?').count(), plan.binds().len());
}

#[test]
fn has_is_a_semi_join_and_keyset_follows_the_sort() {
    let r = req(ResourceType::Location, "_has:HealthcareService:location:identifier=11/1,11/2&_sort=-_lastUpdated");
    let after = CursorKey { last_updated: Some(5), id: "9".into(), total: None, score_bits: None };
    let plan = page(&r, &Scope::everything(), Some(&after), 3);
    assert!(plan.sql().contains("IN (SELECT hl.location_id FROM healthcare_service_locations"), "{}", plan.sql());
    assert!(plan.sql().contains("lv.last_updated < ?"), "{}", plan.sql());
    assert!(plan.sql().ends_with("ORDER BY lv.last_updated DESC, lv.location_id DESC LIMIT 3"), "{}", plan.sql());
    assert_eq!(plan.sql().matches('?').count(), plan.binds().len());
}

/// Tables and their columns as `schema.rs` declares them.
fn schema_names() -> (HashSet<String>, HashSet<String>) {
    let text = include_str!("../schema.rs");
    let (mut tables, mut columns) = (HashSet::new(), HashSet::new());
    for line in text.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|(n, _)| !n.contains(' ') && !n.is_empty()) {
            tables.insert(name.to_owned());
        } else if let Some((name, _)) = line.split_once(" -> ") {
            columns.insert(name.to_owned());
        }
    }
    (tables, columns)
}

#[test]
fn statements_name_only_tables_and_columns_of_the_schema() {
    let (tables, columns) = schema_names();
    assert!(tables.contains("locations") && columns.contains("capacity_status"), "{tables:?}");
    let queries: [(ResourceType, &str); 14] = [
        (ResourceType::Location, "identifier=a,b&_revinclude=HealthcareService:location&_total=accurate"),
        (ResourceType::Location, "_lastUpdated=ge2026-01-01&_sort=-_lastUpdated"),
        (ResourceType::Location, "_lastUpdated=lt2026-01-01&_lastUpdated=ne2025"),
        (ResourceType::Location, "_has:HealthcareService:location:identifier=x&_has:HealthcareService:location:_id=y"),
        (ResourceType::Location, "capacity-status=02&capacity-type=01&temporality-capacity=1&status=active"),
        (ResourceType::Location, "name:contains=a&name=b&address-postalcode:exact=75&_tag=11&type=x"),
        (ResourceType::Location, "identifier=1&identifier=2&identifier=3&identifier=4&identifier=5&identifier=6"),
        (ResourceType::HealthcareService, "organization=1&location=2&_include=HealthcareService:location"),
        (ResourceType::HealthcareService, "_lastUpdated=ge2026&identifier=x"),
        (ResourceType::Organization, "_id=1&_lastUpdated=ge2026&identifier=x"),
        (ResourceType::Observation, "subject=Location/1&code=01,02&_lastUpdated=ge2026"),
        (ResourceType::Observation, "_sort=_lastUpdated"),
        (ResourceType::Location, "_summary=count"),
        (ResourceType::Location, "_id=a"),
    ];
    let after = CursorKey { id: "x".into(), last_updated: Some(1), total: None, score_bits: None };
    let mut plans = Vec::new();
    for (rt, q) in queries {
        let r = req(rt, q);
        for n in 0..=5 {
            let mut scope = Scope::of_profile(crate::auth::policy::Profile::new(n).unwrap());
            plans.push(page(&r, &scope, None, 10));
            scope.regions = Some(vec!["11".into()]);
            plans.push(page(&r, &scope, Some(&after), 10));
            plans.push(count(&r, &scope));
            plans.push(read(rt, "x", &scope));
            plans.push(visible_figures(&["a".into()], &scope));
            plans.push(services_of_locations(&["a".into()], &scope, 5));
            plans.push(locations_of_services(&["a".into()], &scope, 5));
        }
    }
    plans.push(all_sensitive_places());
    plans.push(sensitive_places(&["a".into()]));
    for plan in &plans {
        let sql = plan.sql();
        let words: Vec<&str> = sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).collect();
        for pair in words.windows(2) {
            if matches!(pair[0], "FROM" | "JOIN") && !pair[1].is_empty() {
                assert!(tables.contains(pair[1]), "table {:?} is not in schema.rs: {sql}", pair[1]);
            }
        }
        for w in &words {
            if let Some((alias, column)) = w.split_once('.')
                && alias.chars().all(|c| c.is_ascii_lowercase())
                && !alias.is_empty()
            {
                assert!(columns.contains(column), "column {column:?} is not in schema.rs: {sql}");
            }
        }
    }
}

#[test]
fn a_prefix_is_a_range_of_code_points() {
    use super::conditions::prefix_end;
    assert_eq!(prefix_end("ren").as_deref(), Some("reo"));
    assert_eq!(prefix_end("saint-é").as_deref(), Some("saint-ê"));
    assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"), "surrogates are not characters");
    assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
    assert_eq!(prefix_end("\u{10FFFF}"), None);
    assert_eq!(prefix_end(""), None);
    // Every string that starts with the prefix lies in [prefix, end), and no other does.
    let words = ["re", "ren", "rennes", "renn\u{10FFFF}", "reo", "rem", "rf", "r", "reñ"];
    for w in words {
        let in_range = ("ren".."reo").contains(&w);
        assert_eq!(in_range, w.starts_with("ren"), "{w}");
    }
}

#[test]
fn string_searches_read_the_normalised_index() {
    let r = req(ResourceType::Location, "address-city=Rennes");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(sql.contains("city_norm >= ") && sql.contains("city_norm < ") && !sql.contains("LIKE"), "{sql}");
    let r = req(ResourceType::HealthcareService, "name:exact=Urgences");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(sql.contains("name_norm = ") && sql.contains("name = "), "{sql}");
    let r = req(ResourceType::Location, "address-postalcode=2a");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(sql.contains("LIKE"), "letters in a postal code keep the case-insensitive LIKE: {sql}");
}

#[test]
fn contains_reads_the_trigram_tables_when_it_can() {
    let sql = |rt, q: &str| {
        let r = req(rt, q);
        page(&r, &Scope::everything(), None, 2).sql().to_owned()
    };
    let s = sql(ResourceType::Location, "address-city:contains=enn");
    assert!(s.contains("r.id IN (SELECT x.id FROM location_text x WHERE x.city_norm LIKE "), "{s}");
    assert!(!s.contains("ESCAPE"), "FTS5 ignores its index for LIKE … ESCAPE: {s}");
    let s = sql(ResourceType::HealthcareService, "name:contains=urgen");
    assert!(s.contains("FROM service_text x WHERE x.name_norm LIKE "), "{s}");
    // Fewer than three characters, or a wildcard character: compared with every row.
    for q in ["name:contains=ur", "name:contains=50%25", "name:contains=a_b"] {
        let s = sql(ResourceType::Location, q);
        assert!(!s.contains("location_text") && s.contains("ESCAPE"), "{q}: {s}");
    }
}

#[test]
fn ored_semi_joins_are_one_union_and_a_negation_is_probed() {
    let r = req(ResourceType::Location, "_filter=capacity-status eq 02 or _tag eq 52");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(sql.contains(" UNION SELECT t.resource_id"), "{sql}");
    let r = req(ResourceType::Location, "_filter=capacity-status eq 02 or name sw ren");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(!sql.contains("UNION"), "a test on the row itself is not a semi-join: {sql}");
    let r = req(ResourceType::Location, "capacity-status:not=01");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(sql.contains("EXISTS (SELECT 1 FROM capacities c WHERE c.location_id = r.id"), "{sql}");
    let r = req(ResourceType::Location, "capacity-status:not=01&nb-capacity=gt0");
    let sql = page(&r, &Scope::everything(), None, 2).sql().to_owned();
    assert!(sql.contains("r.id IN (SELECT c.location_id FROM capacities c"), "{sql}");
}

#[test]
fn one_token_value_is_walked_in_page_order() {
    let walked = " FROM search_tokens t JOIN ";
    let every = Scope::everything();
    let after = CursorKey { last_updated: None, id: "x".into(), total: None, score_bits: None };
    // One value: the page walks that value's token rows, pages on them and keeps each resource once.
    let tag = page(&req(ResourceType::Location, "_tag=52&capacity-status=02"), &every, Some(&after), 10);
    assert!(tag.sql().contains(walked), "{}", tag.sql());
    // The check for a smaller system comes after the other conditions, and only for a code that
    // some resource holds in several systems.
    let once = "(NOT EXISTS (SELECT 1 FROM search_tokens_shared s WHERE s.resource_type = ? AND s.param = ? \
                AND s.code = ?) OR NOT EXISTS (SELECT 1 FROM search_tokens d WHERE";
    let (conditions, once_at) = (tag.sql().find("EXISTS (SELECT 1 FROM capacities"), tag.sql().find(once));
    assert!(conditions.is_some() && once_at > conditions, "{}", tag.sql());
    // PostgreSQL plans that OR badly: it gets the plain check, an anti-join.
    let pg = super::page(
        &req(ResourceType::Location, "_tag=52&capacity-status=02"),
        &every,
        None,
        10,
        super::Planning::for_backend(Backend::Postgres),
    );
    assert!(!pg.sql().contains("search_tokens_shared"), "{}", pg.sql());
    assert!(pg.sql().contains(" AND NOT EXISTS (SELECT 1 FROM search_tokens d WHERE"), "{}", pg.sql());
    assert!(tag.sql().contains("AND t.resource_id > ? ORDER BY t.resource_id ASC"), "{}", tag.sql());
    assert!(!tag.sql().contains("t.param = '_tag' AND (t.code IN"), "walked and repeated: {}", tag.sql());
    // With its system, a resource has one row of it: nothing to check.
    let sys = page(&req(ResourceType::HealthcareService, "specialty=http://s%7C356"), &every, None, 10);
    assert!(sys.sql().contains("t.code = ? AND t.system = ?"), "{}", sys.sql());
    assert!(!sys.sql().contains("NOT EXISTS"), "{}", sys.sql());
    // Several values, a system without a code, another order, or a count: the table is read.
    for (rt, q) in [
        (ResourceType::Location, "_tag=52,53"),
        (ResourceType::Location, "identifier=http://s%7C"),
        (ResourceType::Location, "_tag=52&_sort=_lastUpdated"),
        (ResourceType::Location, "_tag=52&near=48.1%7C-1.6%7C10%7Ckm&_sort=near"),
    ] {
        let plan = page(&req(rt, q), &every, None, 10);
        assert!(!plan.sql().contains(walked), "{q}: {}", plan.sql());
    }
    assert!(!count(&req(ResourceType::Location, "_tag=52"), &every).sql().contains(walked));
    for plan in [tag, sys] {
        assert_eq!(plan.sql().matches('?').count(), plan.binds().len());
    }
}

/// The names the select list of `sql` gives its columns, in order (`… AS name,` up to `FROM`).
fn column_names(sql: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for part in sql.split(" AS ").skip(1) {
        let name = part.split(|c: char| !(c.is_ascii_lowercase() || c == '_')).next().unwrap_or("");
        let rest = &part[name.len()..];
        if !name.is_empty() && (rest.starts_with(',') || rest.starts_with(" FROM")) {
            names.push(name);
        }
        if !name.is_empty() && rest.starts_with(" FROM") {
            break;
        }
    }
    names
}

#[test]
fn resource_columns_come_in_the_order_rows_read_them() {
    // `db::read` maps these rows by position: every statement that selects them lists the
    // columns in `ResourceRow`'s field order.
    let want = "id last_updated json tail cut_head cut_tail figures statuses assignments lu_at views sensitive score";
    let want: Vec<&str> = want.split(' ').collect();
    let everything = Scope::everything();
    let mut plans = Vec::new();
    for rt in [ResourceType::Location, ResourceType::HealthcareService, ResourceType::Organization] {
        plans.push(read(rt, "x", &everything));
    }
    plans.push(read(ResourceType::Observation, "x", &everything));
    for q in ["_count=5", "_sort=_lastUpdated", "near=48.1|-1.6|10|km&_sort=near", "_tag=52"] {
        plans.push(page(&req(ResourceType::Location, q), &everything, None, 5));
    }
    let walk = req(ResourceType::Location, "_tag=52&capacity-type=01&capacity-status=02&nb-capacity=gt0");
    let how = Planning { region_exact: true, ..Planning::for_backend(Backend::Sqlite) };
    plans.push(super::page(&walk, &everything, None, 5, how));
    plans.push(services_of_locations(&["l".to_owned()], &everything, 5));
    plans.push(locations_of_services(&["s".to_owned()], &everything, 5));
    plans.push(organizations_of(ResourceType::Location, &["l".to_owned()], &everything, 5));
    for plan in &plans {
        assert_eq!(column_names(plan.sql()), want, "{}", plan.sql());
    }
    // The statement of a page and its offers selects them again by name, in the same order.
    let both = lookup::page_with_services(&req(ResourceType::Location, "_id=a"), &everything, None, 5, 5, how);
    assert!(both.sql().contains(&format!("SELECT 0 AS part, {} FROM page", want.join(", "))), "{}", both.sql());
}

#[test]
fn a_region_walk_tests_the_walked_figure_when_its_index_holds_the_columns() {
    let how = Planning { region_exact: true, ..Planning::for_backend(Backend::Sqlite) };
    let everything = Scope::everything();
    let folded = req(ResourceType::Location, "_tag=52&capacity-type=01&capacity-status=02&nb-capacity=gt0");
    let sql = super::page(&folded, &everything, None, 5, how).sql().to_owned();
    assert!(sql.contains("JOIN locations r ON r.region = g.region AND r.id = g.location_id"), "{sql}");
    assert!(sql.contains("g.nb_capacity") && sql.contains("g2.nb_capacity"), "tested on g and g2: {sql}");
    assert!(!sql.contains("FROM capacities c "), "no probe: {sql}");
    let first = "(g.first_of_kind OR NOT EXISTS (SELECT 1 FROM capacities g2 WHERE";
    assert!(sql.contains(first), "a place's first figure of the kind is not probed for an earlier one: {sql}");
    // A profile's hidden figures and sensitive places are left out on the walked figure too.
    let narrowed = Scope { capacity: capacity_scope(Profile::new(0).unwrap()), ..Scope::everything() };
    let sql = super::page(&folded, &narrowed, None, 5, how).sql().to_owned();
    assert!(sql.contains("g.temporary_assignment IN") && sql.contains("g2.temporary_assignment IN"), "{sql}");
    assert!(sql.contains("r.sensitive = FALSE"), "{sql}");
    // A test on a column the walk's index lacks is probed as before.
    let probed =
        req(ResourceType::Location, "_tag=52&capacity-type=01&capacity-status=02&gender-capacity-available=01");
    let sql = super::page(&probed, &everything, None, 5, how).sql().to_owned();
    assert!(sql.contains("EXISTS (SELECT 1 FROM capacities c WHERE c.location_id = r.id"), "{sql}");
    assert!(!sql.contains("g.gender"), "{sql}");
}

use super::*;
use crate::auth::policy::CapacityScope;

fn row(
    region: &str,
    dep: &str,
    status: &str,
    temporality: &str,
    assignment: &str,
    sensitive: bool,
    nb: i64,
) -> TotalRow {
    TotalRow {
        region: region.into(),
        departement: dep.into(),
        capacity_type: "01".into(),
        capacity_status: status.into(),
        temporality: temporality.into(),
        temporary_assignment: assignment.into(),
        sensitive,
        nb,
    }
}

fn rows() -> Vec<TotalRow> {
    vec![
        row("52", "44", "01", "01", "01", false, 100),
        row("52", "44", "02", "01", "01", false, 10),
        row("52", "44", "02", "01", "01", true, 5),
        row("52", "85", "06", "01", "01", false, 7),
        row("52", "85", "02", "03", "02", false, 3),
        row("11", "75", "01", "01", "01", false, 1000),
    ]
}

fn count(areas: &[AreaTotals], id: &str, status: &str, temporality: &str) -> i64 {
    let a = areas.iter().find(|a| a.area.id() == id).unwrap_or_else(|| panic!("no {id}"));
    a.counts.get(&("01".to_owned(), status.to_owned(), temporality.to_owned())).copied().unwrap_or(0)
}

#[test]
fn areas_sum_what_the_scope_admits() {
    let instants = vec![
        InstantRow { region: "52".into(), departement: "44".into(), last_updated: 30 },
        InstantRow { region: "11".into(), departement: "75".into(), last_updated: 50 },
    ];
    let all = aggregate(&rows(), &instants, &Scope::everything());
    assert_eq!(all.len(), 1 + REGIONS.len() + DEPARTEMENTS.len());
    assert_eq!(count(&all, "fr", "01", "01"), 1100);
    assert_eq!(count(&all, "fr", "02", "01"), 15);
    assert_eq!(count(&all, "region-52", "02", "01"), 15);
    assert_eq!(count(&all, "departement-85", "02", "03"), 3);
    assert_eq!(count(&all, "departement-75", "01", "01"), 1000);
    let at = |id: &str| all.iter().find(|a| a.area.id() == id).map(|a| a.last_updated_us);
    assert_eq!(
        (at("fr"), at("region-52"), at("departement-44"), at("departement-01")),
        (Some(50), Some(30), Some(30), Some(50))
    );

    // Hidden sensitive places, a hidden status, one temporary assignment only.
    let narrow = Scope {
        regions: None,
        capacity: CapacityScope {
            hidden_statuses: vec!["06"],
            only_assignments: Some(vec!["01"]),
            hide_sensitive: true,
            ..CapacityScope::default()
        },
    };
    let seen = aggregate(&rows(), &instants, &narrow);
    assert_eq!(count(&seen, "departement-44", "02", "01"), 10);
    assert_eq!(count(&seen, "departement-85", "06", "01"), 0);
    assert_eq!(count(&seen, "departement-85", "02", "03"), 0);
    assert!(!statuses(&narrow, &seen).contains(&"06"));
    assert_eq!(statuses(&Scope::everything(), &all), ROR_STATUSES);

    // A consumer of one region (its rows only come from the database): its régions and
    // départements only, France being its part of France.
    let only_52: Vec<TotalRow> = rows().into_iter().filter(|r| r.region == "52").collect();
    let scope = Scope { regions: Some(vec!["52".into()]), capacity: CapacityScope::default() };
    let mine = aggregate(&only_52, &instants[..1], &scope);
    let ids: Vec<String> = mine.iter().map(|a| a.area.id()).collect();
    assert_eq!(
        ids,
        ["fr", "region-52", "departement-44", "departement-49", "departement-53", "departement-72", "departement-85"]
    );
    assert_eq!(count(&mine, "fr", "01", "01"), 100);

    let none = Scope { regions: None, capacity: CapacityScope { none: true, ..CapacityScope::default() } };
    let nothing = aggregate(&rows(), &instants, &none);
    assert!(nothing.iter().all(|a| a.counts.is_empty()));
    assert!(statuses(&none, &nothing).is_empty());
}

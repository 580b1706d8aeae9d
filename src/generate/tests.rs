//! Tests of the generator: determinism, counts, identifiers, references, dates, codes, geography.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::sync::OnceLock;

use serde_json::Value;

use super::catalog::{
    ACTIVITE_OPERATIONNELLE, AFFECTATION, CHAMP, CHAMP_ACTIVITE, COMMUNE_SYSTEM, CRISE, Code, EXT_CAPACITY,
    EXT_COMMUNE, FERMETURE, FONCTION_LIEU, GENRE, HEBERGEMENT, HS_ID_SYSTEM, ID_TYPE, ID_TYPE_SYSTEM, LIT_SUPP,
    MODE_PEC, NATURE, ORG_ID_TYPE_SYSTEM, R329, R330, R331, R332, R333, R334, R335, R336, R337, REGION_SYSTEM, SOURCE,
    SPECIALTIES, SPECIALTY_183, STATUT_CAPA, STATUT_LIEU, STATUT_LIEU_CODES, TEMPORALITE,
};
use super::geo::{DEPARTEMENTS, Departement, REGIONS};
use super::{DAY, GenerateOptions, GenerateSummary, Numbering, Rng, WINDOW, generate, instant};

type TestResult = Result<(), Box<dyn Error>>;

const ANCHOR_S: i64 = GenerateOptions::DEFAULT_ANCHOR_US / 1_000_000;

/// JDV_J19-ModePriseEnCharge-ROR, copied from ror-codes.md independently of the catalogue.
const J19: [Code; 37] = [
    ("01", "Accueil Permanence des soins en établissement de santé"),
    ("02", "Accueil spécialisé"),
    ("09", "Chirurgie ambulatoire"),
    ("11", "Equipe mobile extra-hospitalière"),
    ("13", "Hospitalisation courte durée (UHCD)"),
    ("14", "Hospitalisation kangourou"),
    ("17", "Précarité, permanence d'accès aux soins de santé (PASS)"),
    ("20", "Soins externes et traitements ambulatoires"),
    ("27", "Télémédecine"),
    ("28", "Hospitalisation complète (HC)"),
    ("29", "Hospitalisation de jour (HJ)"),
    ("30", "Hospitalisation de nuit (HN)"),
    ("31", "Hospitalisation à domicile (HAD)"),
    ("32", "Consultation (CS)"),
    ("33", "Accueil des urgences"),
    ("34", "Hospitalisation de semaine (HS)"),
    ("35", "Téléexpertise"),
    ("36", "Téléassistance"),
    ("37", "Télésurveillance médicale"),
    ("38", "Isolement de secteur (unité de cohorting)"),
    ("39", "Réunion de Concertation Pluridisciplinaire (RCP)"),
    ("40", "Réunion de Concertation Pluridisciplinaire (RCP) de recours"),
    ("41", "Accueil familial thérapeutique"),
    ("42", "Prise en charge de groupe"),
    ("46", "Hébergement (accueil jour et nuit)"),
    ("47", "Accueil de jour"),
    ("48", "Accueil de nuit"),
    ("49", "Sur les lieux de vie"),
    ("50", "Placement famille d'accueil"),
    ("52", "Equipe mobile intra-hospitalière"),
    ("53", "Equipe mobile extra et intra-hospitalière"),
    ("54", "Accueil individuel ou collectif"),
    ("55", "Plateau technique"),
    ("56", "Accueil non programmé"),
    ("57", "Centre spécialisé"),
    ("58", "Coordination de parcours"),
    ("59", "Equipe d'intervention mobile"),
];

/// The order of the sub-extensions of a capacity figure.
const CAPACITY_ORDER: [&str; 12] = crate::fhir::codes::CAPACITY_SUB_EXTENSIONS;

fn options(locations: usize, seed: u64) -> GenerateOptions {
    GenerateOptions { locations, seed, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US }
}

fn run(opts: &GenerateOptions) -> Result<(Vec<u8>, GenerateSummary), Box<dyn Error>> {
    let mut out = Vec::new();
    let summary = generate(opts, &mut out)?;
    Ok((out, summary))
}

fn parse(bytes: &[u8]) -> Result<Vec<Value>, Box<dyn Error>> {
    let text = std::str::from_utf8(bytes)?;
    assert!(text.ends_with('\n'), "the last line ends with a newline");
    Ok(text.lines().map(serde_json::from_str).collect::<Result<_, _>>()?)
}

/// The 2,000-location demo set (seed 1), parsed once for all tests.
fn demo() -> &'static (Vec<Value>, GenerateSummary) {
    static DEMO: OnceLock<(Vec<Value>, GenerateSummary)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let (bytes, summary) = run(&options(2_000, 1)).unwrap_or_default();
        (parse(&bytes).unwrap_or_default(), summary)
    })
}

fn of_type<'a>(resources: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    resources.iter().filter(move |r| r["resourceType"] == kind)
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn capacities(location: &Value) -> Vec<&Vec<Value>> {
    let extensions = location["extension"].as_array().map(Vec::as_slice).unwrap_or_default();
    extensions.iter().filter(|e| e["url"] == EXT_CAPACITY).filter_map(|e| e["extension"].as_array()).collect()
}

fn sub<'a>(capacity: &'a [Value], url: &str) -> Option<&'a Value> {
    capacity.iter().find(|s| s["url"] == url)
}

fn sub_code<'a>(capacity: &'a [Value], url: &str) -> &'a str {
    sub(capacity, url).map_or("", |s| text(s, "/valueCodeableConcept/coding/0/code"))
}

fn departement_of(location: &Value) -> Option<&'static Departement> {
    let insee = location["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == EXT_COMMUNE)
        .map(|e| text(e, "/valueCodeableConcept/coding/0/code"))?;
    DEPARTEMENTS.iter().find(|d| d.insee == insee)
}

#[test]
fn instants_are_utc_seconds() {
    assert_eq!(instant(ANCHOR_S), "2026-11-01T00:00:00Z");
    assert_eq!(instant(0), "1970-01-01T00:00:00Z");
    assert_eq!(instant(-1), "1969-12-31T23:59:59Z");
    assert_eq!(instant(951_782_400 + 3_723), "2000-02-29T01:02:03Z");
    assert_eq!(instant(4_107_542_399), "2100-02-28T23:59:59Z");
}

#[test]
fn same_options_give_same_bytes_and_another_seed_other_bytes() -> TestResult {
    let (first, _) = run(&options(300, 7))?;
    let (again, _) = run(&options(300, 7))?;
    let (other, _) = run(&options(300, 8))?;
    assert!(first == again, "deterministic");
    assert!(first != other, "the seed matters");
    Ok(())
}

#[test]
fn counts_match_the_summary_and_the_targets() {
    let (resources, summary) = demo();
    let count = |kind| of_type(resources, kind).count();
    assert_eq!(summary.organizations, 100 + 250);
    assert_eq!(count("Organization"), summary.organizations);
    assert_eq!(count("Location"), 2_000);
    assert_eq!(summary.locations, 2_000);
    assert_eq!(count("HealthcareService"), summary.healthcare_services);
    assert_eq!(resources.len(), count("Organization") + count("Location") + count("HealthcareService"));
    let figures: usize = of_type(resources, "Location").map(|l| capacities(l).len()).sum();
    assert_eq!(figures, summary.capacities);
    let per_location = figures as f64 / 2_000.0;
    assert!((4.5..=5.5).contains(&per_location), "{per_location} figures per location");
    let offers = summary.healthcare_services as f64 / 2_000.0;
    assert!((1.15..=1.35).contains(&offers), "{offers} offers per location");
}

#[test]
fn organizations_come_first_then_each_location_with_its_offers() {
    let (resources, _) = demo();
    let first_location = resources.iter().position(|r| r["resourceType"] == "Location");
    assert_eq!(first_location, Some(350));
    let mut current = "";
    for resource in &resources[350..] {
        match resource["resourceType"].as_str() {
            Some("Location") => current = text(resource, "/id"),
            Some("HealthcareService") => {
                assert_eq!(text(resource, "/location/0/reference"), format!("Location/{current}"));
            }
            other => panic!("unexpected {other:?} after the organizations"),
        }
    }
}

#[test]
fn identifiers_are_unique_and_references_resolve() {
    let (resources, _) = demo();
    let mut ids = HashSet::new();
    for resource in resources.iter() {
        let reference = format!("{}/{}", text(resource, "/resourceType"), text(resource, "/id"));
        assert!(ids.insert(reference), "duplicate id");
    }
    let mut functional = HashSet::new();
    for location in of_type(resources, "Location") {
        let identifiers = location["identifier"].as_array().map(Vec::as_slice).unwrap_or_default();
        let rors: Vec<_> = identifiers.iter().filter(|i| text(i, "/type/coding/0/code") == "25").collect();
        assert_eq!(rors.len(), 1, "exactly one type-25 identifier");
        let value = text(rors[0], "/value");
        let (region, number) = value.split_once('/').unwrap_or_default();
        assert_eq!(region, text(location, "/meta/tag/0/code"));
        assert!(number.len() == 6 && number.bytes().all(|b| b.is_ascii_digit()), "{value}");
        assert!(functional.insert(value.to_owned()), "duplicate {value}");
    }
    let mut offers = HashSet::new();
    for offer in of_type(resources, "HealthcareService") {
        let value = text(offer, "/identifier/0/value");
        assert_eq!(text(offer, "/identifier/0/system"), HS_ID_SYSTEM);
        assert!(value.len() == 9 && value.starts_with(text(offer, "/meta/tag/0/code")), "{value}");
        assert!(!functional.contains(value), "{value} is also a Location id");
        assert!(offers.insert(value.to_owned()), "duplicate {value}");
    }
    for pointer in
        ["/managingOrganization/reference", "/providedBy/reference", "/location/0/reference", "/partOf/reference"]
    {
        for resource in resources.iter().filter(|r| r.pointer(pointer).is_some()) {
            assert!(ids.contains(text(resource, pointer)), "dangling {}", text(resource, pointer));
        }
    }
    let egs: HashSet<_> = of_type(resources, "Organization")
        .filter(|o| o.get("partOf").is_some())
        .map(|o| format!("Organization/{}", text(o, "/id")))
        .collect();
    let managing: HashSet<_> =
        of_type(resources, "Location").map(|l| text(l, "/managingOrganization/reference").to_owned()).collect();
    assert_eq!(managing, egs, "every EG, and only EGs, manage locations");
}

#[test]
fn location_dates_follow_their_capacity_updates() {
    let (resources, _) = demo();
    let (start, end) = (instant(ANCHOR_S - WINDOW), instant(ANCHOR_S));
    let last_week = instant(ANCHOR_S - 7 * DAY);
    let mut recent = 0;
    for location in of_type(resources, "Location") {
        let last = text(location, "/meta/lastUpdated");
        let updates: Vec<&str> = capacities(location)
            .iter()
            .map(|c| sub(c, "capacityUpdateDate").map_or("", |s| text(s, "/valueDateTime")))
            .collect();
        assert_eq!(updates.iter().max().copied(), Some(last));
        for update in &updates {
            assert!(update.len() == 20 && update.ends_with('Z'), "{update}");
            assert!(start.as_str() <= *update && *update < end.as_str(), "{update} outside the window");
        }
        let created = location["extension"][1]["valueDateTime"].as_str().unwrap_or_default();
        assert!(created < last && created.len() == 20, "created {created} before {last}");
        recent += usize::from(last >= last_week.as_str());
    }
    assert!((120..=320).contains(&recent), "{recent} of 2000 locations updated in the last week");
    for resource in resources.iter().filter(|r| r["resourceType"] != "Location") {
        let last = text(resource, "/meta/lastUpdated");
        assert!(start.as_str() <= last && last < end.as_str(), "{last} outside the window");
    }
}

#[test]
fn the_anchor_moves_the_window() -> TestResult {
    let anchor_us = 1_577_836_800_000_000; // 2020-01-01T00:00:00Z
    let (bytes, _) = run(&GenerateOptions { locations: 50, seed: 3, anchor_us })?;
    for resource in parse(&bytes)? {
        let last = text(&resource, "/meta/lastUpdated").to_owned();
        assert!(("2018-01-01".."2020-01-01").contains(&last.as_str()), "{last}");
    }
    Ok(())
}

#[test]
fn coded_values_come_from_the_tables() {
    let mut known: HashMap<&str, HashMap<&str, Option<&str>>> = HashMap::new();
    let mut add = |system, codes: &[Code]| {
        known.entry(system).or_default().extend(codes.iter().map(|(c, d)| (*c, Some(*d))));
    };
    add(R329, &NATURE);
    add(R330, &STATUT_CAPA);
    add(R331, &TEMPORALITE);
    add(R332, &GENRE);
    add(R333, &FERMETURE);
    add(R334, &LIT_SUPP);
    add(R335, &SOURCE);
    add(R336, &CRISE);
    add(R337, &AFFECTATION);
    add(STATUT_LIEU, &STATUT_LIEU_CODES);
    add(FONCTION_LIEU, &[HEBERGEMENT]);
    add(ID_TYPE_SYSTEM, &ID_TYPE);
    add(CHAMP_ACTIVITE, &CHAMP);
    add(MODE_PEC, &J19);
    add(REGION_SYSTEM, &REGIONS);
    let communes: Vec<Code> = DEPARTEMENTS.iter().map(|d| (d.insee, d.city)).collect();
    add(COMMUNE_SYSTEM, &communes);
    known.insert(ORG_ID_TYPE_SYSTEM, [("FINEJ", None), ("FINEG", None)].into());
    let specialties = SPECIALTIES.iter().map(|c| (*c, (*c == "183").then_some(SPECIALTY_183)));
    known.insert(ACTIVITE_OPERATIONNELLE, specialties.collect());

    fn walk(value: &Value, check: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
        match value {
            Value::Object(map) => {
                check(map);
                map.values().for_each(|v| walk(v, check));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, check)),
            _ => {}
        }
    }
    let mut checked = 0;
    for resource in &demo().0 {
        walk(resource, &mut |map| {
            let (Some(system), Some(code)) = (map.get("system"), map.get("code")) else {
                return;
            };
            let (system, code) = (system.as_str().unwrap_or_default(), code.as_str().unwrap_or_default());
            let table = known.get(system).unwrap_or_else(|| panic!("unknown system {system}"));
            let display = table.get(code).unwrap_or_else(|| panic!("unknown code {system}|{code}"));
            assert_eq!(map.get("display").and_then(Value::as_str), *display, "{system}|{code}");
            checked += 1;
        });
    }
    assert!(checked > 50_000, "{checked} codings checked");
}

#[test]
fn capacity_figures_are_consistent() {
    let (resources, _) = demo();
    let (mut figures, mut supplementary) = (0, 0);
    for location in of_type(resources, "Location") {
        let capacities = capacities(location);
        assert!((1..=6).contains(&capacities.len()));
        let installed = sub(capacities[0], "nbCapacity").and_then(|s| s["valueInteger"].as_u64());
        let installed = installed.unwrap_or_default();
        assert_eq!(sub_code(capacities[0], "capacityStatus"), "01", "installed first");
        let mut keys = HashSet::new();
        let mut used: HashMap<&str, u64> = HashMap::new();
        for capacity in &capacities {
            let positions: Vec<_> = capacity
                .iter()
                .map(|s| CAPACITY_ORDER.iter().position(|u| s["url"] == *u).unwrap_or(usize::MAX))
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "sub-extension order {positions:?}");
            for required in [0, 1, 2, 3, 4, 6, 10] {
                assert!(positions.contains(&required), "missing {}", CAPACITY_ORDER[required]);
            }
            let status = sub_code(capacity, "capacityStatus");
            let temporality = sub_code(capacity, "temporalityCapacity");
            let key = (
                sub_code(capacity, "capacityType"),
                status,
                temporality,
                sub_code(capacity, "genderCapacityAvailable"),
            );
            assert!(keys.insert(key), "duplicate figure {key:?}");
            assert!(["01", "02", "03", "04", "05", "06"].contains(&status));
            assert_eq!(sub(capacity, "capacityClosingType").is_some(), status == "05");
            assert_eq!(sub(capacity, "additionalBedType").is_some(), status == "06");
            assert!(sub(capacity, "crisisType").is_none() || status == "06");
            let nb = sub(capacity, "nbCapacity").and_then(|s| s["valueInteger"].as_u64());
            if ["02", "03", "04", "05"].contains(&status) {
                *used.entry(temporality).or_default() += nb.unwrap_or(u64::MAX);
            }
            figures += 1;
            supplementary += usize::from(status == "06");
        }
        assert!(used.values().all(|sum| *sum <= installed), "{used:?} > {installed} installed");
    }
    let share = supplementary as f64 / figures as f64;
    assert!((0.04..=0.12).contains(&share), "{share} supplementary");
}

#[test]
fn positions_and_addresses_are_plausible() {
    for location in of_type(&demo().0, "Location") {
        let departement = departement_of(location);
        let Some(d) = departement else { panic!("unknown commune in {location}") };
        let lat = location["position"]["latitude"].as_f64().unwrap_or(f64::NAN);
        let lon = location["position"]["longitude"].as_f64().unwrap_or(f64::NAN);
        assert!((lat - d.lat).abs() <= 0.050_001 && (lon - d.lon).abs() <= 0.050_001, "{lat},{lon}");
        assert_eq!((lat * 1e6).round() / 1e6, lat, "6 decimals");
        if d.code.starts_with("97") {
            assert!((lat - d.lat).abs() <= 0.2 && (lon - d.lon).abs() <= 0.2);
        } else {
            assert!((41.0..=51.5).contains(&lat) && (-5.5..=9.8).contains(&lon), "{lat},{lon}");
        }
        assert_eq!(text(location, "/address/postalCode"), d.postal);
        assert_eq!(text(location, "/address/city"), d.city);
        assert_eq!(text(location, "/meta/tag/0/code"), d.region());
        let operational = text(location, "/operationalStatus/code");
        let expected = match text(location, "/status") {
            "active" => "3",
            "suspended" => "2",
            _ => "1",
        };
        assert_eq!(operational, expected);
    }
}

#[test]
fn the_geography_table_is_complete() {
    assert_eq!(DEPARTEMENTS.len(), 101);
    let regions: HashSet<_> = DEPARTEMENTS.iter().map(|d| d.region()).collect();
    assert_eq!(regions, REGIONS.iter().map(|(code, _)| *code).collect());
    let codes: HashSet<_> = DEPARTEMENTS.iter().map(|d| d.code).collect();
    assert_eq!(codes.len(), 101);
    for d in &DEPARTEMENTS {
        let prefix = if d.code.starts_with("97") { &d.code[..3] } else { &d.code[..2] };
        assert!(d.insee.starts_with(prefix) && d.insee.len() == 5, "{}", d.insee);
        assert_eq!(d.postal.len(), 5);
    }
}

#[test]
fn organizations_have_valid_finess_numbers_and_parents() {
    let organizations: Vec<_> = of_type(&demo().0, "Organization").collect();
    let region_of: HashMap<_, _> = organizations
        .iter()
        .map(|o| (format!("Organization/{}", text(o, "/id")), text(o, "/meta/tag/0/code")))
        .collect();
    let mut numbers = HashSet::new();
    for org in &organizations {
        let finess = text(org, "/identifier/0/value");
        assert_eq!(text(org, "/identifier/0/system"), "urn:oid:1.2.250.1.71.4.2.2");
        assert_eq!(finess.len(), 9, "{finess}");
        assert!(numbers.insert(finess), "duplicate FINESS {finess}");
        let departement = DEPARTEMENTS.iter().find(|d| finess.starts_with(d.code));
        assert_eq!(departement.map(|d| d.region()), Some(text(org, "/meta/tag/0/code")), "{finess}");
        let digits = finess.chars().rev().enumerate().map(|(pos, c)| {
            let v = match c {
                'A' => 1,
                'B' => 2,
                _ => c.to_digit(10).unwrap_or(99),
            };
            if pos % 2 == 1 { (2 * v) / 10 + (2 * v) % 10 } else { v }
        });
        assert_eq!(digits.sum::<u32>() % 10, 0, "Luhn key of {finess}");
        let parent = org.pointer("/partOf/reference").and_then(Value::as_str);
        let kind = text(org, "/identifier/0/type/coding/0/code");
        assert_eq!(kind, if parent.is_some() { "FINEG" } else { "FINEJ" });
        if let Some(parent) = parent {
            assert_eq!(region_of.get(parent), Some(&text(org, "/meta/tag/0/code")), "EJ of the same region");
        }
    }
}

#[test]
fn tiny_sets_still_have_one_ej_and_one_eg() -> TestResult {
    for locations in [0, 1, 2] {
        let (bytes, summary) = run(&options(locations, 9))?;
        let resources = parse(&bytes)?;
        assert_eq!(summary.organizations, 2);
        assert_eq!(summary.locations, locations);
        assert_eq!(resources.len(), 2 + locations + summary.healthcare_services);
    }
    Ok(())
}

#[test]
fn functional_numbers_never_collide_and_widen_with_n() {
    let mut rng = Rng(5);
    let numbering = Numbering::new(200_000, &mut rng);
    let locations: HashSet<_> = (0..200_000).map(|i| numbering.location(i)).collect();
    assert_eq!(locations.len(), 200_000);
    assert!(locations.iter().all(|n| (100_000..400_000).contains(n)));
    let offers: HashSet<_> = (0..600_000).map(|j| numbering.offer(j)).collect();
    assert_eq!(offers.len(), 600_000);
    assert!(offers.iter().all(|n| (400_000..1_000_000).contains(n)));
    let wide = Numbering::new(200_001, &mut rng);
    assert!((0..600_003).step_by(997).all(|i| (1_000_000..4_000_000).contains(&wide.location(i))));
    assert!((0..600_003).step_by(997).all(|j| (4_000_000..10_000_000).contains(&wide.offer(j))));
}

#[test]
#[ignore = "France scale, slow without --release: cargo test --release -- --ignored"]
fn france_scale_streams_to_a_sink() -> TestResult {
    let summary = generate(&options(120_000, 42), &mut std::io::sink())?;
    assert_eq!(summary.locations, 120_000);
    assert_eq!(summary.organizations, 6_000 + 15_000);
    Ok(())
}

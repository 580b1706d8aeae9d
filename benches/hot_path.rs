//! Micro-benchmarks of the request hot path (pure code, no I/O): parsing a search, building its
//! SQL, mapping a Location with 6 capacity figures (extract + write-time render), and serialising a
//! 200-entry searchset Bundle. Run: `cargo bench --bench hot_path`.

// A benchmark fails loudly on bad set-up.
#![allow(clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ror_capacity::config::SearchLimits;
use ror_capacity::db::sql::{self, Scope};
use ror_capacity::fhir::ResourceType;
use ror_capacity::fhir::bundle::{Entry, SearchMode, Searchset};
use ror_capacity::fhir::{extract, render};
use ror_capacity::generate::{GenerateOptions, generate};
use ror_capacity::search::parse::parse;
use serde_json::Value;

/// A generated Location with exactly 6 capacity figures, and 200 generated Locations.
fn sample() -> (Value, Vec<String>) {
    let mut out = Vec::new();
    let opts = GenerateOptions { locations: 400, seed: 3, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
    generate(&opts, &mut out).expect("generate");
    let text = String::from_utf8(out).expect("utf-8");
    let locations: Vec<&str> = text.lines().filter(|l| l.starts_with("{\"resourceType\":\"Location\"")).collect();
    let six = locations
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .find(|v| {
            v["extension"].as_array().is_some_and(|e| {
                e.iter().filter(|x| x["url"].as_str().is_some_and(|u| u.ends_with("supported-capacity"))).count() == 6
            })
        })
        .expect("a Location with 6 figures");
    (six, locations.iter().take(200).map(|s| (*s).to_owned()).collect())
}

fn benches(c: &mut Criterion) {
    let (six, page) = sample();
    let limits = SearchLimits::default();
    let query: Vec<(String, String)> = serde_urlencoded::from_str(
        "identifier=52%2F100001,52%2F100002,52%2F100003&_lastUpdated=ge2026-10-01T00:00:00Z&_revinclude=HealthcareService:location&_count=200",
    )
    .expect("query");
    c.bench_function("parse_search", |b| {
        b.iter(|| parse(ResourceType::Location, black_box(&query), false, &limits).expect("parse"))
    });
    let req = parse(ResourceType::Location, &query, false, &limits).expect("parse");
    let scope = Scope::everything();
    c.bench_function("build_sql", |b| {
        b.iter(|| {
            sql::page(black_box(&req), &scope, None, 201, sql::Planning::for_backend(ror_capacity::db::Backend::Sqlite))
        })
    });
    c.bench_function("map_location_6_figures", |b| {
        b.iter(|| {
            let extract::Record::Location(l) = extract::extract(black_box(&six)).expect("extract") else {
                panic!("location")
            };
            render::location(
                &l.common.base,
                l.capacities.iter().map(|c| c.extension_json.as_str()),
                1_700_000_000_000_000,
            )
        })
    });
    let entries: Vec<Entry> = page
        .iter()
        .enumerate()
        .map(|(i, json)| Entry {
            resource_type: "Location",
            id: format!("{i}"),
            json: json.clone(),
            mode: SearchMode::Match,
            distance_km: None,
        })
        .collect();
    let bundle = Searchset {
        id: "b".into(),
        last_updated: "2026-11-29T00:00:00Z".into(),
        total: Some(120_000),
        self_url: "https://h/fhir/Location".into(),
        next_url: Some("https://h/fhir/Location?_cursor=x".into()),
        entries,
    };
    let bytes = bundle.clone().to_json("https://h/fhir").len();
    // What a search's answer takes: the Bundle's text around its entries (moved in, not copied;
    // the copy of the entries is setup, not measured), and that text joined into one string.
    c.bench_function(&format!("bundle_pieces_200_entries_{}kB", bytes / 1024), |b| {
        b.iter_batched(|| bundle.clone(), |set| set.into_pieces("https://h/fhir"), BatchSize::LargeInput)
    });
    c.bench_function(&format!("serialise_bundle_200_entries_{}kB", bytes / 1024), |b| {
        b.iter_batched(|| bundle.clone(), |set| set.to_json("https://h/fhir"), BatchSize::LargeInput)
    });
}

criterion_group!(hot_path, benches);
criterion_main!(hot_path);

//! Property test of the search pipeline: query strings built from a grammar of the real
//! parameter names, modifiers, prefixes and values (commas, escapes, unicode, percent-encoding),
//! mixed with noise, for every resource type, access profile and region scope. Each one is either
//! refused with a list of issues, or gives SQL that the database runs: the page, the count and
//! the includes are executed on the real SQLite and PostgreSQL databases of the shared test
//! servers. Nothing may panic, and the query a Bundle links to must parse to the same search.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use ror_capacity::auth::policy::{Profile, capacity_scope};
use ror_capacity::config::SearchLimits;
use ror_capacity::db::sql::Scope;
use ror_capacity::db::{self, DbConn};
use ror_capacity::fhir::ResourceType;
use ror_capacity::search::cursor::CursorKey;
use ror_capacity::search::parse::parse;
use ror_capacity::search::query::decode_pairs;
use ror_capacity::search::registry;
use ror_capacity::search::{SearchRequest, SortKey};

use std::time::Duration;

use crate::helpers::{Backend, app, next_link};
use crate::raw::{RawResponse, authority, exchange};

/// Cases per backend: enough to reach every parameter with many value shapes, a few seconds each.
const CASES: u32 = 256;

/// Names besides the registry's: `_has` chains, result parameters, and names no type supports.
const OTHER_NAMES: &[&str] = &[
    "_has:HealthcareService:location:identifier",
    "_has:HealthcareService:location:_id",
    "_has:HealthcareService:location:name",
    "_has:Observation:subject:code",
    "_count",
    "_sort",
    "_total",
    "_summary",
    "_elements",
    "_format",
    "_include",
    "_revinclude",
    "_cursor",
    "patient",
    "_text",
];

/// Every parameter name of the registry (of any type), then [`OTHER_NAMES`].
fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for p in registry::PARAMETERS {
        if !names.contains(&p.name) {
            names.push(p.name);
        }
    }
    names.extend_from_slice(OTHER_NAMES);
    names
}

const MODIFIERS: &[&str] = &[
    "",
    "",
    "",
    "",
    ":exact",
    ":contains",
    ":missing",
    ":not",
    ":text",
    ":below",
    ":Location",
    ":Organization",
    ":iterate",
    ":",
];

const PREFIXES: &[&str] = &["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap", "xx", "EQ"];

const WORDS: &[&str] = &[
    "_id",
    "-_id",
    "_lastUpdated",
    "-_lastUpdated",
    "_lastUpdated,_id",
    "name",
    "count",
    "false",
    "true",
    "none",
    "accurate",
    "estimate",
    "json",
    "xml",
    "application/fhir+json",
    "HealthcareService:location",
    "*",
    "identifier",
    "meta",
    "extension",
    "01",
    "06",
    "active",
    "http://hl7.org/fhir/location-status|active",
    "https://mos.esante.gouv.fr/NOS/TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite|01",
    "https://mos.esante.gouv.fr/NOS/TRE_R329-TypeCapacite/FHIR/TRE-R329-TypeCapacite|",
    "52",
    "27/324120",
];

const SPECIALS: &[&str] = &[
    "\\", "\\,", "\\|", "\\\\", "\\$", "%", "_", "'", "\"", ";", "--", "/*", "é", "Œ", "’", "\u{202e}", "🏥", " ",
    "\u{0}",
];

/// A FHIR-ish date: any year, months and days in and out of range, optional time and zone.
fn date() -> impl Strategy<Value = String> {
    (
        select(PREFIXES),
        0u32..10_000,
        proptest::option::of((0u32..14, proptest::option::of(0u32..33))),
        proptest::option::of((0u32..26, 0u32..61, proptest::option::of((0u32..62, "[0-9]{0,11}")))),
        proptest::option::of(select(&["Z", "+01:00", "-14:00", "+14:01", "+1:00", "z"][..])),
    )
        .prop_map(|(prefix, year, date, time, zone)| {
            let mut s = format!("{prefix}{year:04}");
            if let Some((m, d)) = date {
                s.push_str(&format!("-{m:02}"));
                if let Some(d) = d {
                    s.push_str(&format!("-{d:02}"));
                }
            }
            if let Some((h, mi, sec)) = time {
                s.push_str(&format!("T{h:02}:{mi:02}"));
                if let Some((sec, frac)) = sec {
                    s.push_str(&format!(":{sec:02}"));
                    if !frac.is_empty() {
                        s.push('.');
                        s.push_str(&frac);
                    }
                }
            }
            s.push_str(zone.unwrap_or(""));
            s
        })
}

/// One comma-separated value.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9/.-]{0,12}",
        2 => ("[a-z:/.]{0,14}", "[A-Za-z0-9/]{0,8}").prop_map(|(s, c)| format!("{s}|{c}")),
        2 => date(),
        1 => "[A-Za-z0-9.-]{60,70}",
        1 => (select(&["Location", "Organization", "Patient", "http://x.example/fhir/Location", ""][..]), "[a-z0-9.-]{0,10}")
            .prop_map(|(t, i)| format!("{t}/{i}")),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => "[0-9]{1,25}",
        3 => select(WORDS).prop_map(str::to_owned),
        2 => proptest::collection::vec(select(SPECIALS), 1..4).prop_map(|v| v.concat()),
        2 => "\\PC{0,16}",
        1 => proptest::collection::vec(any::<char>(), 0..8).prop_map(|v| v.into_iter().collect()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => proptest::collection::vec(atom(), 1..4).prop_map(|v| v.join(",")),
        1 => Just(String::new()),
        1 => (1usize..1100).prop_map(|n| "v,".repeat(n)),
        1 => (900usize..1100).prop_map(|n| "é".repeat(n)),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (select(names()), select(MODIFIERS)).prop_map(|(n, m)| format!("{n}{m}")),
        1 => "[a-zA-Z_:-]{0,12}",
    ]
}

/// Percent-encodes everything but unreserved characters (sometimes `+` for spaces).
fn encode(s: &str, plus: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            b' ' if plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Query-string pieces: well-formed pairs, pairs with light encoding, and raw noise (stray `%`,
/// `&`, `=`, escapes of invalid UTF-8).
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (name(), value(), any::<bool>()).prop_map(|(n, v, plus)| format!("{}={}", encode(&n, plus), encode(&v, plus))),
        3 => (name(), "[A-Za-z0-9|,:/._-]{0,16}").prop_map(|(n, v)| format!("{n}={v}")),
        1 => "[ -~]{0,24}".prop_map(|s| s.replace(' ', "+")),
        1 => select(&["%ff", "%C0%AF", "%00", "%zz", "%", "%E9t%E9", "&&", "=", "==", "%ED%A0%80"][..]).prop_map(str::to_owned),
    ]
}

/// A token value: `code`, `system|code`, `|code` or `system|`, with escapes and unicode.
fn token() -> impl Strategy<Value = String> {
    let code =
        prop_oneof![3 => "[A-Za-z0-9/.-]{1,8}", 1 => select(SPECIALS).prop_map(|s| format!("a{s}b")), 1 => "\\PC{1,6}"];
    let code = code.prop_map(|c: String| c.replace(',', "\\,").replace('|', "\\|"));
    (select(&["", "sys|", "|", "urn:x|", "http://hl7.org/fhir/location-status|"][..]), code)
        .prop_map(|(s, c)| format!("{s}{c}"))
}

/// A date value with a valid prefix, inside the calendar.
fn good_date() -> impl Strategy<Value = String> {
    (select(&PREFIXES[..9]), 1970u32..2100, 1u32..13, 1u32..29, 0u32..24, proptest::option::of("[0-9]{1,6}")).prop_map(
        |(p, y, m, d, h, frac)| match frac {
            None => format!("{p}{y:04}-{m:02}-{d:02}"),
            Some(f) => format!("{p}{y:04}-{m:02}-{d:02}T{h:02}:30:00.{f}+02:00"),
        },
    )
}

fn list<S: Strategy<Value = String>>(s: S) -> impl Strategy<Value = String> {
    proptest::collection::vec(s, 1..4).prop_map(|v| v.join(","))
}

/// A parameter of `rt` with a well-formed value (it may still be refused: a `_has` on another
/// type, a value past a limit).
fn valid_pair(rt: ResourceType) -> BoxedStrategy<(String, String)> {
    let ids = || list("[A-Za-z0-9.-]{1,12}".prop_map(|s: String| s));
    let tokens = || list(token());
    let mut choices: Vec<BoxedStrategy<(String, String)>> = vec![
        ids().prop_map(|v| ("_id".to_owned(), v)).boxed(),
        list(good_date()).prop_map(|v| ("_lastUpdated".to_owned(), v)).boxed(),
        (0usize..300).prop_map(|n| ("_count".to_owned(), n.to_string())).boxed(),
        select(&["_id", "-_id", "_lastUpdated", "-_lastUpdated", "-_lastUpdated,-_id"][..])
            .prop_map(|v| ("_sort".to_owned(), v.to_owned()))
            .boxed(),
        select(&["none", "accurate"][..]).prop_map(|v| ("_total".to_owned(), v.to_owned())).boxed(),
        select(&["count", "false"][..]).prop_map(|v| ("_summary".to_owned(), v.to_owned())).boxed(),
        list(select(&["id", "meta", "identifier", "extension", "status"][..]).prop_map(str::to_owned))
            .prop_map(|v| ("_elements".to_owned(), v))
            .boxed(),
    ];
    let token_names: &'static [&'static str] = match rt {
        ResourceType::Location => &[
            "identifier",
            "_tag",
            "type",
            "status",
            "capacity-status",
            "capacity-type",
            "temporality-capacity",
            "_has:HealthcareService:location:identifier",
        ],
        ResourceType::HealthcareService | ResourceType::Organization => &["identifier", "_tag"],
        ResourceType::Observation => &["code"],
    };
    choices.push((select(token_names), tokens()).prop_map(|(n, v)| (n.to_owned(), v)).boxed());
    let refs = |target: &'static str| {
        list(
            ("[a-z0-9.-]{1,10}", any::<bool>())
                .prop_map(move |(id, typed)| if typed { format!("{target}/{id}") } else { id }),
        )
    };
    match rt {
        ResourceType::Location => {
            choices.push(ids().prop_map(|v| ("_has:HealthcareService:location:_id".to_owned(), v)).boxed());
            choices.push(
                (select(&["name", "name:exact", "name:contains", "address-postalcode"][..]), list(atom()))
                    .prop_map(|(n, v)| (n.to_owned(), v))
                    .boxed(),
            );
            choices.push(Just(("_revinclude".to_owned(), "HealthcareService:location".to_owned())).boxed());
        }
        ResourceType::HealthcareService => {
            choices.push(refs("Location").prop_map(|v| ("location".to_owned(), v)).boxed());
            choices.push(refs("Organization").prop_map(|v| ("organization".to_owned(), v)).boxed());
            choices.push(Just(("_include".to_owned(), "HealthcareService:location".to_owned())).boxed());
        }
        ResourceType::Observation => choices.push(refs("Location").prop_map(|v| ("subject".to_owned(), v)).boxed()),
        ResourceType::Organization => {}
    }
    proptest::strategy::Union::new(choices).boxed()
}

/// A parameter of `rt` that is a semi-join on the id in SQL (several of them are intersected).
fn semi_join_pair(rt: ResourceType) -> BoxedStrategy<(String, String)> {
    let names: &'static [&'static str] = match rt {
        ResourceType::Location => {
            &["identifier", "_tag", "capacity-status", "_has:HealthcareService:location:identifier"]
        }
        ResourceType::HealthcareService | ResourceType::Organization => &["identifier", "_tag"],
        ResourceType::Observation => &[],
    };
    let dates = list(good_date()).prop_map(|v| ("_lastUpdated".to_owned(), v));
    if names.is_empty() {
        return dates.boxed();
    }
    prop_oneof![dates, (select(names), list(token())).prop_map(|(n, v)| (n.to_owned(), v))].boxed()
}

/// A query for `rt`: mostly well-formed parameters (so that many cases reach the database), or
/// pieces of the fuzzier grammar and noise.
fn query(rt: ResourceType) -> impl Strategy<Value = String> {
    let good =
        (valid_pair(rt), any::<bool>()).prop_map(|((n, v), plus)| format!("{}={}", encode(&n, plus), encode(&v, plus)));
    prop_oneof![
        3 => proptest::collection::vec(good, 1..8).prop_map(|v| v.join("&")),
        2 => proptest::collection::vec(prop_oneof![3 => (valid_pair(rt), any::<bool>()).prop_map(|((n, v), plus)| format!("{}={}", encode(&n, plus), encode(&v, plus))), 2 => piece()], 0..6).prop_map(|v| v.join("&")),
        1 => proptest::collection::vec(piece(), 0..7).prop_map(|v| v.join("&")),
        1 => proptest::collection::vec(semi_join_pair(rt), 4..12)
            .prop_map(|v| v.iter().map(|(n, v)| format!("{}={}", encode(n, false), encode(v, false))).collect::<Vec<_>>().join("&")),
    ]
}

/// Everything one case needs.
#[derive(Debug, Clone)]
struct Input {
    rt: ResourceType,
    query: String,
    lenient: bool,
    profile: u8,
    regions: Option<Vec<String>>,
    after: Option<CursorKey>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        select(&ResourceType::ALL[..]).prop_flat_map(|rt| (Just(rt), query(rt))),
        any::<bool>(),
        0u8..=5,
        proptest::option::of(proptest::collection::vec(select(&["52", "53", "11", "27", "zz"][..]), 0..3)),
        proptest::option::of((proptest::option::of(any::<i64>()), "[ -~]{0,20}", proptest::option::of(any::<u64>()))),
    )
        .prop_map(|((rt, query), lenient, profile, regions, after)| Input {
            rt,
            query,
            lenient,
            profile,
            regions: regions.map(|r| r.into_iter().map(str::to_owned).collect()),
            after: after.map(|(last_updated, id, total)| CursorKey { last_updated, id, total, score_bits: None }),
        })
}

const ISSUE_CODES: [&str; 3] = ["invalid", "not-supported", "too-costly"];

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// The searches run for one parsed request: as asked, as a count, and a short page with the
/// type's includes (so the count and include statements run whatever the request asked).
fn variants(req: &SearchRequest) -> Vec<SearchRequest> {
    // The page as asked (at most 50 rows: the statement is the same but for its LIMIT bucket).
    let mut asked = req.clone();
    asked.count = req.count.min(50);
    let mut count = req.clone();
    count.summary_count = true;
    let mut short = req.clone();
    short.count = 1;
    short.total = true;
    short.revinclude_services |= req.resource == ResourceType::Location;
    short.include_locations |= req.resource == ResourceType::HealthcareService;
    vec![asked, count, short]
}

/// The request a `self`/`next` link stands for: the canonical query parsed again, strictly.
fn reparsed(req: &SearchRequest) -> Result<(), TestCaseError> {
    let pairs =
        decode_pairs(&req.canonical_query).map_err(|e| fail(format!("canonical query not decodable: {e:?}")))?;
    let again = parse(req.resource, &pairs, false, &SearchLimits::default())
        .map_err(|e| fail(format!("canonical query {:?} refused: {e:?}", req.canonical_query)))?;
    let same = again.conditions == req.conditions
        && again.sort == req.sort
        && again.count == req.count
        && again.total == req.total
        && again.summary_count == req.summary_count
        && again.elements == req.elements
        && again.include_locations == req.include_locations
        && again.revinclude_services == req.revinclude_services;
    if same { Ok(()) } else { Err(fail(format!("canonical query {:?} is another search", req.canonical_query))) }
}

/// How many cases reached the database, and with several conditions.
#[derive(Debug, Default)]
struct Reached {
    searches: u32,
    combined: u32,
}

fn check(conn: &mut DbConn, input: &Input, reached: &mut Reached) -> Result<(), TestCaseError> {
    let pairs = match decode_pairs(&input.query) {
        Ok(p) => p,
        Err(issue) if ISSUE_CODES.contains(&issue.code) => return Ok(()),
        Err(issue) => return Err(fail(format!("decoding issue {issue:?}"))),
    };
    let req = match parse(input.rt, &pairs, input.lenient, &SearchLimits::default()) {
        Ok(r) => r,
        Err(issues) => {
            if issues.is_empty() || issues.iter().any(|i| !ISSUE_CODES.contains(&i.code)) {
                return Err(fail(format!("refused with {issues:?}")));
            }
            return Ok(());
        }
    };
    reparsed(&req)?;
    let profile = Profile::new(input.profile).ok_or_else(|| fail("profile".into()))?;
    let scope = Scope { regions: input.regions.clone(), capacity: capacity_scope(profile) };
    let mut after = input.after.clone();
    if let Some(a) = after.as_mut().filter(|_| req.sort.key == SortKey::Id) {
        a.last_updated = None;
    }
    reached.searches += 1;
    reached.combined += u32::from(req.conditions.len() >= 2);
    for v in variants(&req) {
        ror_capacity::service::query::search(conn, &v, &scope, after.as_ref(), 2000, None)
            .map_err(|e| fail(format!("the database refused the SQL of {v:?}: {e}")))?;
    }
    Ok(())
}

/// `cases` cases from a fixed seed, so that CI does not turn red at random; PROPTEST_CASES and
/// PROPTEST_RNG_SEED explore further.
fn config(cases: u32, seed: u64) -> Config {
    let defaults = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { defaults.cases } else { cases },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            defaults.rng_seed
        } else {
            RngSeed::Fixed(seed)
        },
        failure_persistence: None,
        ..defaults
    }
}

fn parser_and_sql_builder_hold(backend: Backend) {
    let url = app(backend).db.db_url();
    let conn = RefCell::new(db::connect(&url, true).unwrap());
    let mut runner = TestRunner::new(config(CASES, 9));
    let reached = RefCell::new(Reached::default());
    let result = runner.run(&input(), |input| check(&mut conn.borrow_mut(), &input, &mut reached.borrow_mut()));
    if let Err(e) = result {
        panic!("{backend:?}: {e}");
    }
    // The grammar must keep reaching the SQL builder with combined conditions, or the property
    // says little.
    let r = reached.into_inner();
    let cases = runner.config().cases;
    assert!(
        r.searches * 3 >= cases && r.combined * 10 >= cases,
        "{backend:?}: only {r:?} of {cases} cases reached the database"
    );
}

/// `q` with the characters a request line cannot carry raw percent-encoded (as a client would);
/// stray `%` are left as they are.
fn uri_safe(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b' ' | b'"' | b'#' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | 0x7f.. | ..=0x1f => {
                format!("%{b:02X}")
            }
            _ => char::from(b).to_string(),
        })
        .collect()
}

/// Cases of the HTTP-level property (each is one or two requests to the shared server).
const HTTP_CASES: u32 = 128;

/// The same grammar through the server: every answer is a Bundle or a 4xx OperationOutcome, and
/// the `next` link of an accepted search is itself answered with a Bundle (links and cursors
/// stand for the search they came from, lenient handling included).
fn http_answers_are_bundles_or_outcomes(backend: Backend) {
    let app = app(backend);
    let host = authority(&app.base);
    let get = |target: &str, lenient: bool| -> Result<RawResponse, TestCaseError> {
        let prefer = if lenient { "Prefer: handling=lenient\r\n" } else { "" };
        let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n{prefer}Connection: close\r\n\r\n");
        exchange(&host, req.as_bytes(), Duration::from_secs(30)).map_err(|e| fail(format!("{target}: {e}")))
    };
    let mut runner = TestRunner::new(config(HTTP_CASES, 11));
    let strategy = select(&ResourceType::ALL[..]).prop_flat_map(|rt| (Just(rt), query(rt), any::<bool>()));
    let result = runner.run(&strategy, |(rt, q, lenient)| {
        // Pages of 20 unless the query says otherwise (its own `_count` comes later and wins):
        // rendering 200-entry Bundles would make the cases slow, not more telling.
        let target = format!("/fhir/{}?_count=20&{}", rt.as_str(), uri_safe(&q));
        let r = get(&target, lenient)?;
        let body = r.json().unwrap_or_default();
        match r.status {
            200 if body["resourceType"] == "Bundle" => {}
            400..=499 if body["resourceType"] == "OperationOutcome" => return Ok(()),
            s => return Err(fail(format!("{target}: {s} {}", r.text()))),
        }
        if let Some(next) = next_link(&body) {
            let path = next.find("/fhir/").map(|i| next[i..].to_owned()).unwrap_or(next);
            let r = get(&path, false)?;
            if r.status != 200 || r.json().is_none_or(|b| b["resourceType"] != "Bundle") {
                return Err(fail(format!("{target}: next {path}: {} {}", r.status, r.text())));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{backend:?}: {e}");
    }
}

crate::each_backend!(parser_and_sql_builder_hold, http_answers_are_bundles_or_outcomes);

//! Conditional requests and compression against the real server, on both backends: `ETag` and
//! `Last-Modified` on reads, `If-None-Match` / `If-Modified-Since` → `304`; an `ETag` of each
//! search answer as its consumer sees it (a change it cannot see keeps it, another view never
//! shares it); gzip and Brotli on request, never a `406` because of `Accept-Encoding`.

use std::io::Read;
use std::sync::Arc;

use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDb, dataset, scratch_dir};

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn conditional_reads(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let id = dataset().locations.keys().next().unwrap().clone();
    let path = format!("Location/{id}");
    let r = app.get(&path);
    assert_eq!(r.status, 200);
    let etag = header(&r.headers, "etag").to_owned();
    let modified = header(&r.headers, "last-modified").to_owned();
    assert!(etag.starts_with("W/\"") && !modified.is_empty(), "{etag} {modified}");
    assert_eq!(app.get(&path).headers["etag"], etag.as_str(), "the same content, the same tag");

    let (status, h, body) = app.get_bytes(&path, &[("if-none-match", &etag)]);
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(header(&h, "etag"), etag);
    assert_eq!(header(&h, "last-modified"), modified);
    let strong = etag.trim_start_matches("W/");
    assert_eq!(app.get_bytes(&path, &[("if-none-match", strong)]).0, 304, "weak comparison");
    assert_eq!(app.get_bytes(&path, &[("if-none-match", &format!("\"x\", {etag}"))]).0, 304, "a list");
    assert_eq!(app.get_bytes(&path, &[("if-none-match", "*")]).0, 304);
    assert_eq!(app.get_bytes(&path, &[("if-none-match", "W/\"other\"")]).0, 200);
    assert_eq!(app.get_bytes(&path, &[("if-none-match", "not a tag")]).0, 200, "unparsable: nothing held");
    assert_eq!(app.get_bytes(&path, &[("if-modified-since", &modified)]).0, 304);
    assert_eq!(app.get_bytes(&path, &[("if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT")]).0, 200);
    assert_eq!(app.get_bytes(&path, &[("if-modified-since", "yesterday")]).0, 200);
    assert_eq!(
        app.get_bytes(&path, &[("if-none-match", "W/\"other\""), ("if-modified-since", &modified)]).0,
        200,
        "If-None-Match takes precedence over If-Modified-Since"
    );
    // Not found stays not found, whatever the preconditions.
    assert_eq!(app.get_bytes("Location/no-such-place", &[("if-none-match", "*")]).0, 404);
}

/// Writes `place` with its first capacity figure's `nbCapacity` raised by one (a change of a
/// figure only) and imports it into `db`.
fn change_a_figure(db: &TestDb, place: &Value, tag: &str) {
    let mut changed = place.clone();
    let figures = changed["extension"].as_array_mut().unwrap();
    let figure = figures.iter_mut().find(|e| e["url"].as_str().unwrap().ends_with("supported-capacity")).unwrap();
    let nb = figure["extension"].as_array_mut().unwrap().iter_mut().find(|e| e["url"] == "nbCapacity").unwrap();
    nb["valueInteger"] = (nb["valueInteger"].as_i64().unwrap() + 1).into();
    let path = scratch_dir(tag).join("changed.ndjson");
    std::fs::write(&path, format!("{changed}\n")).unwrap();
    db.import(&[&path]).unwrap();
}

fn conditional_searches(backend: Backend) {
    let db = Arc::new(TestDb::new(backend));
    let one = TestApp::builder(backend).insecure_profile(1).database(Arc::clone(&db)).start();
    let five = TestApp::builder(backend).insecure_profile(5).database(Arc::clone(&db)).start();
    let search = "Location?_lastUpdated=ge2000-01-01&_count=5&_revinclude=HealthcareService:location";
    let first = one.get(search);
    assert_eq!(first.status, 200);
    let tag1 = header(&first.headers, "etag").to_owned();
    assert!(tag1.starts_with("W/\""), "{tag1}");
    // Twice: the first conditional request computes the answer, the next one is told from memory.
    for _ in 0..2 {
        let (status, h, body) = one.get_bytes(search, &[("if-none-match", &tag1)]);
        assert_eq!((status, body.len(), header(&h, "etag")), (304, 0, tag1.as_str()));
    }
    // The next page has its own tag.
    let next = crate::helpers::next_link(&first.body).unwrap();
    let page2 = one.get(&next);
    assert_ne!(header(&page2.headers, "etag"), tag1);
    assert_eq!(one.get_bytes(&next, &[("if-none-match", header(&page2.headers, "etag"))]).0, 304);

    // Another view of the same search: another answer, another tag; one's tag is not the other's.
    let tag5 = header(&five.get(search).headers, "etag").to_owned();
    assert_ne!(tag5, tag1);
    assert_eq!(five.get_bytes(search, &[("if-none-match", &tag1)]).0, 200);
    assert_eq!(five.get_bytes(search, &[("if-none-match", &tag5)]).0, 304);

    // A change of a figure of the first place: profile 1 sees it, profile 5 (no capacity) does not.
    let first_id = crate::helpers::match_ids(&first.body).into_iter().next().unwrap();
    change_a_figure(&db, &dataset().locations[&first_id], "conditional-search");
    let (status, h, _) = one.get_bytes(search, &[("if-none-match", &tag1)]);
    assert_eq!(status, 200, "a change the consumer sees");
    assert_ne!(header(&h, "etag"), tag1);
    assert_eq!(one.get_bytes(search, &[("if-none-match", header(&h, "etag"))]).0, 304);
    let (status, h, _) = five.get_bytes(search, &[("if-none-match", &tag5)]);
    assert_eq!((status, header(&h, "etag")), (304, tag5.as_str()), "a change it cannot see keeps its tag");
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap(),
        "br" => brotli::Decompressor::new(body, 4096).read_to_end(&mut out).unwrap(),
        other => panic!("unexpected encoding {other:?}"),
    };
    out
}

fn entries(bytes: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(bytes).unwrap();
    v["entry"].clone()
}

fn compression(backend: Backend) {
    let app = TestApp::builder(backend).start();
    let search = "Location?_count=20&_revinclude=HealthcareService:location";
    let (status, h, plain) = app.get_bytes(search, &[]);
    assert_eq!(status, 200);
    assert!(h.get("content-encoding").is_none());
    assert_eq!(header(&h, "vary"), "accept-encoding");
    for (accept, expected) in
        [("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br", "gzip"), ("br;q=0.1, gzip", "gzip")]
    {
        let (status, h, body) = app.get_bytes(search, &[("accept-encoding", accept)]);
        assert_eq!(status, 200, "{accept}");
        assert_eq!(header(&h, "content-encoding"), expected, "{accept}");
        assert_eq!(header(&h, "vary"), "accept-encoding");
        assert!(body.len() * 4 < plain.len(), "{accept}: {} of {} bytes", body.len(), plain.len());
        assert_eq!(entries(&decode(expected, &body)), entries(&plain), "{accept}");
    }
    // What actix's Compress would refuse with 406: answered, unencoded.
    for accept in ["identity;q=0", "*;q=0", "x-unknown", "gzip;q=0, br;q=0"] {
        let (status, h, body) = app.get_bytes(search, &[("accept-encoding", accept)]);
        assert_eq!((status, h.get("content-encoding")), (200, None), "{accept}");
        assert_eq!(entries(&body), entries(&plain));
    }
    // Small bodies go as they are; errors are compressed like any answer when large enough.
    let (status, h, _) = app.get_bytes("Location/no-such-place", &[("accept-encoding", "gzip")]);
    assert_eq!((status, h.get("content-encoding")), (404, None));
    // A 304 has no body to encode.
    let tag = header(&h, "etag").to_owned();
    assert!(tag.is_empty(), "no validator on an error");
    let (status, h, _) = app.get_bytes(search, &[("accept-encoding", "gzip")]);
    assert_eq!(status, 200);
    let tag = header(&h, "etag").to_owned();
    let (status, h, body) = app.get_bytes(search, &[("accept-encoding", "gzip"), ("if-none-match", &tag)]);
    assert_eq!((status, h.get("content-encoding"), body.len()), (304, None, 0));
}

crate::each_backend!(conditional_reads, conditional_searches, compression);

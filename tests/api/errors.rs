//! Bad input always gets an OperationOutcome with the right status, never a 500.

use crate::helpers::{TestApp, enc, entry_ids, issue_codes, next_link};

fn expect(app: &TestApp, path: &str, status: u16, code: &str) {
    let r = app.get(path);
    assert_eq!(r.status, status, "{path}: {}", r.body);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/fhir+json"), "{path}");
    assert!(issue_codes(&r.body).iter().any(|c| c == code), "{path}: {}", r.body);
}

fn client_errors(app: &TestApp) {
    expect(app, "Patient?name=x", 404, "not-found");
    expect(app, "Patient/1", 404, "not-found");
    expect(app, "Location/nope-404", 404, "not-found");
    expect(app, "Location/bad%20id", 400, "invalid");
    expect(app, "nothing/here/at/all", 404, "not-found");
    expect(app, "Location?unknown=1", 400, "not-supported");
    expect(app, "Location?identifier:below=x", 400, "not-supported");
    expect(app, "Location?_lastUpdated=ge2023-13-01", 400, "invalid");
    expect(app, "Location?_lastUpdated=ap2023", 400, "invalid");
    expect(app, "Location?_lastUpdated=2023-02-30", 400, "invalid");
    expect(app, "Location?_count=abc", 400, "invalid");
    expect(app, "Location?_count=-3", 400, "invalid");
    expect(app, "Location?_sort=name", 400, "not-supported");
    expect(app, "Location?_total=maybe", 400, "invalid");
    expect(app, "Location?_summary=true", 400, "not-supported");
    expect(app, "Location?identifier=", 400, "invalid");
    expect(app, "Location?_id=a%20b", 400, "invalid");
    expect(app, "Location?_revinclude=*", 400, "not-supported");
    expect(app, "Location?_has:Observation:subject:code=x", 400, "not-supported");
    expect(app, "HealthcareService?location=Organization/1", 400, "invalid");
    expect(app, "Location?_format=xml", 406, "not-supported");
    let r = app.get_with("Location?_id=1", &[("accept", "application/fhir+xml")]);
    assert_eq!(r.status, 406);
    let r = app.get_with("Location?_id=1", &[("accept", "application/fhir+json;q=0.9, text/html")]);
    assert_eq!(r.status, 200);
    // More OR values than the cap.
    let many: Vec<String> = (0..1001).map(|i| format!("99/{i:06}")).collect();
    let r = app.request(
        "POST",
        "Location/_search",
        Some(("application/x-www-form-urlencoded", &format!("identifier={}", enc(&many.join(","))))),
    );
    assert_eq!(r.status, 400);
    assert_eq!(issue_codes(&r.body), vec!["too-costly"]);
    // Errors produced by the framework itself are OperationOutcomes too.
    let big = "a".repeat(300 * 1024);
    let r =
        app.request("POST", "Location/_search", Some(("application/x-www-form-urlencoded", &format!("name={big}"))));
    assert_eq!(r.status, 413);
    assert_eq!(issue_codes(&r.body), vec!["too-costly"]);
    // Lenient handling ignores the unknown parameter and says so.
    let r = app.get_with("Location?unknown=1&_count=1", &[("prefer", "handling=lenient")]);
    assert_eq!(r.status, 200);
    assert_eq!(entry_ids(&r.body, "outcome").len(), 1);
    assert!(!next_link(&r.body).unwrap().contains("unknown"));
}

fn writes_are_refused(app: &TestApp) {
    let (id, _) = app.data.locations.iter().next().unwrap();
    let body = Some(("application/fhir+json", r#"{"resourceType":"Location","id":"x"}"#));
    for (method, path) in [
        ("POST", "Location".to_owned()),
        ("PUT", format!("Location/{id}")),
        ("PATCH", format!("Location/{id}")),
        ("DELETE", format!("Location/{id}")),
        ("POST", String::new()),
        ("DELETE", "Location".to_owned()),
        ("PUT", "metadata".to_owned()),
    ] {
        let r = app.request(method, &path, body);
        assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
        assert_eq!(issue_codes(&r.body), vec!["not-supported"]);
        let allow = r.headers["allow"].to_str().unwrap();
        assert!(!allow.contains("PUT") && !allow.contains("DELETE") && !allow.contains("PATCH"), "{allow}");
    }
    let r = app.request("POST", "Location/_search", Some(("application/json", "{}")));
    assert_eq!(r.status, 415);
    // Nothing changed.
    assert_eq!(app.get(&format!("Location/{id}")).status, 200);
    assert_eq!(app.get("Location?_summary=count").body["total"], app.data.locations.len());
}

fn cursors_are_signed(app: &TestApp) {
    let r = app.get("Location?_count=5");
    let next = next_link(&r.body).unwrap();
    assert_eq!(app.get(&next).status, 200);
    let (head, cursor) = next.split_once("_cursor=").unwrap();
    // Tampered: one character changed.
    let mut bytes = cursor.as_bytes().to_vec();
    bytes[1] = if bytes[1] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{head}_cursor={}", String::from_utf8(bytes).unwrap());
    let r = app.get(&tampered);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(issue_codes(&r.body), vec!["invalid"]);
    // Foreign: a valid cursor replayed on another search.
    let foreign = format!("{}/Location?_count=5&name=a&_cursor={cursor}", app.base);
    assert_eq!(app.get(&foreign).status, 400);
    assert_eq!(app.get(&format!("{}/Location?_cursor=garbage", app.base)).status, 400);
}

crate::both_backends!(client_errors, writes_are_refused, cursors_are_signed);

//! Hostile and unusual input inside the caps: long value lists, repeated parameters, forged
//! forwarding headers, unservable stored dates. Every answer is a Bundle or a 4xx OperationOutcome.

use crate::helpers::{Backend, TestApp, TestDb, enc, issue_codes, next_link, scratch_dir};

fn post_search(app: &TestApp, rt: &str, form: &str) -> crate::helpers::Resp {
    app.request("POST", &format!("{rt}/_search"), Some(("application/x-www-form-urlencoded", form)))
}

fn assert_bundle(r: &crate::helpers::Resp, what: &str) {
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    assert_eq!(r.body["resourceType"], "Bundle", "{what}");
}

/// 999 comma values of each parameter kind, and many repeated parameters: the SQL builder keeps
/// expression trees shallow (SQLite refuses depths past 1,000), so these are answered.
fn long_value_lists_are_answered(app: &TestApp) {
    let n = 999;
    let list = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(",");
    let cases = [
        ("Location", format!("name={}", enc(&list(&|i| format!("nom{i}"))))),
        ("Location", format!("name:contains={}", enc(&list(&|i| format!("x{i}"))))),
        ("Location", format!("name:exact={}", enc(&list(&|i| format!("Nom {i}"))))),
        ("Location", format!("_lastUpdated={}", enc(&list(&|i| format!("eq20{:02}-01", i % 100))))),
        ("Location", format!("identifier={}", enc(&list(&|i| format!("urn:sys:{i}|v{i}"))))),
        (
            "Location",
            format!("identifier={}", enc(&list(&|i| if i % 2 == 0 { format!("s|{i}") } else { format!("{i}") }))),
        ),
        ("Location", format!("address-postalcode={}", enc(&list(&|i| format!("{i:05}"))))),
        ("Observation", format!("code={}", enc(&list(&|i| format!("{:02}", i % 20))))),
        (
            "Observation",
            format!(
                "code={}",
                enc(&list(&|i| format!(
                    "https://mos.esante.gouv.fr/NOS/TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite|{:02}",
                    i % 9
                )))
            ),
        ),
        ("HealthcareService", format!("_id={}", list(&|i| format!("hs{i}")))),
    ];
    for (rt, form) in &cases {
        let r = post_search(app, rt, form);
        assert_bundle(&r, &form[..40.min(form.len())]);
    }
    // Repeated parameters (ANDed) up to the parameter cap.
    let repeated = (0..100).map(|i| format!("_id=a{i},b{i}")).collect::<Vec<_>>().join("&");
    assert_bundle(&post_search(app, "Location", &repeated), "100 repeated _id");
    let repeated = (0..100).map(|i| format!("_lastUpdated=ge20{:02}", i % 30)).collect::<Vec<_>>().join("&");
    assert_bundle(&post_search(app, "Location", &repeated), "100 repeated _lastUpdated");
}

/// The total work of one request is bounded, with a 400 `too-costly` that says which limit.
fn work_is_bounded(app: &TestApp) {
    let too_many = (0..999).map(|i| format!("_id=a{i}")).collect::<Vec<_>>().join("&");
    let r = post_search(app, "Location", &too_many);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(issue_codes(&r.body), vec!["too-costly"]);
    assert!(r.body["issue"][0]["diagnostics"].as_str().unwrap().contains("parameters"), "{}", r.body);
    // Unknown parameters ignored under lenient handling count too.
    let unknown = (0..150).map(|i| format!("zz{i}=1")).collect::<Vec<_>>().join("&");
    let r = app.get_with(&format!("Location?{unknown}"), &[("prefer", "handling=lenient")]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(issue_codes(&r.body), vec!["too-costly"]);
    let elements = vec!["name"; 51].join(",");
    let r = app.get(&format!("Location?_elements={elements}"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(issue_codes(&r.body), vec!["too-costly"]);
    assert!(r.body["issue"][0]["diagnostics"].as_str().unwrap().contains("_elements"), "{}", r.body);
    let values = (0..1001).map(|i| format!("n{i}")).collect::<Vec<_>>().join(",");
    let r = post_search(app, "Location", &format!("name={values}"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["issue"][0]["diagnostics"].as_str().unwrap().contains("search values"), "{}", r.body);
}

/// Without `--base-url`, links follow the Host the client connected to, never a forwarding
/// header from a connection that is not a trusted proxy.
fn links_ignore_forwarding_headers(app: &TestApp) {
    let forged = [
        ("x-forwarded-host", "evil.example"),
        ("forwarded", "host=evil.example;proto=https"),
        ("x-forwarded-proto", "gopher"),
    ];
    let r = app.get_with("Location?_count=1", &forged);
    assert_eq!(r.status, 200);
    let text = r.body.to_string();
    assert!(!text.contains("evil.example") && !text.contains("gopher"), "{text}");
    let next = next_link(&r.body).unwrap();
    assert!(next.starts_with(&app.base), "{next} vs {}", app.base);
    assert!(r.body["entry"][0]["fullUrl"].as_str().unwrap().starts_with(&app.base));
    // A Host with markup or a path is not used either.
    let r = app.get_with("Location?_count=1", &[("host", "evil.example/<x>")]);
    if r.status == 200 {
        assert!(!r.body.to_string().contains("evil.example"), "{}", r.body);
    } else {
        assert_eq!(r.status, 400);
    }
}

crate::both_backends!(long_value_lists_are_answered, work_is_bounded, links_ignore_forwarding_headers);

const FAR_DATE: &str = "9999-12-31T23:59:59-14:00";

/// A capacity date (or `meta.lastUpdated`) that has no FHIR instant form in UTC is refused at
/// import, with its path; nothing of the file is written, and the place stays servable.
fn unservable_dates_are_refused(backend: Backend) {
    let test_db = TestDb::new(backend);
    let dir = scratch_dir("far-date");
    let mut loc = crate::helpers::dataset()
        .locations
        .values()
        .find(|l| l.to_string().contains("capacityUpdateDate"))
        .expect("a generated place with a capacity figure")
        .clone();
    let text = loc.to_string();
    let far = with_dates(&text, FAR_DATE);
    let file = dir.join("far.json");
    std::fs::write(&file, &far).unwrap();
    let err = test_db.import(&[&file]).unwrap_err().to_string();
    assert!(err.contains("capacityUpdateDate") && err.contains("0001-9999"), "{err}");
    loc["meta"] = serde_json::json!({ "lastUpdated": FAR_DATE });
    let file = dir.join("far-meta.json");
    std::fs::write(&file, loc.to_string()).unwrap();
    let err = test_db.import(&[&file]).unwrap_err().to_string();
    assert!(err.contains("meta.lastUpdated"), "{err}");
}

/// Sets every `capacityUpdateDate` of the text to `date`.
fn with_dates(text: &str, date: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    fn walk(v: &mut serde_json::Value, date: &str) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("url").and_then(|u| u.as_str()) == Some("capacityUpdateDate") {
                    m.insert("valueDateTime".to_owned(), serde_json::Value::String(date.to_owned()));
                }
                m.values_mut().for_each(|x| walk(x, date));
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, date)),
            _ => {}
        }
    }
    walk(&mut v, date);
    v.to_string()
}

crate::each_backend!(unservable_dates_are_refused);

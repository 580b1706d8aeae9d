//! The capacity map (`/map`): its page and assets as HTTP answers (types, validators, compression,
//! authentication, hostile paths), and the page itself in a real browser: Debian's chromium,
//! headless, driven by `tests/browser/map.mjs` over mutual TLS, the client certificate chosen by
//! Chromium's `AutoSelectCertificateForUrls` policy from a private NSS database (see
//! `tests/browser/chromium-private-policy.sh`). Without chromium, node or the right to make a
//! mount namespace the browser test is skipped loudly, unless `ROR_REQUIRE_BROWSER` is set (as
//! `.ci/run` does): then it fails.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, app, enc, scratch_dir};
use crate::pki::{ClientCert, https_client, pki};

fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[test]
fn the_page_and_its_assets_are_served_with_types_validators_and_compression() {
    let app = app(Backend::Sqlite);
    let root = app.root();
    let c = no_redirects();
    let r = c.get(format!("{root}/")).send().unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(header(r.headers(), "location"), "/map");

    let (status, h, body) = app.get_bytes(&format!("{root}/map"), &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    assert!(header(&h, "content-security-policy").contains("default-src 'none'"));
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("/map/assets/main.js") && html.contains("Licence Ouverte"), "{html}");
    let tag = header(&h, "etag").to_owned();
    assert!(tag.starts_with('"') && tag.len() > 10, "{tag}");
    let (status, _, body) = app.get_bytes(&format!("{root}/map"), &[("if-none-match", &tag)]);
    assert_eq!((status, body.len()), (304, 0));
    let (status, h, gz) = app.get_bytes(&format!("{root}/map"), &[("accept-encoding", "gzip")]);
    assert_eq!((status, header(&h, "content-encoding")), (200, "gzip"));
    assert!(gz.len() < html.len());

    for (name, kind) in [
        ("main.js", "text/javascript; charset=utf-8"),
        ("fhir.js", "text/javascript; charset=utf-8"),
        ("projection.js", "text/javascript; charset=utf-8"),
        ("choropleth.js", "text/javascript; charset=utf-8"),
        ("places.js", "text/javascript; charset=utf-8"),
        ("live.js", "text/javascript; charset=utf-8"),
        ("map.css", "text/css; charset=utf-8"),
        ("departements.json", "application/json"),
    ] {
        let (status, h, _) = app.get_bytes(&format!("{root}/map/assets/{name}"), &[]);
        assert_eq!((status, header(&h, "content-type")), (200, kind), "{name}");
        assert!(!header(&h, "etag").is_empty() && header(&h, "cache-control").contains("no-cache"), "{name}");
    }
    let (_, _, geo) = app.get_bytes(&format!("{root}/map/assets/departements.json"), &[]);
    let geo: Value = serde_json::from_slice(&geo).unwrap();
    let codes: Vec<&str> =
        geo["departements"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 101, "96 metropolitan départements and 5 overseas");
    for code in ["01", "2A", "2B", "75", "95", "971", "972", "973", "974", "976"] {
        assert!(codes.contains(&code), "{code}");
    }
}

#[test]
fn hostile_paths_and_methods_get_clear_answers() {
    let app = app(Backend::Sqlite);
    let root = app.root();
    for path in [
        "/map/assets/nothing.js",
        "/map/assets/..%2F..%2FCargo.toml",
        "/map/assets/%00",
        "/map/assets/main.js/x",
        "/map/assets/",
        &format!("/map/assets/{}", "a".repeat(5000)),
    ] {
        let (status, h, _) = app.get_bytes(&format!("{root}{path}"), &[]);
        assert_eq!(status, 404, "{path}");
        assert!(header(&h, "content-type").starts_with("application/fhir+json"), "{path}");
    }
    let c = no_redirects();
    for (method, path) in [("POST", "/map"), ("DELETE", "/map/assets/main.js"), ("PUT", "/")] {
        let r =
            c.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{root}{path}")).send().unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
    }
    let r = c.head(format!("{root}/map")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, _, _) = app.get_bytes(&format!("{root}/map/?x=%ZZ&{}", "y".repeat(3000)), &[]);
    assert_eq!(status, 200, "the page ignores its query string (the script reads ?poll=)");
}

#[test]
fn only_registered_certificates_get_the_page() {
    let app = TestApp::builder(Backend::Sqlite).tls().start();
    let p = pki();
    let url = format!("{}/map", app.root());
    let r = https_client(p, Some(&p.unregistered)).get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let text = r.text().unwrap();
    assert!(!text.contains("<html") && text.contains("OperationOutcome"), "{text}");
    let r = https_client(p, Some(&p.profiles[5])).get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "the page holds no data: any registered consumer gets it");
    assert!(https_client(p, None).get(&url).send().is_err(), "no certificate: refused in the handshake");
}

// ---------------------------------------------------------------------------------------------
// The browser.

/// What the browser test needs, or why it cannot run here.
struct Browser {
    node_modules: PathBuf,
    wrapper: PathBuf,
}

fn browser_tools() -> Result<Browser, String> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    for tool in ["/usr/bin/chromium", "/usr/bin/certutil", "/usr/bin/pk12util"] {
        if !Path::new(tool).exists() {
            return Err(format!("{tool} is missing (apt-get install chromium libnss3-tools)"));
        }
    }
    let ns = Command::new("unshare").args(["--mount", "true"]).status().map_err(|e| format!("unshare: {e}"))?;
    if !ns.success() {
        return Err("cannot make a mount namespace for the private policy folder (needs root)".into());
    }
    let out = Command::new("bash").arg(here.join("install.sh")).output().map_err(|e| format!("install.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("tests/browser/install.sh failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let node_modules = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(Browser { node_modules, wrapper: here.join("chromium-private-policy.sh") })
}

fn browser_or_skip(test: &str) -> Option<Browser> {
    match browser_tools() {
        Ok(b) => Some(b),
        Err(why) => {
            assert!(std::env::var_os("ROR_REQUIRE_BROWSER").is_none(), "the browser test is required: {why}");
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
            None
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A private HOME whose NSS database holds `certs` (as PKCS#12 files, as a user would import them)
/// and trusts the test root CA; and a policy folder selecting `certs[i]` for `origins[i]`.
fn browser_profile(dir: &Path, certs: &[(&str, &ClientCert)]) -> (PathBuf, PathBuf) {
    let home = dir.join("home");
    let db = home.join(".pki/nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    run(Command::new("certutil").args(["-N", "-d", &db_arg, "--empty-password"]));
    let root = dir.join("root.pem");
    std::fs::write(&root, &pki().root_pem).unwrap();
    run(Command::new("certutil").args(["-A", "-d", &db_arg, "-n", "test-root", "-t", "C,,", "-i"]).arg(&root));
    let mut rules = Vec::new();
    for (i, (origin, cert)) in certs.iter().enumerate() {
        let p12 = dir.join(format!("client-{i}.p12"));
        std::fs::write(&p12, ror_capacity::dev::pki::pkcs12(&cert.cert_pem, &cert.key_pem, "client", "ror").unwrap())
            .unwrap();
        run(Command::new("pk12util").args(["-i"]).arg(&p12).args(["-d", &db_arg, "-W", "ror"]));
        let cn = cert.identity.subject.rsplit("CN=").next().unwrap().to_owned();
        rules.push(json!({"pattern": origin, "filter": {"SUBJECT": {"CN": cn}}}).to_string());
    }
    let policies = dir.join("etc-chromium");
    std::fs::create_dir_all(policies.join("policies/managed")).unwrap();
    let policy = json!({"AutoSelectCertificateForUrls": rules});
    std::fs::write(policies.join("policies/managed/ror-capacity-test.json"), policy.to_string()).unwrap();
    (home, policies)
}

/// The département of a postal code, as the page's boundaries name it.
fn departement_of(postal: &str) -> String {
    match (postal.get(..2), postal.get(2..3)) {
        (Some("97"), _) => postal[..3].to_owned(),
        (Some("20"), Some("0" | "1")) => "2A".to_owned(),
        (Some("20"), _) => "2B".to_owned(),
        (Some(d), _) => d.to_owned(),
        _ => panic!("no postal code"),
    }
}

fn postal_prefixes(dep: &str) -> String {
    match dep {
        "2A" => "200,201".into(),
        "2B" => "202,206".into(),
        d => d.into(),
    }
}

/// The default figure of the page (available beds, current) per département, from the
/// MeasureReports the server answers for `cert`; `None` while the server has no such endpoint.
fn aggregates(app: &TestApp, cert: &ClientCert) -> Option<Value> {
    let (status, bundle) = app.get_as(cert, "MeasureReport?_count=500");
    if status == 404 {
        return None;
    }
    assert_eq!(status, 200, "{bundle}");
    let code = |v: &Value| v["coding"][0]["code"].as_str().unwrap_or_default().to_owned();
    let mut out = serde_json::Map::new();
    for e in bundle["entry"].as_array().into_iter().flatten() {
        let r = &e["resource"];
        let subject = &r["subject"]["identifier"];
        if subject["system"] != "https://www.insee.fr/fr/metadonnees/cog/departement" {
            continue;
        }
        let mut n = 0;
        for g in r["group"].as_array().into_iter().flatten().filter(|g| code(&g["code"]) == "01") {
            for s in
                g["stratifier"][0]["stratum"].as_array().into_iter().flatten().filter(|s| code(&s["value"]) == "01")
            {
                for p in s["population"].as_array().into_iter().flatten().filter(|p| code(&p["code"]) == "02") {
                    n += p["count"].as_u64().unwrap_or(0);
                }
            }
        }
        out.insert(subject["value"].as_str().unwrap().to_owned(), json!(n));
    }
    Some(Value::Object(out))
}

/// A place of the dataset with visible figures, and what the page must show of it.
fn expectations(app: &TestApp, cert: &ClientCert) -> (String, Value) {
    let sensitive = app.data.sensitive_locations();
    let (id, source) = app
        .data
        .locations
        .iter()
        .find(|(id, l)| !sensitive.contains(*id) && l["address"]["postalCode"].is_string() && l["position"].is_object())
        .unwrap();
    let dep = departement_of(source["address"]["postalCode"].as_str().unwrap());
    let (_, count) = app.get_as(cert, &format!("Location?address-postalcode={}&_summary=count", postal_prefixes(&dep)));
    let identifier = source["identifier"][0]["value"].as_str().unwrap().to_owned();
    let (status, s2) =
        app.get_as(cert, &format!("Location?identifier={}&_revinclude=HealthcareService:location", enc(&identifier)));
    assert_eq!(status, 200, "{s2}");
    let entries: Vec<&Value> = s2["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    let served = entries.iter().find(|r| r["resourceType"] == "Location" && r["id"] == id.as_str()).unwrap();
    let figures = served["extension"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"))
        .count();
    assert!(figures > 0);
    let reference = format!("Location/{id}");
    let offers: Vec<&str> = entries
        .iter()
        .filter(|r| r["resourceType"] == "HealthcareService")
        .filter(|r| r["location"].as_array().unwrap().iter().any(|l| l["reference"] == reference.as_str()))
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let place =
        json!({"id": id, "name": served["name"], "identifier": identifier, "offers": offers, "figures": figures});
    (dep.clone(), json!({"departements": 101, "dep": dep, "placeCount": count["total"], "place": place}))
}

#[test]
fn the_map_in_chromium_over_mutual_tls() {
    let Some(browser) = browser_or_skip("map::the_map_in_chromium_over_mutual_tls") else { return };
    let app = TestApp::builder(Backend::Sqlite).tls().start();
    let p = pki();
    let port = app.root().rsplit(':').next().unwrap().to_owned();
    let (mine, nocap) = (format!("https://127.0.0.1:{port}"), format!("https://localhost:{port}"));
    let dir = scratch_dir("browser");
    let (home, policies) = browser_profile(&dir, &[(&mine, &p.profiles[1]), (&nocap, &p.profiles[5])]);
    let (_, mut expect) = expectations(&app, &p.profiles[1]);
    let (poll_s, nb) = (3, 987);
    expect["aggregates"] = aggregates(&app, &p.profiles[1]).unwrap_or(Value::Null);
    expect["live"] = json!({"id": expect["place"]["id"], "nb": nb});
    expect["pollS"] = json!(poll_s);
    let screenshot = dir.join("france.png");
    let mut child = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/map.mjs"))
        .env("ROR_NODE_MODULES", &browser.node_modules)
        .env("ROR_CHROMIUM", &browser.wrapper)
        .env("ROR_POLICY_ROOT", &policies)
        .env("HOME", &home)
        .env("MAP_URL", format!("{mine}/map?poll={poll_s}"))
        .env("MAP_URL_NOCAP", format!("{nocap}/map"))
        .env("EXPECT", expect.to_string())
        .env("SCREENSHOT", &screenshot)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        eprintln!("browser: {line}");
        if line == "CHANGE" {
            crate::helpers::figures::change_figure(&app, expect["place"]["id"].as_str().unwrap(), nb);
            writeln!(stdin, "changed").unwrap();
        }
        lines.push(line);
    }
    let status = child.wait().unwrap();
    let failed: Vec<&String> = lines.iter().filter(|l| l.starts_with("FAIL")).collect();
    assert!(status.success() && failed.is_empty(), "browser checks failed: {failed:#?}");
    assert!(lines.iter().filter(|l| l.starts_with("ok ")).count() >= 12, "{lines:#?}");
    if let Some(to) = std::env::var_os("ROR_MAP_SCREENSHOT") {
        std::fs::copy(&screenshot, to).unwrap();
    }
}

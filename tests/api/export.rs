//! Bulk Data `$export` against the real server over mutual TLS, on both backends: the whole
//! kick-off → poll → manifest → download flow, compared with what the same consumer's searches
//! return (every profile, a region-limited consumer); `_since`, `_type`, `_typeFilter`,
//! `_myCompleteExtract`; refusals; another consumer; cancel; limits; expiry; a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::{Backend, Shared, TestApp, TestDb, enc, next_link, scratch_dir};
use crate::pki::{ClientCert, https_client, pki};

/// The canonical of the operation, as the CapabilityStatement declares it.
const EXPORT: &str = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export|2.0.0";

/// A consumer talking to one server.
struct As<'a> {
    app: &'a TestApp,
    http: reqwest::blocking::Client,
}

/// What a finished export gave: its manifest and its resources by type.
struct Export {
    manifest: Value,
    files: BTreeMap<String, Vec<Value>>,
}

impl Export {
    fn ids(&self, rt: &str) -> BTreeSet<String> {
        self.files.get(rt).into_iter().flatten().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
    }
}

fn as_<'a>(app: &'a TestApp, cert: &ClientCert) -> As<'a> {
    As { app, http: https_client(pki(), Some(cert)) }
}

impl As<'_> {
    fn url(&self, path: &str) -> String {
        if path.starts_with("https://") { path.to_owned() } else { format!("{}/{path}", self.app.base) }
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Vec<u8>) {
        let mut rb = self.http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), self.url(path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.bytes().unwrap().to_vec())
    }

    fn json(&self, method: &str, path: &str) -> (u16, Value) {
        let (status, _, body) = self.send(method, path, &[]);
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Kicks an export off; its polling URL.
    fn kickoff(&self, path_and_query: &str) -> String {
        let (status, headers, body) = self.send("GET", path_and_query, &[("prefer", "respond-async")]);
        assert_eq!(status, 202, "{path_and_query}: {}", String::from_utf8_lossy(&body));
        headers["content-location"].to_str().unwrap().to_owned()
    }

    /// Polls until the job is done; the manifest and the manifest answer's headers.
    fn wait(&self, poll: &str) -> (Value, HeaderMap) {
        let started = Instant::now();
        loop {
            let (status, headers, body) = self.send("GET", poll, &[]);
            match status {
                200 => return (serde_json::from_slice(&body).unwrap(), headers),
                202 => assert!(headers.contains_key("retry-after") && headers.contains_key("x-progress")),
                429 => assert!(headers.contains_key("retry-after")),
                other => panic!("{poll}: {other} {}", String::from_utf8_lossy(&body)),
            }
            assert!(started.elapsed() < Duration::from_secs(120), "the export did not finish");
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn download(&self, url: &str) -> Vec<Value> {
        let (status, headers, body) = self.send("GET", url, &[]);
        assert_eq!(status, 200, "{url}");
        assert_eq!(headers["content-type"], "application/fhir+ndjson");
        String::from_utf8(body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn export(&self, path_and_query: &str) -> Export {
        let (manifest, _) = self.wait(&self.kickoff(path_and_query));
        let mut files = BTreeMap::new();
        for o in manifest["output"].as_array().unwrap() {
            let rt = o["type"].as_str().unwrap().to_owned();
            let lines = self.download(o["url"].as_str().unwrap());
            assert_eq!(lines.len() as u64, o["count"].as_u64().unwrap(), "{rt}: count");
            assert!(lines.iter().all(|r| r["resourceType"] == rt.as_str()), "one type per file");
            assert!(files.insert(rt, lines).is_none(), "one file per type");
        }
        Export { manifest, files }
    }

    /// Every match of a search, by id, following `next` links.
    fn search(&self, first: &str) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let mut url = first.to_owned();
        loop {
            let (status, body) = self.json("GET", &url);
            assert_eq!(status, 200, "{url}: {body}");
            for e in body["entry"].as_array().into_iter().flatten().filter(|e| e["search"]["mode"] == "match") {
                out.insert(e["resource"]["id"].as_str().unwrap().to_owned(), e["resource"].clone());
            }
            match next_link(&body) {
                Some(n) => url = n,
                None => return out,
            }
        }
    }
}

/// A TLS server whose exports poll fast, with `tweak` applied.
fn server(backend: Backend, tweak: impl FnOnce(&mut ror_capacity::config::ExportSettings) + 'static) -> TestApp {
    TestApp::builder(backend)
        .tls()
        .config(move |c| {
            c.export.poll_interval = Duration::from_millis(100);
            c.export.page = 37;
            tweak(&mut c.export);
        })
        .start()
}

static SERVERS: Shared = Shared::new();

fn shared(backend: Backend) -> &'static TestApp {
    SERVERS.get(backend, || {
        server(backend, |e| {
            e.max_jobs_per_consumer = 4;
            e.max_jobs = 16;
        })
    })
}

/// The export of every type equals, resource for resource, what the consumer's searches return:
/// for each profile and for a consumer limited to one region.
fn each_consumer_exports_what_it_searches(backend: Backend) {
    let app = shared(backend);
    let p = pki();
    let mut consumers: Vec<(&str, &ClientCert)> =
        vec![("0", &p.profiles[0]), ("1", &p.profiles[1]), ("2", &p.profiles[2]), ("5", &p.profiles[5])];
    consumers.push(("regional", &p.regional));
    for (name, cert) in consumers {
        let c = as_(app, cert);
        let export = c.export("$export");
        let m = &export.manifest;
        assert_eq!(m["requiresAccessToken"], false, "{name}");
        assert_eq!(m["error"], serde_json::json!([]), "{name}");
        assert!(m["request"].as_str().unwrap().ends_with("/fhir/$export"), "{m}");
        for rt in ["Location", "HealthcareService", "Organization", "Observation"] {
            let (status, _) = c.json("GET", &format!("{rt}?_count=1"));
            if status != 200 {
                assert!(!export.files.contains_key(rt), "{name}: {rt} is not searchable, so not exported");
                continue;
            }
            let searched = c.search(&format!("{rt}?_count=200"));
            let exported: BTreeMap<String, Value> = export
                .files
                .get(rt)
                .into_iter()
                .flatten()
                .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
                .collect();
            assert_eq!(exported.len(), export.files.get(rt).map_or(0, Vec::len), "{name} {rt}: an id twice");
            assert_eq!(exported.keys().collect::<Vec<_>>(), searched.keys().collect::<Vec<_>>(), "{name} {rt}: ids");
            assert!(exported == searched, "{name} {rt}: the exported JSON differs from the searched JSON");
        }
    }
}

/// A place found by a search is the place read (`GET Location/{id}`), for each profile and for a
/// consumer limited to one region: searches compose the places of a consumer who sees all of a
/// place's figures or none (profiles 1 and 5) as SQLite hands their rows over, reads through owned
/// rows. Both the id walk and the région's figures walk (a regulator's query) are compared.
fn each_consumer_searches_what_it_reads(backend: Backend) {
    let app = shared(backend);
    let p = pki();
    let region = app.data.first_region();
    let consumers = [
        ("0", &p.profiles[0]),
        ("1", &p.profiles[1]),
        ("2", &p.profiles[2]),
        ("5", &p.profiles[5]),
        ("regional", &p.regional),
    ];
    let searches = [
        "Location?_count=200".to_owned(),
        format!("Location?_tag={region}&capacity-type=01&capacity-status=02&nb-capacity=gt0&_count=20"),
    ];
    let mut compared = BTreeMap::new();
    for (name, cert) in consumers {
        let c = as_(app, cert);
        for q in &searches {
            if c.json("GET", q).0 != 200 {
                continue;
            }
            let found = c.search(q);
            for (id, searched) in &found {
                let (status, read) = c.json("GET", &format!("Location/{id}"));
                assert_eq!(status, 200, "{name}: Location/{id}");
                assert!(&read == searched, "{name} {q}: Location/{id} searched differs from read:\n{searched}\n{read}");
            }
            *compared.entry(name).or_insert(0) += found.len();
        }
    }
    for name in ["0", "1", "2", "5", "regional"] {
        assert!(compared.get(name).is_some_and(|n| *n > 0), "{name}: nothing compared ({compared:?})");
    }
}

/// `_since`, `_type`, `_typeFilter`, `_myCompleteExtract`, type level.
fn parameters(backend: Backend) {
    let app = shared(backend);
    let c = as_(app, &pki().profiles[1]);
    let region = app.data.first_region();
    let since = "2026-06-01T00:00:00Z";
    let e = c.export(&format!("$export?_type=Location&_since={}", enc(since)));
    assert_eq!(e.files.keys().collect::<Vec<_>>(), vec!["Location"]);
    let delta = c.search(&format!("Location?_lastUpdated=gt{}&_count=200", enc(since)));
    assert!(!delta.is_empty() && delta.len() < app.data.locations.len());
    assert_eq!(e.ids("Location"), delta.keys().cloned().collect());

    let e = c.export(&format!("Location/$export?_typeFilter={}", enc(&format!("Location?_tag={region}"))));
    assert_eq!(e.ids("Location"), c.search(&format!("Location?_tag={region}&_count=200")).keys().cloned().collect());

    // Two filters of one type are ORed, and a resource matching both is written once.
    let both = format!("Location?_tag={region},Location?capacity-status=02");
    let e = c.export(&format!("$export?_type=Location&_typeFilter={}", enc(&both)));
    let mut expected: BTreeSet<String> = c.search(&format!("Location?_tag={region}&_count=200")).into_keys().collect();
    expected.extend(c.search("Location?capacity-status=02&_count=200").into_keys());
    assert_eq!(e.ids("Location"), expected);

    // The ROR's regional extract: the region's offers, the places they name and the
    // organisations providing them or managing those places.
    let filter = format!("HealthcareService?_tag={region}");
    let e = c.export(&format!(
        "$export?_type=HealthcareService&includeAssociatedData=_myCompleteExtract&_typeFilter={}",
        enc(&filter)
    ));
    let offers = c.search(&format!("HealthcareService?_tag={region}&_count=200"));
    assert_eq!(e.ids("HealthcareService"), offers.keys().cloned().collect());
    let reference = |r: &Value, field: &str, prefix: &str| -> Vec<String> {
        let refs = match &r[field] {
            Value::Array(list) => list.iter().filter_map(|x| x["reference"].as_str()).map(str::to_owned).collect(),
            v => v["reference"].as_str().map(str::to_owned).into_iter().collect::<Vec<_>>(),
        };
        refs.iter().filter_map(|x| x.strip_prefix(prefix)).map(str::to_owned).collect()
    };
    let places: BTreeSet<String> = offers.values().flat_map(|o| reference(o, "location", "Location/")).collect();
    assert_eq!(e.ids("Location"), places);
    let mut orgs: BTreeSet<String> =
        offers.values().flat_map(|o| reference(o, "providedBy", "Organization/")).collect();
    for place in &e.files["Location"] {
        orgs.extend(reference(place, "managingOrganization", "Organization/"));
    }
    assert_eq!(e.ids("Organization"), orgs);
}

/// POST with a `Parameters` body, gzip and Brotli, and the CapabilityStatement's entry.
fn post_and_encodings(backend: Backend) {
    let app = shared(backend);
    let c = as_(app, &pki().profiles[1]);
    let (_, metadata) = c.json("GET", "metadata");
    let op = &metadata["rest"][0]["operation"][0];
    assert_eq!((op["name"].as_str(), op["definition"].as_str()), (Some("export"), Some(EXPORT)));
    assert!(
        metadata["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| ror_capacity::fhir::ResourceType::parse(r["type"].as_str().unwrap()).is_some())
            .all(|r| r["operation"][0]["definition"] == EXPORT)
    );
    // POST with a Parameters body.
    let body = serde_json::json!({"resourceType": "Parameters", "parameter": [
        {"name": "_type", "valueString": "Organization"},
        {"name": "_outputFormat", "valueString": "application/fhir+ndjson"}]});
    let r = c
        .http
        .post(c.url("$export"))
        .header("content-type", "application/fhir+json")
        .header("prefer", "respond-async")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let (manifest, headers) = c.wait(r.headers()["content-location"].to_str().unwrap());
    assert!(headers.contains_key("expires"));
    assert_eq!(manifest["output"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["output"][0]["type"], "Organization");

    // gzip and Brotli on request, the same bytes once decoded.
    let url = manifest["output"][0]["url"].as_str().unwrap();
    let (_, _, plain) = c.send("GET", url, &[]);
    let (_, h, gz) = c.send("GET", url, &[("accept-encoding", "gzip")]);
    assert_eq!(h["content-encoding"], "gzip");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
    assert_eq!(out, plain);
    let (_, h, br) = c.send("GET", url, &[("accept-encoding", "br")]);
    assert_eq!(h["content-encoding"], "br");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(&br[..], 4096), &mut out).unwrap();
    assert_eq!(out, plain);
}

/// What is not supported is refused with an OperationOutcome (or ignored under lenient
/// handling, and said so in the error file); what the consumer may not search is 403.
fn refusals(backend: Backend) {
    let app = shared(backend);
    let c = as_(app, &pki().profiles[1]);
    for bad in [
        "$export?_since=yesterday",
        "$export?_outputFormat=text/csv",
        "$export?_type=Patient",
        "$export?patient=Patient/1",
        "$export?includeAssociatedData=LatestProvenanceResources",
        "$export?_typeFilter=Location%3F_sort%3Dname",
        "$export?_typeFilter=Location%3Fno-such%3D1",
        "$export?_type=Location&_typeFilter=HealthcareService%3Fname%3Da",
        "HealthcareService/$export?_type=Location",
    ] {
        let (status, body) = c.json("GET", bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["resourceType"], "OperationOutcome", "{bad}");
    }
    assert_eq!(c.json("GET", "Patient/$export").0, 404);
    let (status, headers, body) =
        c.send("GET", "$export?_type=Organization&_elements=id", &[("prefer", "respond-async, handling=lenient")]);
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let (manifest, _) = c.wait(headers["content-location"].to_str().unwrap());
    assert_eq!(manifest["error"].as_array().unwrap().len(), 1, "{manifest}");
    let outcome = c.download(manifest["error"][0]["url"].as_str().unwrap());
    assert!(outcome[0].to_string().contains("_elements"), "{outcome:?}");

    let p5 = as_(app, &pki().profiles[5]);
    assert_eq!(p5.json("GET", "$export?_type=Observation").0, 403);
    assert_eq!(p5.json("GET", &format!("$export?_typeFilter={}", enc("Location?capacity-status=02"))).0, 403);
    let services_only = as_(app, &pki().services_only);
    assert_eq!(services_only.json("GET", "$export?_type=Location").0, 403);
    let e = services_only.export("$export?includeAssociatedData=_myCompleteExtract");
    assert_eq!(e.files.keys().collect::<Vec<_>>(), vec!["HealthcareService"], "only what it may search");
}

/// A job belongs to the consumer that started it: anyone else gets 404 on its polling URL and
/// files, cannot cancel it, and nobody reaches anything without a client certificate.
fn ownership(backend: Backend) {
    let app = shared(backend);
    let owner = as_(app, &pki().profiles[1]);
    let poll = owner.kickoff("$export?_type=Organization");
    let (manifest, _) = owner.wait(&poll);
    let file = manifest["output"][0]["url"].as_str().unwrap().to_owned();
    for other in [&pki().profiles[0], &pki().profiles[2], &pki().regional] {
        let o = as_(app, other);
        assert_eq!(o.send("GET", &poll, &[]).0, 404);
        assert_eq!(o.send("GET", &file, &[]).0, 404);
        assert_eq!(o.send("DELETE", &poll, &[]).0, 404);
    }
    let anonymous = https_client(pki(), None);
    assert!(anonymous.get(&file).send().is_err(), "no file without a client certificate");
    assert_eq!(owner.send("GET", &file, &[]).0, 200, "the owner still has it");
    let id = poll.rsplit('/').next().unwrap();
    let ror_form = format!("$export-poll-status?_jobId={id}");
    assert_eq!(owner.send("GET", &ror_form, &[]).0, 200);
    assert_eq!(owner.send("DELETE", &poll, &[]).0, 202);
    assert_eq!(owner.send("GET", &poll, &[]).0, 404);
    assert_eq!(owner.send("GET", &file, &[]).0, 404);
    assert_eq!(owner.send("GET", "$export-status/not-a-job", &[]).0, 404);
}

/// Limits, polling too fast, cancel: jobs stay queued on a server with no worker.
fn limits_and_cancel(backend: Backend) {
    let app = server(backend, |e| {
        e.workers = 0;
        e.max_jobs = 2;
        e.poll_interval = Duration::from_secs(4);
    });
    let (one, two, three) =
        (as_(&app, &pki().profiles[1]), as_(&app, &pki().profiles[2]), as_(&app, &pki().profiles[0]));
    let poll = one.kickoff("$export");
    let (status, headers, _) = one.send("GET", "$export", &[]);
    assert_eq!(status, 429, "one unfinished export per consumer");
    assert!(headers.contains_key("retry-after"));
    let (status, headers, _) = one.send("GET", &poll, &[]);
    assert_eq!(status, 202);
    assert_eq!(headers["x-progress"], "queued");
    assert_eq!(headers["retry-after"], "4");
    assert_eq!(one.send("GET", &poll, &[]).0, 429, "polled again at once");
    let other = two.kickoff("$export");
    assert_eq!(three.send("GET", "$export", &[]).0, 429, "two unfinished exports on the server");
    assert_eq!(one.send("DELETE", &poll, &[]).0, 202);
    assert_eq!(one.send("GET", &poll, &[]).0, 404);
    three.kickoff("$export");
    assert_eq!(two.send("DELETE", &other, &[]).0, 202);
}

/// Finished jobs expire, and their files go.
fn expiry(backend: Backend) {
    let dir = scratch_dir("export-expiry");
    let d = dir.clone();
    let app = server(backend, move |e| {
        e.expiry = Duration::from_millis(400);
        e.dir = Some(d);
    });
    let c = as_(&app, &pki().profiles[1]);
    let poll = c.kickoff("$export?_type=Organization");
    let (manifest, _) = c.wait(&poll);
    let id = poll.rsplit('/').next().unwrap().to_owned();
    assert!(dir.join(&id).join("Organization.ndjson").exists());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(c.send("GET", &poll, &[]).0, 404);
    assert_eq!(c.send("GET", manifest["output"][0]["url"].as_str().unwrap(), &[]).0, 404);
    assert!(!dir.join(&id).exists(), "expired files are removed");
}

/// A job queued or being written when the server stops is written after the restart (from a
/// new snapshot, under the same polling URL); a finished one stays as it was, unless its files
/// did not all reach the disk (they are not synced: the machine stopped): that one has failed.
fn restart(backend: Backend) {
    let dir = scratch_dir("export-restart");
    let db = Arc::new(TestDb::new(backend));
    let start = |workers: usize, import: bool| {
        let d = dir.clone();
        let builder = TestApp::builder(backend).tls().database(db.clone());
        let builder = if import { builder } else { builder.empty() };
        builder
            .config(move |c| {
                c.export.dir = Some(d);
                c.export.workers = workers;
                c.export.max_jobs_per_consumer = 2;
                c.export.poll_interval = Duration::from_millis(100);
            })
            .start()
    };
    let first = start(1, true);
    let c = as_(&first, &pki().profiles[1]);
    let finished = c.kickoff("$export?_type=Organization");
    let (before, _) = c.wait(&finished);
    let lost = c.kickoff("$export?_type=HealthcareService");
    let (lost_manifest, _) = c.wait(&lost);
    drop(first);
    // As a machine that stopped before writing back the page cache may leave a file: shorter.
    let lost_file = dir.join(lost.rsplit('/').next().unwrap()).join("HealthcareService.ndjson");
    let written = std::fs::read(&lost_file).unwrap();
    assert_eq!(written.iter().filter(|b| **b == b'\n').count() as u64, lost_manifest["output"][0]["count"]);
    std::fs::write(&lost_file, &written[..written.len() / 2]).unwrap();
    let paused = start(0, false);
    let queued = as_(&paused, &pki().profiles[1]).kickoff("$export?_type=Location");
    drop(paused);
    // As a crash in the middle of writing leaves it: recorded as running, a file half written.
    let job_dir = dir.join(queued.rsplit('/').next().unwrap());
    let record = std::fs::read_to_string(job_dir.join("job.json")).unwrap();
    assert!(record.contains("\"queued\""), "{record}");
    std::fs::write(job_dir.join("job.json"), record.replace("\"queued\"", "\"running\"")).unwrap();
    std::fs::write(job_dir.join("Location.ndjson"), "{\"resourceType\":\"Location\",\"id\":\"half").unwrap();
    let second = start(1, false);
    let c = as_(&second, &pki().profiles[1]);
    let rebase = |url: &str| format!("{}/{}", second.base, url.split_once("/fhir/").unwrap().1);
    let (after, _) = c.wait(&rebase(&finished));
    assert_eq!(after["transactionTime"], before["transactionTime"], "the finished job is the same");
    assert_eq!(
        c.download(&rebase(before["output"][0]["url"].as_str().unwrap())).len() as u64,
        before["output"][0]["count"]
    );
    let (status, _, body) = c.send("GET", &rebase(&lost), &[]);
    let outcome: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 500, "a finished job whose files were lost has failed");
    assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().contains("lost"), "{outcome}");
    let (manifest, _) = c.wait(&rebase(&queued));
    let places = c.download(manifest["output"][0]["url"].as_str().unwrap());
    assert_eq!(places.len(), second.data.locations.len(), "the interrupted job was written after the restart");
}

crate::each_backend!(
    each_consumer_exports_what_it_searches,
    each_consumer_searches_what_it_reads,
    parameters,
    post_and_encodings,
    refusals,
    ownership,
    limits_and_cancel,
    expiry,
    restart
);

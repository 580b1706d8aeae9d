//! The configuration file (issue 15): the real binary, `--config FILE`. A file that sets every
//! setting gives the same settings as the same values given as options; the command line and the
//! environment win over the file; an unknown key is refused; a server runs from a file alone; the
//! example file in `deploy/` is accepted.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestDb, dataset, scratch_dir};

/// A non-default value of every setting, as TOML (written as `--print-config` writes values).
const EVERY_SETTING: &[(&str, &str)] = &[
    ("database-url", r#""sqlite://elsewhere.db""#),
    ("log-format", r#""json""#),
    ("bind", r#""127.0.0.1:18443""#),
    ("tls-cert", r#""/etc/ror/server.pem""#),
    ("tls-key", r#""/etc/ror/server.key""#),
    ("client-ca", r#"["/etc/ror/ca-1.pem", "/etc/ror/ca-2.pem"]"#),
    ("crl", r#"["/etc/ror/ca-1.crl"]"#),
    ("consumers", r#""/etc/ror/consumers.toml""#),
    ("trusted-proxy", r#"["10.0.0.1", "10.0.0.2"]"#),
    ("client-cert-header", r#""x-client-cert""#),
    ("insecure-http", "true"),
    ("insecure-profile", "3"),
    ("pki-dir", r#""pki""#),
    ("statement-timeout-ms", "2500"),
    ("pool-wait-ms", "200"),
    ("max-in-flight", "40"),
    ("max-queue", "64"),
    ("queue-wait-ms", "100"),
    ("max-connections", "300"),
    ("count-memo-mb", "4"),
    ("export-dir", r#""/var/lib/ror/exports""#),
    ("export-expiry-minutes", "60"),
    ("export-max-jobs", "2"),
    ("export-max-jobs-per-consumer", "2"),
    ("export-workers", "3"),
    ("export-poll-ms", "500"),
    ("read-database-url", r#"["postgres://r1.internal/ror", "postgres://r2.internal/ror"]"#),
    ("admin-bind", r#""127.0.0.1:19464""#),
    ("shutdown-grace-secs", "5"),
    ("admin-allow-remote", "true"),
    ("pool-size", "4"),
    ("sqlite-mmap-mb", "64"),
    ("workers", "3"),
    ("base-url", r#""https://ror.example/fhir""#),
    ("cursor-secret", r#""s3cret""#),
    ("demo", "true"),
    ("demo-locations", "50"),
];

fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ror-capacity"));
    c.env_clear();
    c
}

fn ok(out: Output) -> String {
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// `key -> (value, source)` of `--print-config`'s output (unset settings: value `None`).
fn settings(printed: &str) -> BTreeMap<String, (Option<String>, String)> {
    let mut out = BTreeMap::new();
    for line in printed.lines() {
        if let Some(rest) = line.strip_prefix("# ").and_then(|l| l.strip_suffix(" =   (not set)")) {
            out.insert(rest.to_owned(), (None, "default".to_owned()));
        } else if let Some((key, rest)) = line.split_once(" = ") {
            let (value, source) = rest.rsplit_once("   # ").unwrap();
            out.insert(key.to_owned(), (Some(value.to_owned()), source.to_owned()));
        }
    }
    out
}

/// The command-line options that say what `EVERY_SETTING` says.
fn as_options() -> (Vec<String>, Vec<String>) {
    let (mut global, mut serve) = (Vec::new(), Vec::new());
    for (key, value) in EVERY_SETTING {
        let to = if matches!(*key, "database-url" | "log-format") { &mut global } else { &mut serve };
        let parsed: toml::Value = format!("v = {value}").parse::<toml::Table>().unwrap().remove("v").unwrap();
        match parsed {
            toml::Value::Boolean(true) => to.push(format!("--{key}")),
            toml::Value::Array(items) => {
                for item in items {
                    to.extend([format!("--{key}"), item.as_str().unwrap().to_owned()]);
                }
            }
            toml::Value::String(s) => to.extend([format!("--{key}"), s]),
            toml::Value::Integer(n) => to.extend([format!("--{key}"), n.to_string()]),
            other => panic!("{key}: {other:?}"),
        }
    }
    (global, serve)
}

#[test]
fn a_file_sets_every_setting_as_the_options_do() {
    let defaults = settings(&ok(binary().args(["serve", "--print-config"]).output().unwrap()));
    let listed: Vec<&String> = defaults.keys().collect();
    let mut covered: Vec<&str> = EVERY_SETTING.iter().map(|(k, _)| *k).collect();
    covered.sort_unstable();
    assert_eq!(listed, covered, "a setting was added: give it a value in EVERY_SETTING");

    let dir = scratch_dir("config-file");
    let file = dir.join("every.toml");
    let text: String = EVERY_SETTING.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let from_file =
        settings(&ok(binary().arg("--config").arg(&file).args(["serve", "--print-config"]).output().unwrap()));
    let (global, serve) = as_options();
    let from_options =
        settings(&ok(binary().args(&global).arg("serve").args(&serve).arg("--print-config").output().unwrap()));
    for (key, value) in EVERY_SETTING {
        let shown = if *key == "cursor-secret" { r#""<hidden>""# } else { value };
        assert_eq!(from_file[*key], (Some(shown.to_string()), "file".to_owned()), "{key}");
        assert_eq!(from_options[*key], (Some(shown.to_string()), "command line".to_owned()), "{key}");
        assert_ne!(defaults[*key].0.as_deref(), Some(shown), "{key}: not a change from the default");
    }
}

#[test]
fn the_command_line_then_the_environment_win_over_the_file() {
    let file = scratch_dir("config-precedence").join("ror.toml");
    std::fs::write(&file, "pool-size = 3\nworkers = 4\nmax-queue = 10\nclient-ca = [\"a.pem\"]\n").unwrap();
    let out = binary()
        .arg("--config")
        .arg(&file)
        .envs([("ROR_WORKERS", "6"), ("ROR_MAX_QUEUE", "20"), ("ROR_CLIENT_CA", "b.pem,c.pem")])
        .args(["serve", "--print-config", "--max-queue", "30"])
        .output()
        .unwrap();
    let s = settings(&ok(out));
    assert_eq!(s["pool-size"], (Some("3".into()), "file".into()));
    assert_eq!(s["workers"], (Some("6".into()), "environment ROR_WORKERS".into()));
    assert_eq!(s["max-queue"], (Some("30".into()), "command line".into()));
    assert_eq!(s["client-ca"], (Some(r#"["b.pem", "c.pem"]"#.into()), "environment ROR_CLIENT_CA".into()));
    // The file is named in the environment as well.
    let s = settings(&ok(binary().env("ROR_CONFIG", &file).args(["serve", "--print-config"]).output().unwrap()));
    assert_eq!(s["pool-size"], (Some("3".into()), "file".into()));
}

#[test]
fn unknown_keys_and_bad_values_are_refused_before_anything_starts() {
    let dir = scratch_dir("config-refused");
    for (text, message) in [
        ("pool_size = 3\n", "unknown key \"pool_size\" (did you mean \"pool-size\"?"),
        ("[serve]\nworkers = 2\n", "unknown key \"serve\""),
        ("workers = \"two\"\n", "workers: invalid value 'two' for '--workers"),
        ("insecure-http = \"yes\"\n", "insecure-http: expects true or false"),
        ("workers = 2\nworkers = 3\n", "not valid TOML"),
    ] {
        let file = dir.join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let out = binary().arg("--config").arg(&file).args(["serve", "--insecure-http"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(&format!("{}: {message}", file.display())), "{text}: {stderr}");
    }
    let out = binary().args(["--config", "/nonexistent/ror.toml", "serve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/ror.toml: cannot read"));
}

#[test]
fn a_server_runs_from_a_file_alone() {
    let db = TestDb::new(Backend::Sqlite);
    db.import(&[&dataset().path]).unwrap();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (port, admin) = (free(), free());
    let file = scratch_dir("config-serve").join("ror.toml");
    let text = format!(
        "database-url = \"{}\"\nbind = \"127.0.0.1:{port}\"\nadmin-bind = \"127.0.0.1:{admin}\"\n\
         insecure-http = true\ninsecure-profile = 2\nbase-url = \"https://ror.example/fhir\"\n",
        db.url()
    );
    std::fs::write(&file, text).unwrap();
    let mut child =
        binary().arg("--config").arg(&file).arg("serve").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let client = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    let page: serde_json::Value = loop {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/fhir/Location?_count=1")).send()
            && r.status() == 200
        {
            break r.json().unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    let metrics = client.get(format!("http://127.0.0.1:{admin}/metrics")).send().unwrap().text().unwrap();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
    let self_link = page["link"][0]["url"].as_str().unwrap();
    assert!(self_link.starts_with("https://ror.example/fhir/Location?"), "{self_link}");
    assert!(metrics.contains("ror_http_requests_total"), "{metrics}");
}

#[test]
fn the_deployment_examples_are_accepted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = root.join("deploy/ror-capacity.toml");
    let printed = ok(binary().arg("--config").arg(&example).args(["serve", "--print-config"]).output().unwrap());
    let keys: Vec<String> =
        std::fs::read_to_string(&example).unwrap().parse::<toml::Table>().unwrap().keys().cloned().collect();
    let s = settings(&printed);
    for key in &keys {
        assert_eq!(s[key].1, "file", "{key}");
    }
    // The unit starts the binary with the example's options: check them with the real binary, and
    // the unit itself with systemd-analyze where the machine has it.
    let unit = std::fs::read_to_string(root.join("deploy/ror-capacity.service")).unwrap();
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    let args: Vec<&str> = exec.split_whitespace().skip(1).collect();
    assert_eq!(args, ["--config", "/etc/ror-capacity/ror-capacity.toml", "serve"]);
    let Ok(analyze) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed: the unit file is not verified");
        return;
    };
    assert!(analyze.status.success());
    let dir = scratch_dir("systemd-unit");
    let local = unit.replace("/usr/local/bin/ror-capacity", env!("CARGO_BIN_EXE_ror-capacity"));
    std::fs::write(dir.join("ror-capacity.service"), local).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.join("ror-capacity.service"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let own: Vec<&str> = stderr.lines().filter(|l| l.contains("ror-capacity.service")).collect();
    assert!(out.status.success() && own.is_empty(), "systemd-analyze verify: {stderr}");
}

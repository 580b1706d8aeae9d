"""5. Bulk Data `$export` with a real Bulk Data client, unmodified, over mutual TLS.

`smart-fetch` (PyPI, pinned with its dependencies in requirements-bulk.txt, in a venv of its own
that run.sh installs) runs the whole flow against the server run.sh started: it reads
`/metadata`, kicks off `GET [base]/$export`, polls the status URL as Retry-After says, downloads
every file of the manifest, and DELETEs the job. Then its files are checked: one type per file,
each line a resource of that type, ids unique, and the resources of each type equal (ids and
content) to those of a paged search of that type with the same certificate.

How the client is driven (nothing of it is changed):
- its `--type` only takes patient-record types, so the types are named in the kick-off URL given
  with `--fhir-url` (`$export?_type=Location,HealthcareService,Organization`) and `--type
  Observation` is added, which it appends to `_type`; `--no-default-filters` keeps it from adding
  Observation category filters;
- it has no TLS client certificate option: `bulk/sitecustomize.py`, put on its PYTHONPATH, makes
  its default SSL contexts load the certificate named by MTLS_CLIENT_CERT / MTLS_CLIENT_KEY; the
  development root CA is given with SSL_CERT_FILE (which httpx reads);
- it retries a failing connection silently for about 17 minutes, so it runs with a timeout and
  `--verbose`, and a failure shows its output, its `log.ndjson` and the end of the server log.

The profile-5 certificate may not search Observation; smart-fetch always sends `_type` with at
least Observation (without `--type` it asks for every patient-record type the CapabilityStatement
lists, which is Observation alone), so its kick-off is refused with 403: that run checks the client
stops at once on the refusal, with the server's OperationOutcome in its log, and writes no file.
What profile 5 receives from an export it may run is checked by tests/api/export.rs.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness
from conftest import TIMINGS
from corpus import next_link

BULK_VENV = Path(os.environ.get("CONF_BULK_VENV", "venv-bulk"))
SHIM_DIR = harness.HERE / "bulk"
URL_TYPES = ["Location", "HealthcareService", "Organization"]
EXPORTED_TYPES = URL_TYPES + ["Observation"]  # Observation comes with --type (see above)
TIMEOUT = 300  # seconds; a full run takes a few
MAX_PAGES = 200
# The environment the client must not inherit: CA settings (SSL_CERT_DIR would add the system CAs),
# proxies (127.0.0.1 is reached directly), and a PYTHONPATH or user site that could shadow the shim.
DROPPED_ENV = {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PYTHONPATH", "PYTHONHOME",
               "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "MTLS_CLIENT_CERT", "MTLS_CLIENT_KEY"}


@dataclass
class Run:
    profile: int
    command: list[str]
    out: Path
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float

    def log(self) -> list[dict]:
        """smart-fetch's Bulk Data log (`log.ndjson`, the events of the flow)."""
        path = self.out / "log.ndjson"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def events(self, name: str) -> list[dict]:
        return [e for e in self.log() if e.get("eventId") == name]

    def ndjson_files(self) -> list[Path]:
        return sorted(p for p in self.out.rglob("*.ndjson") if p.name != "log.ndjson")

    def report(self) -> str:
        """What to read when the run went wrong."""
        status = f"killed after {TIMEOUT} s" if self.returncode is None else f"exit code {self.returncode}"
        hint = ""
        if self.returncode is None:
            hint = ("\n(smart-fetch retries a connection that fails silently for ~17 min: a refused or missing client "
                    "certificate, or a server certificate not signed by SSL_CERT_FILE, looks like this)")
        log = self.log()
        server_log = harness.WORK / "server.log"
        server_tail = server_log.read_text(errors="replace").splitlines()[-15:] if server_log.exists() else []
        return (
            f"smart-fetch with the profile-{self.profile} certificate: {status}, {self.seconds:.1f} s{hint}\n"
            f"command: {' '.join(self.command)}\n"
            f"--- stdout (end)\n{self.stdout[-3000:]}\n--- stderr (end)\n{self.stderr[-3000:]}\n"
            f"--- log.ndjson ({len(log)} events, last ones)\n" + "\n".join(json.dumps(e)[:600] for e in log[-8:]) +
            "\n--- server log (end)\n" + "\n".join(server_tail)
        )


def run_smart_fetch(profile: int, extra: list[str]) -> Run:
    out = harness.WORK / f"bulk-profile-{profile}"
    if out.exists():
        raise RuntimeError(f"{out} exists already: the export of profile {profile} runs once per stage")
    crt, key = harness.cert(profile)
    url = f"{harness.BASE}/$export?_type={','.join(URL_TYPES)}"
    command = [str(BULK_VENV / "bin" / "smart-fetch"), "bulk", "--verbose", "--fhir-url", url, *extra,
               "--no-default-filters", "--no-compression", str(out)]
    env = {k: v for k, v in os.environ.items() if k.upper() not in DROPPED_ENV}
    env.update(SSL_CERT_FILE=harness.ca(), PYTHONPATH=str(SHIM_DIR), PYTHONNOUSERSITE="1",
               MTLS_CLIENT_CERT=crt, MTLS_CLIENT_KEY=key, COLUMNS="160")
    start = time.monotonic()
    try:
        p = subprocess.run(command, env=env, cwd=harness.WORK, capture_output=True, text=True, timeout=TIMEOUT,
                           check=False)
        rc, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        rc, stdout, stderr = None, text(e.stdout), text(e.stderr)
    seconds = time.monotonic() - start
    TIMINGS[f"smart-fetch profile {profile}"] = round(seconds, 1)
    return Run(profile, command, out, rc, stdout, stderr, seconds)


def read_file(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            r = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"{path.name} line {n} is not JSON ({e}): {line[:200]!r}") from None
        assert isinstance(r, dict), f"{path.name} line {n} is not a JSON object"
        out.append(r)
    return out


def searched(rtype: str, profile: int = 1) -> dict[str, dict]:
    """Every resource of a paged search `GET [base]/{rtype}?_count=200`, each next link followed."""
    s = harness.session(profile)
    found: dict[str, dict] = {}
    url, params, pages = f"{harness.BASE}/{rtype}", {"_count": "200"}, 0
    while url:
        pages += 1
        assert pages <= MAX_PAGES, f"{rtype}: more than {MAX_PAGES} pages"
        r = s.get(url, params=params, timeout=120)
        assert r.status_code == 200, f"GET {r.url}: {r.status_code} {r.text[:500]}"
        bundle = r.json()
        for e in bundle.get("entry", []):
            res = e["resource"]
            if e.get("search", {}).get("mode", "match") == "match":
                assert res["resourceType"] == rtype, f"{r.url}: a {res['resourceType']} match"
                assert res["id"] not in found, f"{rtype}/{res['id']} came twice in the search"
                found[res["id"]] = res
        url, params = next_link(bundle), None
    return found


def _diff(label: str, got: set[str], want: set[str]) -> str:
    missing, extra = sorted(want - got), sorted(got - want)
    return f"{label}: {len(got)} exported, {len(want)} searched; missing {missing[:10]}; unexpected {extra[:10]}"


# ----------------------------------------------------------------------------------- profile 1
@pytest.fixture(scope="module")
def export_p1() -> Run:
    run = run_smart_fetch(1, ["--type", "Observation"])
    if run.returncode != 0:
        pytest.fail(run.report())
    return run


@pytest.fixture(scope="module")
def exported(export_p1) -> dict[str, dict[str, dict]]:
    """The downloaded resources, by type and id (each file holds one type, ids unique)."""
    out: dict[str, dict[str, dict]] = {}
    for path in export_p1.ndjson_files():
        rtype = path.name.split(".", 1)[0]
        assert path.parent == export_p1.out, f"{path.relative_to(export_p1.out)}: a file outside the output folder " \
            "(error/ or deleted/ files of the manifest)"
        got = out.setdefault(rtype, {})
        for r in read_file(path):
            assert r.get("resourceType") == rtype, f"{path.name}: a {r.get('resourceType')} in the {rtype} file"
            assert isinstance(r.get("id"), str) and r["id"], f"{path.name}: a resource without an id"
            assert r["id"] not in got, f"{rtype}/{r['id']} written twice"
            got[r["id"]] = r
    return out


def test_smart_fetch_runs_the_export_flow(export_p1):
    """Kick-off accepted (202), status polled to the manifest, every file downloaded, the job
    deleted (smart-fetch warns when the DELETE is not answered 202 or 404), exit code 0."""
    run = export_p1
    kickoff = run.events("kickoff")
    assert len(kickoff) == 1, run.report()
    k = kickoff[0]["eventDetail"]
    assert k["errorCode"] is None, run.report()
    sent = urllib.parse.urlsplit(k["exportUrl"])
    assert sent.path.endswith("/fhir/$export"), k["exportUrl"]
    types = urllib.parse.parse_qs(sent.query).get("_type", [""])[0].split(",")
    assert sorted(types) == sorted(EXPORTED_TYPES), k["exportUrl"]
    poll = kickoff[0]["exportId"]
    assert poll.startswith(f"{harness.BASE}/$export-status/"), f"polling URL {poll}"
    assert run.events("status_complete") and run.events("export_complete"), run.report()
    manifest = run.events("manifest_complete")[0]["eventDetail"]
    assert manifest["totalErrorFileCount"] == 0 and manifest["totalDeletedFileCount"] == 0, manifest
    done = run.events("download_complete")
    assert len(done) == manifest["totalOutputFileCount"] >= 4, run.report()
    assert not run.events("download_error") and not run.events("status_error"), run.report()
    output = run.stdout + run.stderr
    assert "Failed to clean up export job" not in output, run.report()
    # the job is gone: its polling URL is no longer known to the server
    r = harness.session(1).get(poll, timeout=60)
    assert r.status_code == 404, f"GET {poll} after smart-fetch's DELETE: {r.status_code} {r.text[:300]}"


def test_exported_files(export_p1, exported):
    """One type per file (`Type.NNN.ndjson`), the types asked for and no other, each line a
    resource of the file's type, ids unique within the type; nothing but the files, the log and
    the client's own `.metadata` in the folder."""
    names = sorted(p.name for p in export_p1.out.iterdir())
    others = [n for n in names if n not in ("log.ndjson", ".metadata") and not n.endswith(".ndjson")]
    assert not others, f"unexpected entries in the output folder: {others}"
    assert sorted(exported) == sorted(EXPORTED_TYPES), f"types exported: {sorted(exported)}"
    for rtype, resources in exported.items():
        assert resources, f"no {rtype} exported"
    # every line was counted by the client as downloaded
    counted = sum(e["eventDetail"]["resourceCount"] for e in export_p1.events("download_complete"))
    assert counted == sum(len(v) for v in exported.values())


@pytest.mark.parametrize("rtype", EXPORTED_TYPES)
def test_exported_equals_search(exported, rtype):
    """The ids of each exported type are those of a paged search of it with the same certificate,
    and each exported resource is the one the search returns (same JSON: same figures, same
    meta). Observation, the type `--type` adds, too: the walk of its ~9,600 takes about a second."""
    want = searched(rtype)
    got = exported[rtype]
    assert set(got) == set(want), _diff(rtype, set(got), set(want))
    differ = sorted(i for i in got if got[i] != want[i])
    if differ:
        a, b = got[differ[0]], want[differ[0]]
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        pytest.fail(f"{len(differ)} exported {rtype} differ from the searched ones, e.g. {rtype}/{differ[0]} "
                    f"in {keys}:\nexported {json.dumps({k: a.get(k) for k in keys})[:1500]}\n"
                    f"searched {json.dumps({k: b.get(k) for k in keys})[:1500]}")


# ----------------------------------------------------------------------------------- profile 5
def test_smart_fetch_profile_5_refused():
    """Profile 5 may not search Observation: the kick-off smart-fetch sends (with Observation in
    `_type`) is refused with 403 and an OperationOutcome, and the client stops at once with the
    status, without any file."""
    run = run_smart_fetch(5, [])
    assert run.returncode not in (0, None), run.report()
    assert run.seconds < 60, run.report()
    kickoff = run.events("kickoff")
    assert len(kickoff) == 1, run.report()
    k = kickoff[0]["eventDetail"]
    assert "Observation" in urllib.parse.parse_qs(urllib.parse.urlsplit(k["exportUrl"]).query)["_type"][0], k
    assert k["errorCode"] == 403, run.report()
    body = k["errorBody"]
    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", run.report()
    assert "[403]" in run.stderr, run.report()
    assert not run.ndjson_files(), [str(p) for p in run.ndjson_files()]

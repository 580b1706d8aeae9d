"""2. Real clients, unmodified, over mutual TLS:
- fhirpy (Python) and fhir-kit-client (npm) run the five scenarios, follow every `next` link to the
  end, and must receive exactly the expected ids (computed from the generated NDJSON);
- the SMART Python client `fhirclient` reads the CapabilityStatement and one resource of each type
  into its R4 models (strict parsing), and the models write back the same JSON.
mTLS is set through each client's documented options: fhirpy's `requests_config` (requests' `cert`
and `verify`), fhirclient's `server.session` (a requests.Session), and fhir-kit-client's
`requestOptions` (an undici dispatcher; see node/fkc_scenarios.mjs)."""
from __future__ import annotations

import json

import pytest

import harness

SCENARIOS = ["1-all", "2-one", "3-several", "4-since", "5-offers"]


def _scenario(scenario_list, name) -> harness.Scenario:
    return next(s for s in scenario_list if s.name == name)


def _diff(label: str, got: set[str], want: set[str]) -> str:
    missing, extra = sorted(want - got), sorted(got - want)
    return f"{label}: {len(got)} received, {len(want)} expected; missing {missing[:10]}; unexpected {extra[:10]}"


# ----------------------------------------------------------------------------------- fhirpy
@pytest.fixture(scope="session")
def fhirpy_client():
    from fhirpy import SyncFHIRClient

    return SyncFHIRClient(
        harness.BASE,
        requests_config={"cert": harness.cert(1), "verify": harness.ca(), "timeout": 120},
        extra_headers={"Accept": "application/fhir+json"},
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_fhirpy_scenario(fhirpy_client, scenario_list, name):
    sc = _scenario(scenario_list, name)
    params = {k: v for k, v in sc.params.items() if k != "_revinclude"}
    search = fhirpy_client.resources("Location").search(**params).revinclude("HealthcareService", "location")

    # Locations through fhirpy's own paging (its iterator follows link[next] to the end)
    locations = [r.id for r in search]
    assert len(locations) == len(set(locations)), "a place came twice in the walk"
    assert set(locations) == sc.locations, _diff("Location", set(locations), sc.locations)

    # every entry, page by page: first page with fetch_raw(), then each next link with execute()
    services: list[str] = []
    matched: list[str] = []
    bundle = search.fetch_raw()
    pages = 0
    while bundle is not None:
        pages += 1
        assert pages <= 200, "more than 200 pages"
        for e in bundle.get("entry", []):
            r, mode = e["resource"], e.get("search", {}).get("mode")
            if r["resourceType"] == "HealthcareService":
                assert mode == "include", f"HealthcareService/{r['id']} with search.mode {mode}"
                services.append(r["id"])
            elif r["resourceType"] == "Location":
                assert mode == "match", f"Location/{r['id']} with search.mode {mode}"
                matched.append(r["id"])
            else:
                pytest.fail(f"unexpected {r['resourceType']} entry")
        nxt = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
        bundle = fhirpy_client.execute(nxt, method="get") if nxt else None
    assert set(matched) == sc.locations, _diff("Location (raw pages)", set(matched), sc.locations)
    assert set(services) == sc.services, _diff("HealthcareService", set(services), sc.services)
    if name == "1-all":
        assert pages >= 10, f"{pages} pages for 2000 places with the default _count 200"


# ----------------------------------------------------------------------------------- fhir-kit-client
@pytest.fixture(scope="session")
def fkc_result(scenario_list) -> dict:
    inp = harness.WORK / "fkc-input.json"
    out = harness.WORK / "fkc-result.json"
    crt, key = harness.cert(1)
    inp.write_text(json.dumps({
        "base": harness.BASE, "cert": crt, "key": key, "ca": harness.ca(),
        "scenarios": [{"name": s.name, "params": s.params} for s in scenario_list],
    }))
    p = harness.run_node("fkc_scenarios.mjs", "--input", str(inp), "--out", str(out))
    if p.returncode != 0:
        pytest.fail(f"fkc_scenarios.mjs failed ({p.returncode}):\n{p.stderr[-4000:]}")
    return json.loads(out.read_text())


@pytest.mark.parametrize("name", SCENARIOS)
def test_fhir_kit_client_scenario(fkc_result, scenario_list, name):
    sc = _scenario(scenario_list, name)
    got = fkc_result["scenarios"][name]
    assert got["error"] is None, got["error"]
    assert not got["other"], f"entries with another search.mode: {got['other'][:5]}"
    locs = [k.split("/", 1)[1] for k in got["matches"] if k.startswith("Location/")]
    assert len(locs) == len(got["matches"]), "a match entry that is not a Location"
    hcs = [k.split("/", 1)[1] for k in got["includes"] if k.startswith("HealthcareService/")]
    assert len(hcs) == len(got["includes"]), "an include entry that is not a HealthcareService"
    assert len(locs) == len(set(locs)), "a place came twice in the walk"
    assert set(locs) == sc.locations, _diff("Location", set(locs), sc.locations)
    assert set(hcs) == sc.services, _diff("HealthcareService", set(hcs), sc.services)


# ----------------------------------------------------------------------------------- SMART fhirclient
@pytest.fixture(scope="session")
def smart():
    from fhirclient import client

    c = client.FHIRClient(settings={"app_id": "ror-capacity-conformance", "api_base": harness.BASE})
    c.server.session.cert = harness.cert(1)
    c.server.session.verify = harness.ca()
    return c


def _same_json(model_json, served) -> list[str]:
    """Differences between what the model writes back and what the server sent."""
    diffs: list[str] = []

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in a:
                    diffs.append(f"{path}.{k}: dropped by the model")
                elif k not in b:
                    diffs.append(f"{path}.{k}: added by the model")
                else:
                    walk(a[k], b[k], f"{path}.{k}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{path}[{i}]")
        elif a != b:
            diffs.append(f"{path}: {a!r} != {b!r}")

    walk(model_json, served, "")
    return diffs


def test_fhirclient_capability_statement(smart):
    from fhirclient.models.capabilitystatement import CapabilityStatement

    cs = smart.server.capabilityStatement
    assert isinstance(cs, CapabilityStatement)
    assert cs.fhirVersion == "4.0.1"
    types = [r.type for r in cs.rest[0].resource]
    assert types == ["Location", "HealthcareService", "Organization", "Observation", "MeasureReport", "Measure"]
    served = harness.session(1).get(f"{harness.BASE}/metadata", timeout=60).json()
    diffs = _same_json(cs.as_json(), served)
    assert not diffs, "\n".join(diffs[:20])


@pytest.mark.parametrize("rtype", ["Location", "HealthcareService", "Organization", "Observation"])
def test_fhirclient_read(smart, scenario_list, dataset, rtype):
    import importlib

    module = importlib.import_module(f"fhirclient.models.{rtype.lower()}")
    model = getattr(module, rtype)
    one = _scenario(scenario_list, "2-one")
    loc_id = sorted(one.locations)[0]
    if rtype == "Location":
        rid = loc_id
    elif rtype == "HealthcareService":
        rid = sorted(one.services)[0]
    elif rtype == "Organization":
        rid = sorted(dataset.organizations)[0]
    else:
        from fhirclient.models.bundle import Bundle

        b = Bundle.read_from(f"Observation?subject=Location/{loc_id}", smart.server)
        assert b.entry, "no Observation for the scenario-2 place"
        rid = b.entry[0].resource.id
    r = model.read(rid, smart.server)  # strict: unknown elements or wrong types raise
    assert isinstance(r, model) and r.id == rid
    served = harness.session(1).get(f"{harness.BASE}/{rtype}/{rid}", timeout=60).json()
    diffs = _same_json(r.as_json(), served)
    assert not diffs, "\n".join(diffs[:20])

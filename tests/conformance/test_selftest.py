"""The validators themselves: planted defects in copies of a real served Location must be rejected
(so a validator that passes everything would fail here), the unchanged copy must pass, and every
whitelist entry must still be an IG inconsistency that the served data meets (so it cannot rot)."""
from __future__ import annotations

import copy
import json

import pytest

import harness
from terminology import Report, Terminology

# name -> (what is planted, validators that must reject it)
DEFECTS = {
    "control": ("the served Location, unchanged", set()),
    "longitude-removed": ("required element Location.position.longitude removed",
                          {"fhirkit", "base", "profile"}),
    "unknown-element": ("element Location.capacity (not in FHIR R4) added", {"schema", "fhirkit", "base", "profile"}),
    "status-code-invalid": ("Location.status = 'closed' (not in the required R4 value set)", {"schema"}),
    "commune-cog-removed": ("extension ror-commune-cog (1..1 in ror-location) removed", {"profile"}),
    "capacity-subextension-removed": ("sub-extension temporaryAssignement (1..1) removed from a capacity figure",
                                      {"profile"}),
    "capacity-system-changed": ("capacityStatus coding system URL changed (TRE_R330 -> TRE_R331)", {"terminology"}),
    "capacity-code-invalid": ("capacityType code '99' (not in TRE_R329)", {"terminology"}),
}


def _served_location(corpus) -> dict:
    for c in corpus["scenario-2-profile-1"]:
        for r in c.resources():
            if r["resourceType"] == "Location" and any(e["url"] == harness.CAPACITY_URL for e in r.get("extension", [])):
                return r
    raise LookupError("no served Location with a capacity figure")


def _plant(loc: dict, name: str) -> dict:
    r = copy.deepcopy(loc)
    caps = [e for e in r.get("extension", []) if e["url"] == harness.CAPACITY_URL]
    if name == "longitude-removed":
        del r["position"]["longitude"]
    elif name == "unknown-element":
        r["capacity"] = 3
    elif name == "status-code-invalid":
        r["status"] = "closed"
    elif name == "commune-cog-removed":
        r["extension"] = [e for e in r["extension"] if not e["url"].endswith("/ror-commune-cog")]
    elif name == "capacity-subextension-removed":
        caps[0]["extension"] = [s for s in caps[0]["extension"] if s["url"] != "temporaryAssignement"]
    elif name == "capacity-system-changed":
        sub = next(s for s in caps[0]["extension"] if s["url"] == "capacityStatus")
        sub["valueCodeableConcept"]["coding"][0]["system"] = sub["valueCodeableConcept"]["coding"][0]["system"].replace(
            "TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite",
            "TRE_R331-TemporaliteCapacite/FHIR/TRE-R331-TemporaliteCapacite")
    elif name == "capacity-code-invalid":
        sub = next(s for s in caps[0]["extension"] if s["url"] == "capacityType")
        sub["valueCodeableConcept"]["coding"][0]["code"] = "99"
    return r


@pytest.fixture(scope="session")
def planted(corpus) -> dict[str, dict]:
    """Every validator run on each planted copy: name -> validator -> list of error strings."""
    import fhirkit

    loc = _served_location(corpus)
    folder = harness.WORK / "selftest"
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for name in DEFECTS:
        copies[name] = _plant(loc, name)
        (folder / f"{name}.json").write_text(json.dumps({"sample": name, "page": 1, "body": copies[name]}))
    out_file = harness.WORK / "selftest-report.json"
    p = harness.run_node("validate.mjs", "--corpus", str(folder), "--out", str(out_file),
                         "--profiles", str(harness.PROFILES_DIR), "--whitelist", str(harness.WHITELIST))
    assert p.returncode == 0, p.stderr[-4000:]
    node = json.loads(out_file.read_text())["samples"]
    term = Terminology()
    result: dict[str, dict] = {}
    for name, body in copies.items():
        rep = Report()
        term.check_resource(body, "selftest", rep)
        result[name] = {
            "schema": [f"{e['path']}: {e['message']}" for e in node[name]["schema"]["errors"]],
            "base": [f"{e['path']}: {e['message']}" for e in node[name]["base"]["errors"]],
            "profile": [f"{e['path']}: {e['message']}" for e in node[name]["profile"]["errors"]],
            "fhirkit": [str(i) for i in fhirkit.validate(body) if i.severity == "error"],
            "terminology": [f"{e['path']}: {e['message']}" for e in rep.errors],
        }
    result["_node"] = node
    (harness.WORK / "selftest-results.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


@pytest.mark.parametrize("name", list(DEFECTS))
def test_planted_defect(planted, name):
    what, must_reject = DEFECTS[name]
    got = planted[name]
    print(f"\nplanted defect {name!r}: {what}")
    for validator in ("schema", "fhirkit", "base", "profile", "terminology"):
        for line in got[validator]:
            print(f"  {validator}: {line}")
    for validator in must_reject:
        assert got[validator], f"{validator} accepted a Location with {what}"
    if name == "control":
        for validator in ("schema", "fhirkit", "base", "profile", "terminology"):
            assert not got[validator], f"{validator} rejected the unchanged served Location: {got[validator]}"


def test_whitelist_entries_are_still_needed(node_report):
    """Each whitelisted issue is an IG inconsistency shown by the StructureDefinition itself: the
    sliced element is a CodeableConcept, sliced on `url` (an element CodeableConcept does not have),
    and the slice is required. Each is also still produced by the served data (else: remove it)."""
    entries = json.loads(harness.WHITELIST.read_text())["entries"]
    sds = {json.loads(f.read_text())["url"]: json.loads(f.read_text())
           for f in harness.PROFILES_DIR.glob("StructureDefinition-*.json")}
    for w in entries:
        assert w["kind"] == "ig-inconsistency" and len(w["reason"]) > 80
        elements = {e["id"]: e for e in sds[w["profile"]]["snapshot"]["element"]}
        sliced = elements[w["sliced"]]
        assert [t["code"] for t in sliced["type"]] == ["CodeableConcept"], sliced["type"]
        assert sliced["slicing"]["discriminator"] == [{"type": "value", "path": "url"}], sliced["slicing"]
        assert not any(i.startswith(f"{w['sliced']}:{w['slice']}.url") for i in elements), "the slice now defines url"
        assert elements[f"{w['sliced']}:{w['slice']}"]["min"] >= 1
        assert w["path"] == w["sliced"] and f"slice '{w['slice']}'" in w["message"]
        used = sum(1 for s in node_report["samples"].values() for e in s["profile"]["whitelisted"]
                   if e["path"] == w["path"] and e["message"] == w["message"])
        assert used > 0, f"whitelist entry not used by the served data any more: {w['message']}"

"""The validators themselves: planted defects in copies of a real served Location must be rejected
(so a validator that passes everything would fail here), the unchanged copy must pass, and every
whitelist entry must still be an IG inconsistency that the served data meets (so it cannot rot)."""
from __future__ import annotations

import json

import pytest

import harness
from planted import DEFECTS, plant, served_location
from terminology import Report, Terminology

@pytest.fixture(scope="session")
def planted(corpus) -> dict[str, dict]:
    """Every validator run on each planted copy: name -> validator -> list of error strings."""
    import fhirkit

    loc = served_location(corpus)
    folder = harness.WORK / "selftest"
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for name in DEFECTS:
        copies[name] = plant(loc, name)
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

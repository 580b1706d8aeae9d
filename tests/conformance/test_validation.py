"""1. Validation of every captured response body, with four validators, one test per sample and
validator. A failing test lists every error: resource, path, message."""
from __future__ import annotations

import json

import pytest

from corpus import EXPECTED_STATUS, SAMPLES

MAX_SHOWN = 40


def _fail_with(errors: list[dict], what: str):
    lines = [json.dumps(e, ensure_ascii=False) for e in errors[:MAX_SHOWN]]
    more = f"\n... and {len(errors) - MAX_SHOWN} more" if len(errors) > MAX_SHOWN else ""
    pytest.fail(f"{len(errors)} {what} error(s):\n" + "\n".join(lines) + more, pytrace=False)


@pytest.mark.parametrize("sample", SAMPLES)
def test_status_and_media_type(corpus, sample):
    for c in corpus[sample]:
        assert c.status == EXPECTED_STATUS[sample], f"{c.method} {c.url}: HTTP {c.status}"
        assert c.content_type.startswith("application/fhir+json"), f"{c.url}: Content-Type {c.content_type!r}"
        assert isinstance(c.body, dict) and "resourceType" in c.body, f"{c.url}: body is not a FHIR resource"


@pytest.mark.parametrize("sample", SAMPLES)
def test_json_schema(node_report, sample):
    s = node_report["samples"][sample]["schema"]
    assert s["resources"] > 0
    if s["errors"]:
        _fail_with(s["errors"], "FHIR R4 JSON schema")


@pytest.mark.parametrize("sample", SAMPLES)
def test_fhirkit(fhirkit_report, sample):
    s = fhirkit_report[sample]
    assert s["resources"] > 0
    if s["errors"]:
        _fail_with(s["errors"], "fhirkit-rs")


@pytest.mark.parametrize("sample", SAMPLES)
def test_base_structure_definitions(node_report, sample):
    s = node_report["samples"][sample]["base"]
    assert s["resources"] > 0
    if s["errors"]:
        _fail_with(s["errors"], "@medplum/core (base R4 StructureDefinitions)")


@pytest.mark.parametrize("sample", SAMPLES)
def test_ror_profiles(node_report, corpus, sample):
    s = node_report["samples"][sample]["profile"]
    claimed = sum(1 for c in corpus[sample] for r in c.resources()
                  if r.get("resourceType") in ("Location", "HealthcareService") and r.get("meta", {}).get("profile"))
    # every Location and HealthcareService that claims a profile was validated against it
    assert s["byType"].get("Location", 0) + s["byType"].get("HealthcareService", 0) == claimed
    if s["errors"]:
        _fail_with(s["errors"], "@medplum/core (ROR IG profiles)")


@pytest.mark.parametrize("sample", SAMPLES)
def test_ror_terminology(terminology_report, sample):
    s = terminology_report[sample]
    if s["errors"]:
        _fail_with(s["errors"], "ROR terminology")


def test_every_resource_claims_its_profile(corpus):
    """Location and HealthcareService claim the ROR profiles; Organization claims ror-organization."""
    expected = {
        "Location": "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location",
        "HealthcareService": "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice",
        "Organization": "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-organization",
    }
    bad = []
    for sample, pages in corpus.items():
        for c in pages:
            for r in c.resources():
                want = expected.get(r.get("resourceType"))
                if want and want not in r.get("meta", {}).get("profile", []):
                    bad.append(f"{sample}: {r['resourceType']}/{r.get('id')} meta.profile={r.get('meta', {}).get('profile')}")
    assert not bad, "\n".join(bad[:MAX_SHOWN])


def test_sample_covers_every_shape(corpus, dataset):
    """The sample holds every place and offer of the dataset, and every resource type we emit."""
    seen: dict[str, set[str]] = {}
    for pages in corpus.values():
        for c in pages:
            for r in c.resources():
                seen.setdefault(r["resourceType"], set()).add(r.get("id", ""))
    assert seen.get("Location", set()) >= set(dataset.locations)
    assert seen.get("HealthcareService", set()) >= set(dataset.services)
    assert seen.get("Organization", set()) >= set(dataset.organizations)
    for t in ("Observation", "OperationOutcome", "CapabilityStatement", "Bundle"):
        assert t in seen or any(c.body.get("resourceType") == t for p in corpus.values() for c in p), t
    # the scenario-2 place is served differently to the access profiles
    bodies = {p: json.dumps(corpus[f"scenario-2-profile-{p}"][0].body.get("entry", [])[0]["resource"], sort_keys=True)
              for p in range(6)}
    assert len(set(bodies.values())) >= 3, "profiles 0-5 should not all see the same scenario-2 Location"


def test_counts(request, corpus, node_report, fhirkit_report, terminology_report):
    """Totals of this run (printed at the end, and written to counts.json)."""
    def total(rep, key):
        return sum(v[key] for k, v in rep.items() if not k.startswith("_"))

    by_type: dict[str, int] = {}
    responses = 0
    for pages in corpus.values():
        for c in pages:
            responses += 1
            for r in [c.body] + (c.resources() if c.body.get("resourceType") == "Bundle" else []):
                by_type[r["resourceType"]] = by_type.get(r["resourceType"], 0) + 1
    samples = node_report["samples"].values()
    schema = sum(s["schema"]["resources"] for s in samples)
    base = sum(s["base"]["resources"] for s in samples)
    prof = sum(s["profile"]["resources"] for s in samples)
    caps = sum(s["profile"]["capacityExtensions"] for s in samples)
    whitelisted = sum(len(s["profile"]["whitelisted"]) for s in samples)
    not_held: dict[str, int] = {}
    for s in samples:
        for k, v in s["profile"]["notHeld"].items():
            not_held[k] = not_held.get(k, 0) + v
    not_checked: dict[str, int] = {}
    for s in terminology_report.values():
        for k, v in s["not_checked"].items():
            not_checked[k] = not_checked.get(k, 0) + v
    errors = {
        "schema": sum(len(s["schema"]["errors"]) for s in samples),
        "medplum-base": sum(len(s["base"]["errors"]) for s in samples),
        "medplum-profile": sum(len(s["profile"]["errors"]) for s in samples),
        "fhirkit": sum(len(v["errors"]) for k, v in fhirkit_report.items() if not k.startswith("_")),
        "terminology": sum(len(v["errors"]) for v in terminology_report.values()),
    }
    totals = {
        "responses": responses,
        "resources_by_type": by_type,
        "schema_resources": schema,
        "fhirkit_resources": total(fhirkit_report, "resources"),
        "medplum_base_resources": base,
        "medplum_profile_resources": prof,
        "capacity_extensions": caps,
        "profile_issues_whitelisted": whitelisted,
        "profiles_not_held": not_held,
        "terminology_codings": total(terminology_report, "codings"),
        "terminology_bindings": total(terminology_report, "bindings"),
        "terminology_not_checked": not_checked,
        "errors": errors,
        "versions": {**node_report["versions"], **fhirkit_report["_versions"]},
        "node_seconds": node_report["seconds"],
    }
    short = lambda url: url.rstrip("/").split("/")[-1] if "/StructureDefinition/" in url else url.split("/NOS/")[-1].split("/")[0]  # noqa: E731
    totals["lines"] = [
        f"conformance counts: {responses} responses; resources by type {json.dumps(by_type, sort_keys=True)}",
        f"conformance counts: JSON schema {schema} resources, fhirkit-rs {totals['fhirkit_resources']}, "
        f"medplum base {base}, medplum ROR profiles {prof} (+ {caps} capacity extensions), "
        f"terminology {totals['terminology_codings']} codings / {totals['terminology_bindings']} bindings",
        f"conformance counts: errors {json.dumps(errors)}; profile issues whitelisted {whitelisted}; "
        f"profiles not held {json.dumps({short(k): v for k, v in not_held.items()})}; resources with a "
        f"binding not checked (value set not held) {json.dumps({short(k): v for k, v in not_checked.items()})}",
    ]
    request.config._conformance_totals = totals
    assert schema > 0 and base > 0 and prof > 0

"""Planted defects: what test_selftest.py feeds to the validators, and what CONFORMANCE_PLANT=NAME
injects into one served Location of the captured responses (run.sh then has to fail)."""
from __future__ import annotations

import copy

import harness

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


def served_location(corpus) -> dict:
    for c in corpus["scenario-2-profile-1"]:
        for r in c.resources():
            if r["resourceType"] == "Location" and any(e["url"] == harness.CAPACITY_URL for e in r.get("extension", [])):
                return r
    raise LookupError("no served Location with a capacity figure")


def plant(loc: dict, name: str) -> dict:
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

"""Error cases: each answers an OperationOutcome with an error issue (their bodies are also validated
by every validator, see test_validation.py); a clamped _count answers 200 with an OperationOutcome
entry (search.mode = outcome)."""
from __future__ import annotations

import pytest

ERRORS = {
    "error-unknown-param": 400,
    "error-read-unknown-id": 404,
    "error-unknown-type": 404,
    "error-bad-date": 400,
    "error-delete": 405,
    "error-profile5-observation": 403,
    "error-profile5-aggregates": 403,
}


@pytest.mark.parametrize("sample", sorted(ERRORS))
def test_error_is_operation_outcome(corpus, sample):
    c = corpus[sample][0]
    assert c.status == ERRORS[sample], f"{c.method} {c.url}: HTTP {c.status}"
    assert c.body.get("resourceType") == "OperationOutcome", c.body
    severities = [i.get("severity") for i in c.body.get("issue", [])]
    assert any(s in ("error", "fatal") for s in severities), severities


@pytest.mark.parametrize("sample,count", [("error-count-5000", 200), ("location-lenient-unknown-param", 5)])
def test_outcome_entry_in_bundle(corpus, sample, count):
    c = corpus[sample][0]
    assert c.status == 200 and c.body.get("resourceType") == "Bundle"
    outcomes = [e for e in c.body.get("entry", []) if e.get("search", {}).get("mode") == "outcome"]
    assert len(outcomes) == 1, f"{len(outcomes)} outcome entries"
    assert outcomes[0]["resource"]["resourceType"] == "OperationOutcome"
    assert {i.get("severity") for i in outcomes[0]["resource"]["issue"]} <= {"warning", "information"}
    matches = [e for e in c.body["entry"] if e.get("search", {}).get("mode") == "match"]
    assert len(matches) == count

"""Session fixtures: the expected dataset, the captured responses, and the validator reports."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from corpus import CORPUS_DIR, Captured, Collector, save  # noqa: E402


def pytest_configure(config):
    if not os.environ.get("CONF_BASE"):
        raise pytest.UsageError("run the conformance stage with tests/conformance/run.sh (it starts the server)")


TIMINGS: dict[str, float] = {}


def timed(name: str):
    class _T:
        def __enter__(self):
            self.t = time.monotonic()

        def __exit__(self, *exc):
            TIMINGS[name] = round(time.monotonic() - self.t, 1)

    return _T()


@pytest.fixture(scope="session")
def dataset() -> harness.Dataset:
    return harness.Dataset.load(harness.EXPECTED_NDJSON)


@pytest.fixture(scope="session")
def scenario_list(dataset):
    return harness.scenarios(dataset)


@pytest.fixture(scope="session")
def corpus(dataset) -> dict[str, list[Captured]]:
    with timed("collect responses"):
        out = Collector(dataset).collect()
    name = os.environ.get("CONFORMANCE_PLANT")
    if name:
        # Demonstration only: plant a defect in the Location of the captured scenario-2 response, as
        # if the server had sent it; the run must then fail.
        from planted import DEFECTS, plant

        if name not in DEFECTS or name == "control":
            raise pytest.UsageError(f"CONFORMANCE_PLANT must be one of {sorted(set(DEFECTS) - {'control'})}")
        entry = next(e for e in out["scenario-2-one"][0].body["entry"] if e["resource"]["resourceType"] == "Location")
        entry["resource"] = plant(entry["resource"], name)
        print(f"\nCONFORMANCE_PLANT={name}: {DEFECTS[name][0]}, in scenario-2-one")
    save(out)
    return out


@pytest.fixture(scope="session")
def node_report(corpus) -> dict:
    out = harness.WORK / "node-report.json"
    with timed("schema + medplum validation"):
        p = harness.run_node("validate.mjs", "--corpus", str(CORPUS_DIR), "--out", str(out),
                             "--profiles", str(harness.PROFILES_DIR), "--whitelist", str(harness.WHITELIST))
    if p.returncode != 0:
        pytest.fail(f"validate.mjs failed ({p.returncode}):\n{p.stderr[-4000:]}")
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def fhirkit_report(corpus) -> dict:
    import fhirkit

    report: dict[str, dict] = {}
    with timed("fhirkit-rs validation"):
        for sample, pages in corpus.items():
            s = report.setdefault(sample, {"resources": 0, "errors": [], "warnings": 0})
            for c in pages:
                body = c.body
                if body is None:
                    s["errors"].append({"resource": "(none)", "path": "", "message": "the response body is not JSON"})
                    continue
                # the whole response (a Bundle with its entries, paths say which entry) ...
                s["resources"] += 1 + (len(c.resources()) if body.get("resourceType") == "Bundle" else 0)
                for issue in fhirkit.validate(body):
                    if issue.severity == "error":
                        s["errors"].append({"resource": f"{body.get('resourceType')}/{body.get('id')}",
                                            "page": c.page, "path": issue.path, "message": issue.message})
                    else:
                        s["warnings"] += 1
    report["_versions"] = {"fhirkit-rs": fhirkit.__version__, "fhir": fhirkit.FHIR_VERSION}
    return report


@pytest.fixture(scope="session")
def terminology_report(corpus) -> dict:
    from terminology import Report, Terminology

    t = Terminology()
    out = {}
    with timed("terminology"):
        for sample, pages in corpus.items():
            rep = Report()
            n = 0
            for c in pages:
                for r in c.resources():
                    n += 1
                    t.check_resource(r, f"page {c.page}", rep)
            out[sample] = {"resources": n, "codings": rep.codings_checked, "bindings": rep.bindings_checked,
                           "not_checked": dict(rep.not_checked), "errors": rep.errors}
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Writes the counts that CONFORMANCE.md quotes, from this run."""
    totals = getattr(config, "_conformance_totals", None)
    if TIMINGS:
        terminalreporter.write_line("conformance timings (s): " + ", ".join(f"{k} {v}" for k, v in TIMINGS.items()))
    if totals:
        path = harness.WORK / "counts.json"
        path.write_text(json.dumps(totals, indent=1))
        for line in totals.get("lines", []):
            terminalreporter.write_line(line)

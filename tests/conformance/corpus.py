"""The responses that are validated: every emitted shape, fetched from the running server with the
harness's own HTTP session, and saved under $CONF_WORK/corpus (one file per response)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import requests

from harness import BASE, R329, R330, WORK, Dataset, scenarios, session

CORPUS_DIR = WORK / "corpus"
MAX_PAGES = 200  # a walk that does not end by then is a failure (loop in next links)


@dataclass
class Captured:
    sample: str
    page: int
    method: str
    url: str
    profile: int
    status: int
    content_type: str
    body: dict | None

    def resources(self) -> list[dict]:
        b = self.body or {}
        if b.get("resourceType") == "Bundle":
            return [e["resource"] for e in b.get("entry", []) if "resource" in e]
        return [b] if b else []


def _capture(sample: str, page: int, profile: int, r: requests.Response) -> Captured:
    try:
        body = r.json()
    except ValueError:
        body = None
    return Captured(sample, page, r.request.method, r.url, profile, r.status_code, r.headers.get("Content-Type", ""), body)


def next_link(bundle: dict | None) -> str | None:
    for link in (bundle or {}).get("link", []):
        if link.get("relation") == "next":
            return link.get("url")
    return None


# Every sample name is static (pytest parametrizes the validators over them).
SAMPLES = [
    "metadata",
    "scenario-1-all",
    "scenario-2-one",
    "scenario-3-several",
    "scenario-3-several-post",
    "scenario-4-since",
    "scenario-5-offers",
    *[f"scenario-2-profile-{p}" for p in range(6)],
    "read-Location",
    "read-HealthcareService",
    "read-Organization",
    "read-Observation",
    "observation-by-subject",
    "observation-by-code-R329-01",
    "observation-by-code-R330-02",
    "healthcareservice-include-location",
    "organization-search",
    "location-summary-count",
    "location-lenient-unknown-param",
    "aggregates-all",
    "read-MeasureReport",
    "read-Measure",
    "search-Measure-by-url",
    "error-unknown-param",
    "error-read-unknown-id",
    "error-unknown-type",
    "error-bad-date",
    "error-delete",
    "error-count-5000",
    "error-profile5-observation",
    "error-profile5-aggregates",
]

# Status expected for each sample (all pages).
EXPECTED_STATUS = {name: 200 for name in SAMPLES} | {
    "error-unknown-param": 400,
    "error-read-unknown-id": 404,
    "error-unknown-type": 404,
    "error-bad-date": 400,
    "error-delete": 405,
    "error-profile5-observation": 403,
    "error-profile5-aggregates": 403,
}


class Collector:
    def __init__(self, ds: Dataset):
        self.ds = ds
        self.sessions = {p: session(p) for p in range(6)}
        self.out: dict[str, list[Captured]] = {}
        self.scenarios = {s.name: s for s in scenarios(ds)}

    def get(self, sample: str, path: str, params: dict | None = None, profile: int = 1, walk: bool = False,
            method: str = "GET", data: dict | None = None, headers: dict | None = None) -> list[Captured]:
        s = self.sessions[profile]
        pages: list[Captured] = []
        r = s.request(method, f"{BASE}/{path}", params=params, data=data, headers=headers, timeout=120)
        pages.append(_capture(sample, 1, profile, r))
        while walk and (nxt := next_link(pages[-1].body)):
            if len(pages) >= MAX_PAGES:
                raise RuntimeError(f"{sample}: more than {MAX_PAGES} pages")
            r = s.get(nxt, timeout=120)
            pages.append(_capture(sample, len(pages) + 1, profile, r))
        self.out[sample] = pages
        return pages

    def collect(self) -> dict[str, list[Captured]]:
        ds, sc = self.ds, self.scenarios
        self.get("metadata", "metadata")
        self.get("scenario-1-all", "Location", sc["1-all"].params, walk=True)
        self.get("scenario-2-one", "Location", sc["2-one"].params, walk=True)
        self.get("scenario-3-several", "Location", sc["3-several"].params, walk=True)
        self.get("scenario-3-several-post", "Location/_search", method="POST", data=sc["3-several"].params, walk=True)
        self.get("scenario-4-since", "Location", sc["4-since"].params, walk=True)
        self.get("scenario-5-offers", "Location", sc["5-offers"].params, walk=True)
        for p in range(6):
            self.get(f"scenario-2-profile-{p}", "Location", sc["2-one"].params, profile=p, walk=True)

        loc_id = sorted(sc["2-one"].locations)[0]
        hcs_id = sorted(sc["2-one"].services)[0]
        org_id = sorted(ds.organizations)[0]
        self.get("read-Location", f"Location/{loc_id}")
        self.get("read-HealthcareService", f"HealthcareService/{hcs_id}")
        self.get("read-Organization", f"Organization/{org_id}")
        obs = self.get("observation-by-subject", "Observation", {"subject": f"Location/{loc_id}"}, walk=True)
        entries = (obs[0].body or {}).get("entry", [])
        obs_id = entries[0]["resource"]["id"] if entries else "none-found"
        self.get("read-Observation", f"Observation/{obs_id}")
        self.get("observation-by-code-R329-01", "Observation", {"code": f"{R329}|01"}, walk=True)
        self.get("observation-by-code-R330-02", "Observation", {"code": f"{R330}|02", "_count": "200"}, walk=True)
        self.get("healthcareservice-include-location", "HealthcareService",
                 {"_include": "HealthcareService:location", "_count": "50"})
        self.get("organization-search", "Organization", {"_count": "200"}, walk=True)
        self.get("location-summary-count", "Location", {"_summary": "count"})
        self.get("location-lenient-unknown-param", "Location", {"unknown": "1", "_count": "5"},
                 headers={"Prefer": "handling=lenient"})

        self.get("aggregates-all", "MeasureReport", {"_count": "500"})
        self.get("read-MeasureReport", "MeasureReport/departement-44")
        self.get("read-Measure", "Measure/ror-capacity-totals")
        self.get("search-Measure-by-url", "Measure",
                 {"url": "https://ror-capacity.github.io/fhir/Measure/ror-capacity-totals"})
        self.get("error-profile5-aggregates", "MeasureReport", profile=5)

        self.get("error-unknown-param", "Location", {"unknown": "1"})
        self.get("error-read-unknown-id", "Location/does-not-exist")
        self.get("error-unknown-type", "Patient")
        self.get("error-bad-date", "Location", {"_lastUpdated": "ge2023-13"})
        self.get("error-delete", f"Location/{loc_id}", method="DELETE")
        self.get("error-count-5000", "Location", {"_count": "5000"})
        self.get("error-profile5-observation", "Observation", profile=5)
        missing = set(SAMPLES) - set(self.out)
        if missing:
            raise RuntimeError(f"samples not collected: {sorted(missing)}")
        return self.out


def save(corpus: dict[str, list[Captured]], folder: Path = CORPUS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sample, pages in corpus.items():
        for c in pages:
            (folder / f"{sample}--{c.page:03d}.json").write_text(json.dumps(c.__dict__), encoding="utf-8")
    return folder

"""Shared helpers of the conformance stage: where the server is, its development PKI, the expected
dataset (read from `ror-capacity generate`), the plan of requests whose responses are validated,
and the Node scripts."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("CONF_REPO", HERE.parent.parent))
BASE = os.environ.get("CONF_BASE", "")
PKI = Path(os.environ.get("CONF_PKI", "."))
WORK = Path(os.environ.get("CONF_WORK", "."))
EXPECTED_NDJSON = Path(os.environ.get("CONF_EXPECTED", "expected.ndjson"))
NODE_MODULES = Path(os.environ.get("CONF_NODE_MODULES", "node_modules"))
PROFILES_DIR = REPO / "fhir-profiles"
WHITELIST = HERE / "whitelist.json"

CAPACITY_URL = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity"
PROFILE_LOCATION = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location"
PROFILE_HCS = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice"
PROFILE_ORG = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-organization"
R329 = "https://mos.esante.gouv.fr/NOS/TRE_R329-NatureCapacite/FHIR/TRE-R329-NatureCapacite"
R330 = "https://mos.esante.gouv.fr/NOS/TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite"


def cert(profile: int) -> tuple[str, str]:
    return (str(PKI / f"client-profile-{profile}.crt"), str(PKI / f"client-profile-{profile}.key"))


def ca() -> str:
    return str(PKI / "root-ca.crt")


def session(profile: int = 1) -> requests.Session:
    """The harness's own HTTP session (the clients under test configure theirs themselves)."""
    s = requests.Session()
    s.cert = cert(profile)
    s.verify = ca()
    s.headers["Accept"] = "application/fhir+json"
    return s


# ------------------------------------------------------------------------------ expected dataset
@dataclass
class Dataset:
    """The dataset the demo server imported, read independently from `generate`'s NDJSON."""

    locations: dict[str, dict] = field(default_factory=dict)
    services: dict[str, dict] = field(default_factory=dict)
    organizations: dict[str, dict] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # Location ids in file order

    @staticmethod
    def load(path: Path) -> "Dataset":
        ds = Dataset()
        with path.open(encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                t = r["resourceType"]
                if t == "Location":
                    ds.locations[r["id"]] = r
                    ds.order.append(r["id"])
                elif t == "HealthcareService":
                    ds.services[r["id"]] = r
                elif t == "Organization":
                    ds.organizations[r["id"]] = r
                else:
                    raise ValueError(f"unexpected resource type in the NDJSON: {t}")
        return ds

    @staticmethod
    def functional_id(location: dict) -> str:
        """Location functional id: the identifier whose type has code 25."""
        for ident in location.get("identifier", []):
            codes = [c.get("code") for c in ident.get("type", {}).get("coding", [])]
            if "25" in codes:
                return ident["value"]
        raise KeyError(f"Location/{location['id']} has no identifier of type 25")

    @staticmethod
    def offer_id(service: dict) -> str:
        return service["identifier"][0]["value"]

    def location_ids_of(self, service: dict) -> list[str]:
        out = []
        for ref in service.get("location", []):
            ref = ref.get("reference", "")
            if ref.startswith("Location/"):
                out.append(ref.split("/", 1)[1])
        return out

    def services_of(self, location_ids: set[str]) -> set[str]:
        return {sid for sid, s in self.services.items() if location_ids & set(self.location_ids_of(s))}

    def by_functional_id(self, fid: str) -> str:
        for lid, loc in self.locations.items():
            if self.functional_id(loc) == fid:
                return lid
        raise KeyError(fid)

    def effective_last_updated(self, location: dict) -> str:
        """meta.lastUpdated as the server serves it to a profile-1 consumer: the latest of the
        source's value and of the visible figures' capacityUpdateDate (README, "Importing data");
        the generated source value is never earlier than its figures'. All are UTC instants
        written YYYY-MM-DDThh:mm:ssZ in the generated set, so strings compare as instants."""
        values = [location["meta"]["lastUpdated"]]
        for ext in location.get("extension", []):
            if ext.get("url") == CAPACITY_URL:
                for sub in ext.get("extension", []):
                    if sub.get("url") == "capacityUpdateDate":
                        values.append(sub["valueDateTime"])
        for v in values:
            if len(v) != 20 or not v.endswith("Z"):
                raise ValueError(f"unexpected instant format in the generated data: {v!r}")
        return max(values)


# ------------------------------------------------------------------------------ scenarios
@dataclass
class Scenario:
    name: str
    params: dict[str, str]
    locations: set[str]
    services: set[str]


def scenarios(ds: Dataset) -> list[Scenario]:
    """The five ROR consultation scenarios, with inputs picked deterministically from the dataset,
    and the ids each must return (profile-1 consumer: every place, every figure)."""
    rev = {"_revinclude": "HealthcareService:location"}
    out = [Scenario("1-all", dict(rev), set(ds.locations), ds.services_of(set(ds.locations)))]

    one = pick_location(ds)
    fid = ds.functional_id(ds.locations[one])
    out.append(Scenario("2-one", {"identifier": fid, **rev}, {one}, ds.services_of({one})))

    n = len(ds.order)
    several = sorted({ds.order[i] for i in (3, n // 5, n // 2, (3 * n) // 4, n - 2)} | {one})
    fids = ",".join(ds.functional_id(ds.locations[i]) for i in several)
    out.append(Scenario("3-several", {"identifier": fids, **rev}, set(several), ds.services_of(set(several))))

    # _lastUpdated: a day boundary that selects about a tenth of the places
    days = sorted(ds.effective_last_updated(loc)[:10] for loc in ds.locations.values())
    day = days[int(len(days) * 0.9)]
    since = {lid for lid, loc in ds.locations.items() if ds.effective_last_updated(loc) >= f"{day}T00:00:00Z"}
    out.append(Scenario("4-since", {"_lastUpdated": f"ge{day}", **rev}, since, ds.services_of(since)))

    services = sorted(ds.services)
    offers = [services[i] for i in (1, len(services) // 3, (2 * len(services)) // 3)]
    offer_ids = ",".join(ds.offer_id(ds.services[s]) for s in offers)
    places = {lid for s in offers for lid in ds.location_ids_of(ds.services[s])}
    out.append(
        Scenario("5-offers", {"_has:HealthcareService:location:identifier": offer_ids, **rev}, places, ds.services_of(places))
    )
    return out


def pick_location(ds: Dataset) -> str:
    """A place whose served content differs by access profile: not linked to a sensitive unit, with
    an "installé / aucune" figure (seen by every profile but 5) and a "supplémentaire" figure
    (hidden from profiles 0, 2, 3)."""
    sensitive = {
        lid
        for s in ds.services.values()
        for ext in s.get("extension", [])
        if ext.get("url", "").endswith("ror-healthcareservice-sensitive-unit") and ext.get("valueBoolean")
        for lid in ds.location_ids_of(s)
    }
    for lid in ds.order:
        if lid in sensitive:
            continue
        statuses = set()
        for ext in ds.locations[lid].get("extension", []):
            if ext.get("url") != CAPACITY_URL:
                continue
            sub = {e["url"]: e for e in ext.get("extension", [])}
            status = sub["capacityStatus"]["valueCodeableConcept"]["coding"][0]["code"]
            assignment = sub["temporaryAssignement"]["valueCodeableConcept"]["coding"][0]["code"]
            statuses.add((status, assignment))
        if ("01", "01") in statuses and any(s == "06" for s, _ in statuses):
            return lid
    raise LookupError("no place with both an installed and a supplementary figure in the dataset")


# ------------------------------------------------------------------------------ Node scripts
def node_dir() -> Path:
    """Copies the Node scripts next to a link to the cached node_modules (ES modules resolve
    packages from the script's folder), once per run."""
    d = WORK / "node"
    if not (d / "node_modules").exists():
        d.mkdir(parents=True, exist_ok=True)
        (d / "node_modules").symlink_to(NODE_MODULES)
        (d / "package.json").write_text('{"type": "module"}\n')
    for script in (HERE / "node").glob("*.mjs"):
        shutil.copyfile(script, d / script.name)
    return d


def run_node(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    d = node_dir()
    return subprocess.run(
        ["node", str(d / script), *args], cwd=d, capture_output=True, text=True, timeout=timeout, check=False
    )

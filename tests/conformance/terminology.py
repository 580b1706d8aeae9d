"""Terminology check of the ROR codes: the IG's required bindings that neither the JSON schema, nor
fhirkit-rs, nor @medplum/core check (none of them expands value sets).

Data: the CodeSystems and ValueSets under ./terminology (see its SOURCE.md). Rules:

1. Every Coding whose `system` is a CodeSystem we hold must use one of its codes.
2. Each required binding of the ROR profiles (ror-location, ror-healthcareservice and the
   sub-extensions of ror-location-supported-capacity) to a ValueSet we can resolve: the
   CodeableConcept must carry at least one coding from it. A ValueSet resolves to
   - the JDV file when we hold it (J188, J189, J19, J198, J20, J237), or else
   - the whole TRE CodeSystem of the same concept name (JDV_J187-NatureCapacite-ROR ->
     TRE_R329-NatureCapacite) when we hold exactly one such CodeSystem; the JDVs we hold list
     every code of their TRE, and the IG's FSH source binds the TRE value sets for these elements.
   A binding that resolves to nothing we hold is counted as "not checked", never as passed.
3. Slices whose IG discriminator cannot select anything (0.1.1 slices CodeableConcept/Coding
   elements on `url`, which these types do not have) are counted by their binding instead: a value
   is in slice S when it has a coding from S's value set; min/max of S then apply.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import CAPACITY_URL, HERE, PROFILES_DIR

TERMINOLOGY_DIR = HERE / "terminology"
J237_AS_READ = "https://mos.esante.gouv.fr/NOS/JDV_J237-RegionOM-ROR.tabs/FHIR/JDV-J237-RegionOM-ROR"
J237 = "https://mos.esante.gouv.fr/NOS/JDV_J237-RegionOM-ROR/FHIR/JDV-J237-RegionOM-ROR"


@dataclass
class Binding:
    element: str  # element id in the profile
    valueset: str
    allowed: dict[str, set[str]] | None  # system -> codes; None: not resolvable
    how: str  # "JDV file", "TRE by name", "not held"
    min: int = 0
    max: float = float("inf")


@dataclass
class Report:
    codings_checked: int = 0
    bindings_checked: int = 0
    not_checked: Counter = field(default_factory=Counter)  # valueset -> occurrences
    errors: list[dict] = field(default_factory=list)


class Terminology:
    def __init__(self, folder: Path = TERMINOLOGY_DIR, profiles: Path = PROFILES_DIR):
        self.codesystems: dict[str, set[str]] = {}
        self.valuesets: dict[str, dict[str, set[str]]] = {}
        for f in sorted(folder.glob("CodeSystem-*.json")):
            cs = json.loads(f.read_text(encoding="utf-8"))
            self.codesystems[cs["url"]] = {c["code"] for c in cs.get("concept", [])}
        for f in sorted(folder.glob("ValueSet-*.json")):
            vs = json.loads(f.read_text(encoding="utf-8"))
            url = J237 if vs["url"] == J237_AS_READ else vs["url"]
            allowed: dict[str, set[str]] = {}
            for inc in vs.get("compose", {}).get("include", []):
                if "concept" in inc:
                    allowed.setdefault(inc["system"], set()).update(c["code"] for c in inc["concept"])
                elif inc.get("system") in self.codesystems:
                    allowed.setdefault(inc["system"], set()).update(self.codesystems[inc["system"]])
                else:
                    raise ValueError(f"{f.name}: include without concepts of an unknown code system")
            self.valuesets[url] = allowed
        self.profiles = {}
        for f in sorted(profiles.glob("StructureDefinition-*.json")):
            sd = json.loads(f.read_text(encoding="utf-8"))
            self.profiles[sd["url"]] = sd

    # -------------------------------------------------------------- value set resolution
    def resolve(self, valueset: str) -> tuple[dict[str, set[str]] | None, str]:
        vs = valueset.split("|")[0]
        if vs in self.valuesets:
            return self.valuesets[vs], "JDV file"
        m = re.search(r"/JDV_J\d+-(.+?)-ROR/", vs)
        if m:
            name = m.group(1)
            same = [u for u in self.codesystems if re.search(rf"/TRE_R\d+-{re.escape(name)}/", u)]
            if len(same) == 1:
                return {same[0]: self.codesystems[same[0]]}, "TRE by name"
        return None, "not held"

    def bindings(self, profile_url: str) -> list[Binding]:
        """Required bindings to ROR terminology of a profile's snapshot."""
        out = []
        for e in self.profiles[profile_url]["snapshot"]["element"]:
            b = e.get("binding") or {}
            vs = b.get("valueSet", "")
            if b.get("strength") != "required" or not vs.startswith("https://mos.esante.gouv.fr/"):
                continue
            allowed, how = self.resolve(vs)
            mx = e.get("max", "*")
            out.append(Binding(e["id"], vs, allowed, how, e.get("min", 0), float("inf") if mx == "*" else int(mx)))
        return out

    # -------------------------------------------------------------- checks
    def check_resource(self, r: dict, where: str, rep: Report) -> None:
        label = f"{r.get('resourceType')}/{r.get('id')}"
        self._codings(r, r.get("resourceType", ""), label, where, rep)
        for url in r.get("meta", {}).get("profile", []):
            if url in self.profiles and self.profiles[url]["type"] == r.get("resourceType"):
                self._profile_bindings(r, url, label, where, rep)
        for i, ext in enumerate(r.get("extension", [])):
            if ext.get("url") == CAPACITY_URL and CAPACITY_URL in self.profiles:
                self._capacity(ext, f"{r['resourceType']}.extension[{i}]", label, where, rep)

    def _err(self, rep: Report, label: str, where: str, path: str, msg: str) -> None:
        rep.errors.append({"resource": label, "where": where, "path": path, "message": msg})

    def _codings(self, node, path: str, label: str, where: str, rep: Report) -> None:
        if isinstance(node, dict):
            system, code = node.get("system"), node.get("code")
            if isinstance(system, str) and isinstance(code, str) and system in self.codesystems:
                rep.codings_checked += 1
                if code not in self.codesystems[system]:
                    self._err(rep, label, where, path, f"code {code!r} is not in code system {system}")
            for k, v in node.items():
                self._codings(v, f"{path}.{k}", label, where, rep)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self._codings(v, f"{path}[{i}]", label, where, rep)

    def _in(self, allowed: dict[str, set[str]], concept) -> bool:
        codings = concept.get("coding", []) if isinstance(concept, dict) and "coding" in concept else [concept]
        return any(isinstance(c, dict) and c.get("code") in allowed.get(c.get("system"), ()) for c in codings)

    def _describe(self, concept) -> str:
        codings = concept.get("coding", []) if isinstance(concept, dict) and "coding" in concept else [concept]
        return ", ".join(f"{c.get('system')}|{c.get('code')}" for c in codings if isinstance(c, dict)) or "no coding"

    def _capacity(self, ext: dict, path: str, label: str, where: str, rep: Report) -> None:
        for b in self.bindings(CAPACITY_URL):
            m = re.fullmatch(r"Extension\.extension:(\w+)\.value\[x\](?::valueCodeableConcept)?", b.element)
            if not m:
                continue
            for j, sub in enumerate(ext.get("extension", [])):
                if sub.get("url") != m.group(1):
                    continue
                if b.allowed is None:
                    rep.not_checked[b.valueset] += 1
                    continue
                rep.bindings_checked += 1
                value = sub.get("valueCodeableConcept")
                if value is None or not self._in(b.allowed, value):
                    self._err(rep, label, where, f"{path}.extension[{j}] ({m.group(1)})",
                              f"{self._describe(value or {})} is not in {b.valueset} ({b.how}), required binding")

    def _profile_bindings(self, r: dict, profile_url: str, label: str, where: str, rep: Report) -> None:
        rtype = r["resourceType"]
        for b in self.bindings(profile_url):
            eid = b.element
            if ".extension:" in eid or eid.startswith(f"{rtype}.extension"):
                continue  # bindings inside extension slices: only the capacity extension is held
            parts = eid.split(".")[1:]
            sliced = [i for i, p in enumerate(parts) if ":" in p]
            if len(sliced) > 1:
                raise NotImplementedError(f"{eid}: a binding under two slicings")
            values = list(_walk(r, [p.split(":")[0] for p in parts]))
            if b.allowed is None:
                if values:  # one per resource whose bound element has values we cannot check
                    rep.not_checked[b.valueset] += 1
                continue
            if sliced:
                # slice counted by binding (rule 3): values of the sliced element with a coding from the value set
                inside = [v for v in values if self._in(b.allowed, v)]
                rep.bindings_checked += 1
                if not (b.min <= len(inside) <= b.max):
                    self._err(rep, label, where, eid,
                              f"{len(inside)} value(s) with a coding from {b.valueset} ({b.how}); "
                              f"the slice needs {b.min}..{'*' if b.max == float('inf') else int(b.max)}")
            else:
                for v in values:
                    rep.bindings_checked += 1
                    if not self._in(b.allowed, v):
                        self._err(rep, label, where, eid,
                                  f"{self._describe(v)} is not in {b.valueset} ({b.how}), required binding")


def _walk(node, parts: list[str]):
    if not parts:
        if isinstance(node, list):
            yield from node
        elif node is not None:
            yield node
        return
    if isinstance(node, list):
        for v in node:
            yield from _walk(v, parts)
    elif isinstance(node, dict) and parts[0] in node:
        yield from _walk(node[parts[0]], parts[1:])

#!/usr/bin/env python3
"""Helpers of bench/run.sh: URL lists sampled from the dataset, the S4 update batch, oha summaries
and the final report. Identifiers are sampled at run time (fixed seed), never one hot key.

  workloads.py urls DATA.ndjson DIR          -> DIR/{s2,s3,s5}.txt (base https://X/fhir), DIR/s2_bytes
  workloads.py touch DATA.ndjson N RUN       -> N changed Locations as NDJSON on stdout
  workloads.py summarize OHA.json SIZE BACKEND WORKLOAD CONNS RUN -> one JSON line
  workloads.py report RESULTS.jsonl          -> markdown on stdout (medians over runs)
"""
import json
import random
import statistics
import sys
import urllib.parse

BASE = "https://X/fhir"
REV = "_revinclude=HealthcareService:location"
R211 = "https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-ActiviteOperationnelle"
# The specialties the generator gives offers (src/generate/catalog.rs).
SPECIALTIES = ["183", "356", "121", "224", "279", "412"]


def read(data):
    places, offers, sizes, loc_len = [], [], [], {}
    with open(data, encoding="utf-8") as f:
        current = None
        for line in f:
            r = json.loads(line)
            if r["resourceType"] == "Location":
                fid = next(i["value"] for i in r["identifier"] if i["type"]["coding"][0]["code"] == "25")
                places.append(fid)
                current = r["id"]
                loc_len[current] = len(line.encode())
            elif r["resourceType"] == "HealthcareService":
                offers.append(r["identifier"][0]["value"])
                loc_len[current] = loc_len.get(current, 0) + len(line.encode())
    sizes = list(loc_len.values())
    return places, offers, sizes


def urls(data, out):
    import os
    os.makedirs(out, exist_ok=True)
    places, offers, sizes = read(data)
    rng = random.Random(7)
    q = urllib.parse.quote
    with open(f"{out}/s2.txt", "w") as f:
        for _ in range(2000):
            f.write(f"{BASE}/Location?identifier={q(rng.choice(places), safe='')}&{REV}\n")
    with open(f"{out}/s3.txt", "w") as f:
        for _ in range(300):
            f.write(f"{BASE}/Location?identifier={q(','.join(rng.sample(places, min(50, len(places)))), safe='')}&{REV}\n")
    with open(f"{out}/s5.txt", "w") as f:
        for _ in range(300):
            ids = rng.sample(offers, min(50, len(offers)))
            f.write(f"{BASE}/Location?_has:HealthcareService:location:identifier={q(','.join(ids), safe='')}&{REV}\n")
    # A regulator's query: free beds (or places) in a region, with the offers.
    regions = sorted({p.split("/")[0] for p in places})
    with open(f"{out}/reg.txt", "w") as f:
        for _ in range(300):
            nature = rng.choice(["01", "02"])
            f.write(f"{BASE}/Location?capacity-type={nature}&capacity-status=02&nb-capacity=gt0"
                    f"&_tag={rng.choice(regions)}&{REV}\n")
    # The IG's offer search: a specialty, chained capacity criteria, the places included.
    with open(f"{out}/offer.txt", "w") as f:
        for _ in range(300):
            specialty = q(f"{R211}|{rng.choice(SPECIALTIES)}", safe="")
            f.write(f"{BASE}/HealthcareService?specialty={specialty}&location.capacity-type=01"
                    "&location.capacity-status=02&location.nb-capacity=gt0&_include=HealthcareService:location\n")
    # A search answer for one place: the place, its offers, and ~600 bytes of Bundle envelope.
    s2 = int(statistics.mean(sizes)) + 600
    with open(f"{out}/s2_bytes", "w") as f:
        f.write(str(s2))
    print(s2)


def touch(data, n, run):
    rng = random.Random(1000 + run)
    with open(data, encoding="utf-8") as f:
        locations = [line for line in f if line.startswith('{"resourceType":"Location"')]
    for line in rng.sample(locations, min(n, len(locations))):
        r = json.loads(line)
        for ext in r.get("extension", []):
            if ext["url"].endswith("ror-location-supported-capacity"):
                for sub in ext["extension"]:
                    if sub["url"] == "nbCapacity":
                        sub["valueInteger"] += run
                break
        print(json.dumps(r, ensure_ascii=False, separators=(",", ":")))


def summarize(path, size, backend, workload, conns, run):
    with open(path, encoding="utf-8") as f:
        o = json.load(f)
    s = o.get("summary", {})
    p = o.get("latencyPercentiles", {})
    codes = o.get("statusCodeDistribution", {})
    ms = lambda k: round(1000 * (p.get(k) or 0), 3)
    print(json.dumps({
        "size": int(size), "backend": backend, "measure": workload, "conns": int(conns), "run": int(run),
        "rps": round(s.get("requestsPerSec", 0), 1), "success": s.get("successRate"),
        "p50_ms": ms("p50"), "p99_ms": ms("p99"), "p999_ms": ms("p99.9"), "status": codes,
    }))


def report(results):
    rows = [json.loads(l) for l in open(results, encoding="utf-8") if l.strip()]
    out = ["| size | backend | workload | conns | req/s | p50 ms | p99 ms | p99.9 ms | of ceiling "
           "| of its bytes' ceiling |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    groups = {}
    for r in rows:
        if "rps" in r:
            groups.setdefault((r["size"], r["backend"], r["measure"], r["conns"]), []).append(r)
    ceiling, same_bytes = {}, {}
    for (size, backend, w, c), rs in groups.items():
        if w == "ceiling":
            ceiling[(size, backend, c)] = statistics.median(x["rps"] for x in rs)
        elif w.startswith("ceiling-"):
            same_bytes[(size, backend, w[len("ceiling-"):], c)] = statistics.median(x["rps"] for x in rs)
    order = {"ceiling": 0, "s2": 1, "s3": 2, "s4": 3, "s4nm": 4, "s5": 5, "reg": 6, "offer": 7,
             "ceiling-s3": 8, "ceiling-s4": 9, "ceiling-s5": 10, "ceiling-s1": 11}
    for key in sorted(groups, key=lambda k: (k[0], k[1], order.get(k[2], 9), k[3])):
        size, backend, w, c = key
        rs = groups[key]
        med = lambda f: statistics.median(x[f] for x in rs)
        frac = med("rps") / ceiling[(size, backend, c)] if ceiling.get((size, backend, c)) else None
        own = same_bytes.get((size, backend, w, c))
        own = f"{100 * med('rps') / own:.0f}%" if own else ""
        # S4NM polls with the answer's ETag: 304 is its success.
        expected = {"304"} if w == "s4nm" else {"200"}
        bad = [x["status"] for x in rs if set(x["status"]) - expected]
        note = f" (non-200: {bad})" if bad else ""
        out.append(f"| {size} | {backend} | {w.upper()}{note} | {c} | {med('rps'):.0f} | {med('p50_ms'):.2f} | "
                   f"{med('p99_ms'):.2f} | {med('p999_ms'):.2f} | {'' if frac is None else f'{100*frac:.0f}%'} | {own} |")
    out += ["", "| size | backend | import s | database bytes per place | S1 walk: places/s "
            "| S1 pages/s of its bytes' ceiling | S1 peak RSS MB | S1 gzip walk: places/s "
            "| S1 MB on the wire (plain / gzip) |", "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for size, backend in sorted({(r["size"], r["backend"]) for r in rows}):
        imp = [r["seconds"] for r in rows if r["size"] == size and r["backend"] == backend and r["measure"] == "import"]
        walks = [r["walk"] for r in rows if r["size"] == size and r["backend"] == backend and r["measure"] == "s1"]
        gz = [r["walk"] for r in rows if r["size"] == size and r["backend"] == backend and r["measure"] == "s1gz"]
        lps = statistics.median(w["locations_per_s"] for w in walks) if walks else 0
        rss = max(w["peak_rss_mb"] for w in walks) if walks else 0
        gz_lps = f"{statistics.median(w['locations_per_s'] for w in gz):.0f}" if gz else ""
        wire = (f"{walks[0].get('wire_bytes', 0) / 1e6:.0f} / {gz[0]['wire_bytes'] / 1e6:.0f}"
                if gz and walks else "")
        pps = statistics.median(w["pages"] / w["seconds"] for w in walks) if walks else 0
        own = same_bytes.get((size, backend, "s1", 1))
        own = f"{100 * pps / own:.0f}%" if own and pps else ""
        sizes = [r["bytes"] for r in rows if r["size"] == size and r["backend"] == backend and r["measure"] == "db_size"]
        per_place = f"{statistics.median(sizes) / size:,.0f}" if sizes else ""
        out.append(f"| {size} | {backend} | {statistics.median(imp):.1f} | {per_place} | {lps:.0f} | {own} | {rss:.0f} "
                   f"| {gz_lps} | {wire} |")
    out += ["", "| size | backend | export resources | export resources/s | of S1 walk places/s "
            "| peak RSS MB (before) | files MB | download MB/s |", "|---:|---|---:|---:|---:|---|---:|---:|"]
    for size, backend in sorted({(r["size"], r["backend"]) for r in rows}):
        ex = [r["export"] for r in rows if r["size"] == size and r["backend"] == backend and r["measure"] == "export"]
        walks = [r["walk"] for r in rows if r["size"] == size and r["backend"] == backend and r["measure"] == "s1"]
        if not ex:
            continue
        rps = statistics.median(e["resources_per_s"] for e in ex)
        lps = statistics.median(w["locations_per_s"] for w in walks) if walks else 0
        ratio = f"{rps / lps:.1f}x" if lps else ""
        before = max(e["rss_before_mb"] for e in ex)
        out.append(f"| {size} | {backend} | {ex[0]['resources']} | {rps:.0f} | {ratio} | "
                   f"{max(e['peak_rss_mb'] for e in ex):.0f} ({before:.0f}) | {ex[0]['file_bytes'] / 1e6:.0f} | "
                   f"{statistics.median(e['download_mb_per_s'] for e in ex):.0f} |")
    out += ["", *targets(rows)]
    print("\n".join(out))


def targets(rows):
    """The issues' targets, each checked against this run's medians (one line per size)."""
    def med(size, backend, w, c, field):
        v = [r[field] for r in rows if r.get("measure") == w and r["size"] == size and r["backend"] == backend
             and r.get("conns") == c]
        return statistics.median(v) if v else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    checks = []
    for size in sorted({r["size"] for r in rows}):
        def line(what, value, fmt, ok):
            if value is not None:
                checks.append(f"| {what} | {size} | {fmt.format(value)} | {'yes' if ok(value) else 'no'} |")
        for c, floor in ((16, 0.5), (1, 0.7)):
            line(f"13: SQLite S2 ≥ {floor:.0%} of the ceiling, {c} conn.",
                 ratio(med(size, "sqlite", "s2", c, "rps"), med(size, "sqlite", "ceiling", c, "rps")),
                 "{:.0%}", lambda v, f=floor: v >= f)
            line(f"13: SQLite S2 p99 ≤ 3× p50, {c} conn.",
                 ratio(med(size, "sqlite", "s2", c, "p99_ms"), med(size, "sqlite", "s2", c, "p50_ms")),
                 "{:.1f}×", lambda v: v <= 3)
            line(f"13: PostgreSQL S2 ≥ 60% of SQLite's req/s, {c} conn.",
                 ratio(med(size, "postgres", "s2", c, "rps"), med(size, "sqlite", "s2", c, "rps")),
                 "{:.0%}", lambda v: v >= 0.6)
        for w in ("s3", "s4", "s5"):
            line(f"13: PostgreSQL {w.upper()} p50 ≤ 1.5× SQLite's",
                 ratio(med(size, "postgres", w, 1, "p50_ms"), med(size, "sqlite", w, 1, "p50_ms")),
                 "{:.2f}×", lambda v: v <= 1.5)
        for w in ("s3", "s4", "s5"):
            line(f"13: SQLite {w.upper()} ≥ 60% of its bytes' ceiling, 1 conn.",
                 ratio(med(size, "sqlite", w, 1, "rps"), med(size, "sqlite", f"ceiling-{w}", 1, "rps")),
                 "{:.0%}", lambda v: v >= 0.6)
        if size >= 100000:
            for backend, limit in (("sqlite", 60), ("postgres", 120)):
                imp = [r["seconds"] for r in rows if r["measure"] == "import" and r["size"] == size
                       and r["backend"] == backend]
                line(f"13: {backend} import ≤ {limit} s", statistics.median(imp) if imp else None, "{:.1f} s",
                     lambda v, lim=limit: v <= lim)
            line("11: SQLite REG p50 ≤ 5 ms", med(size, "sqlite", "reg", 1, "p50_ms"), "{:.2f} ms", lambda v: v <= 5)
            ex = [r["export"] for r in rows if r["measure"] == "export" and r["size"] == size
                  and r["backend"] == "sqlite"]
            walks = [r["walk"] for r in rows if r["measure"] == "s1" and r["size"] == size
                     and r["backend"] == "sqlite"]
            if ex and walks:
                rps = statistics.median(e["resources_per_s"] for e in ex)
                lps = statistics.median(w["locations_per_s"] for w in walks)
                line("12: SQLite `$export` ≥ 100,000 resources/s", rps, "{:,.0f}", lambda v: v >= 100000)
                line("12: SQLite `$export` ≥ 10× the S1 walk's places/s", rps / lps, "{:.1f}×", lambda v: v >= 10)
                line("12: server RSS ≤ 150 MB during `$export`", max(e["peak_rss_mb"] for e in ex), "{:.0f} MB",
                     lambda v: v <= 150)
    if not checks:
        return []
    return ["| target (issue: what) | size | this run | met |", "|---|---:|---:|---|", *checks]


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "urls":
        urls(*args)
    elif cmd == "touch":
        touch(args[0], int(args[1]), int(args[2]))
    elif cmd == "summarize":
        summarize(*args)
    elif cmd == "report":
        report(args[0])
    else:
        sys.exit(f"unknown command {cmd}")

#!/usr/bin/env python3
"""Interleaved comparison of two builds on this machine (bench/run.sh ONLY=ab).

  ab.py OUT.json DATA.ndjson PKI OHA URLS_DIR BACKEND ROUNDS DURATION -- reference=BIN current=BIN

Each build imports DATA into its own database (timed: wall and CPU of the import process), gets
the same S4 batch (100 changed places), then ROUNDS rounds alternate the builds (ABBA order) and
run, per round and build, one server (core 1, 1 worker, 4 connections, as bench/run.sh) under each
workload with oha (core 0) for DURATION, then the scenario 1 walk (bench/walk.py: places/s and the
server's peak RSS, after the loads as in bench/run.sh). Report: medians per build and their ratio, so that
a noisy machine moves both sides of a ratio alike.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from overload import start_server, stop_server  # noqa: E402

WORKLOADS = [("ceiling", 1), ("ceiling", 16), ("s2", 1), ("s2", 16), ("s3", 1), ("s3", 16),
             ("s4", 1), ("s4", 16), ("s5", 1), ("s5", 16), ("reg", 1), ("reg", 16), ("offer", 1), ("offer", 16)]


def workloads():
    """WORKLOADS, or those named in AB_WORKLOADS (e.g. "s2 c16,s3 c1")."""
    only = [x.strip() for x in os.environ.get("AB_WORKLOADS", "").split(",") if x.strip()]
    return [(w, c) for w, c in WORKLOADS if not only or f"{w} c{c}" in only]


def timed_import(binary, db_url, data):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([binary, "--database-url", db_url, "import", data], check=True, capture_output=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(wall, 2), round(cpu, 2)


def fresh_db(backend, label):
    if backend == "sqlite":
        path = f"/var/cache/ror-capacity/bench/ab-{label}.db"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return f"sqlite://{path}"
    name = f"ror_ab_{label}"
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{name}?sslmode={os.environ.get('PG_SSLMODE', 'disable')}"


def oha_run(oha, pki, urls, conns, duration):
    res = subprocess.run(
        ["taskset", "-c", "0", oha, "--no-tui", "--disable-compression", "--output-format", "json", "-z", duration, "-c", str(conns),
         "--cacert", f"{pki}/root-ca.crt", "--cert", f"{pki}/client-profile-1.crt",
         "--key", f"{pki}/client-profile-1.key", "--urls-from-file", urls],
        capture_output=True, text=True, check=True)
    s = json.loads(res.stdout)
    codes = s.get("statusCodeDistribution") or {}
    return {"rps": s["summary"]["requestsPerSec"], "p50_ms": 1000 * s["latencyPercentiles"]["p50"],
            "non200": sum(v for k, v in codes.items() if k != "200")}


def walk(base, pki, pid):
    """Scenario 1 after the loads, as bench/run.sh walks it: places/s and the server's peak RSS."""
    res = subprocess.run(["taskset", "-c", "0", "python3", os.path.join(os.path.dirname(__file__), "walk.py"),
                          base, pki, str(pid)], capture_output=True, text=True, check=True)
    w = json.loads(res.stdout)
    return {"places_per_s": w["locations_per_s"], "peak_rss_mb": w["peak_rss_mb"]}


def main(out, data, pki, oha, urls_dir, backend, rounds, duration, builds):
    dbs, imports = {}, {}
    touch = f"{out}.touch.ndjson"
    with open(touch, "w") as f:
        subprocess.run(["python3", os.path.join(os.path.dirname(__file__), "workloads.py"), "touch", data, "100", "1"],
                       stdout=f, check=True)
    since = {}
    for label, binary in builds:
        dbs[label] = fresh_db(backend, label)
        imports[label] = [timed_import(binary, dbs[label], data)]
        since[label] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        time.sleep(1.1)
        subprocess.run([binary, "--database-url", dbs[label], "import", touch], check=True, capture_output=True)
        if backend == "postgres":
            db = dbs[label].rsplit("/", 1)[1].split("?", 1)[0]
            subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-c", "VACUUM ANALYZE"],
                           check=True)
    # More imports, alternating, into fresh databases (the served ones stay as they are).
    for r in range(int(os.environ.get("IMPORT_ROUNDS", "3")) - 1):
        order = builds if r % 2 else builds[::-1]
        for label, binary in order:
            imports[label].append(timed_import(binary, fresh_db(backend, f"{label}_imp"), data))
    samples = {label: {} for label, _ in builds}
    for r in range(rounds):
        order = builds if r % 2 == 0 else builds[::-1]
        for label, binary in order:
            log = open(f"{out}.{label}.log", "a")
            proc, port = start_server(binary, dbs[label], pki, log, workers=1, pool=4)
            base = f"https://127.0.0.1:{port}/fhir"
            for w, c in workloads():
                urls = f"{out}.{w}.{label}.urls"
                with open(urls, "w") as f:
                    if w == "ceiling":
                        f.write(f"https://127.0.0.1:{port}/bench/ceiling\n")
                    elif w == "s4":
                        f.write(f"{base}/Location?_lastUpdated=ge{since[label]}&_revinclude=HealthcareService:location\n")
                    else:
                        for line in open(f"{urls_dir}/{w}.txt"):
                            f.write(line.replace("https://X/fhir", base))
                samples[label].setdefault(f"{w} c{c}", []).append(oha_run(oha, pki, urls, c, duration))
            samples[label].setdefault("s1 walk", []).append(walk(base, pki, proc.pid))
            stop_server(proc)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    ref, cur = builds[0][0], builds[1][0]
    report = {"backend": backend, "rounds": rounds, "duration": duration, "imports": imports, "workloads": {}}
    walks = {lab: samples[lab].pop("s1 walk") for lab in (ref, cur)}
    report["s1_walk"] = {lab: {m: statistics.median(x[m] for x in walks[lab]) for m in ("places_per_s", "peak_rss_mb")}
                         for lab in (ref, cur)}
    for key in samples[ref]:
        med = {lab: {m: statistics.median(x[m] for x in samples[lab][key]) for m in ("rps", "p50_ms")}
               for lab in (ref, cur)}
        report["workloads"][key] = {
            "reference": med[ref], "current": med[cur],
            "rps_ratio": round(med[cur]["rps"] / med[ref]["rps"], 3),
            "p50_ratio": round(med[cur]["p50_ms"] / med[ref]["p50_ms"], 3),
            "non200": {lab: sum(x["non200"] for x in samples[lab][key]) for lab in (ref, cur)},
        }
    imp = {lab: (statistics.median(w for w, _ in imports[lab]), statistics.median(c for _, c in imports[lab]))
           for lab in (ref, cur)}
    report["import_median"] = {lab: {"wall_s": imp[lab][0], "cpu_s": imp[lab][1]} for lab in (ref, cur)}
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    args = sys.argv[1:]
    sep = args.index("--")
    out, data, pki, oha, urls_dir, backend, rounds, duration = args[:sep]
    builds = [tuple(a.split("=", 1)) for a in args[sep + 1:]]
    main(out, data, pki, oha, urls_dir, backend, int(rounds), duration, builds)

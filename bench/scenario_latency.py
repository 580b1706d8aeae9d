#!/usr/bin/env python3
"""Sequential latency of the five ROR scenarios over one keep-alive mTLS connection.

A rough, single-client timing (no load): for each scenario, N requests with identifiers sampled
from the dataset at run time, reporting median and p95 wall time per request and the response size.

Usage: bench/scenario_latency.py BASE_URL PKI_DIR DATASET.ndjson [N]
  e.g. bench/scenario_latency.py https://127.0.0.1:8443/fhir dev-pki demo.ndjson 200
"""
import http.client
import json
import random
import ssl
import statistics
import sys
import time
import urllib.parse


def main() -> int:
    base, pki, dataset = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    rng = random.Random(42)
    places, offers, stamps = [], [], []
    with open(dataset, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["resourceType"] == "Location":
                fid = next(i["value"] for i in r["identifier"] if i["type"]["coding"][0]["code"] == "25")
                places.append(fid)
                stamps.append(r["meta"]["lastUpdated"])
            elif r["resourceType"] == "HealthcareService":
                offers.append(r["identifier"][0]["value"])
    stamps.sort()
    since = stamps[-max(1, len(stamps) // 1000)][:19]  # ~0.1% most recent places
    u = urllib.parse.urlsplit(base)
    ctx = ssl.create_default_context(cafile=f"{pki}/root-ca.crt")
    ctx.load_cert_chain(f"{pki}/client-profile-1.crt", f"{pki}/client-profile-1.key")
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
    q = urllib.parse.quote
    rev = "_revinclude=HealthcareService:location"
    scenarios = {
        "S1 first page (200 places + offers)": lambda: f"Location?{rev}",
        "S2 one identifier": lambda: f"Location?identifier={q(rng.choice(places))}&{rev}",
        "S3 50 identifiers": lambda: f"Location?identifier={q(','.join(rng.sample(places, 50)))}&{rev}",
        "S4 _lastUpdated=ge (~0.1% of places)": lambda: f"Location?_lastUpdated=ge{q(since)}&{rev}",
        "S5 _has with 50 offer ids": lambda: f"Location?_has:HealthcareService:location:identifier={q(','.join(rng.sample(offers, 50)))}&{rev}",
    }
    print(f"{'scenario':40} {'median ms':>10} {'p95 ms':>8} {'bytes':>9}")
    for name, make in scenarios.items():
        times, size = [], 0
        for i in range(n + 5):
            path = f"{u.path}/{make()}"
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/fhir+json"})
            resp = conn.getresponse()
            body = resp.read()
            dt = time.perf_counter() - t0
            if resp.status != 200:
                print(f"{name}: HTTP {resp.status}: {body[:200]!r}")
                return 1
            if i >= 5:  # warm-up
                times.append(dt * 1000)
                size = len(body)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{name:40} {statistics.median(times):10.2f} {p95:8.2f} {size:9d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Scenario 1 at scale: walk every page of `Location?_revinclude=HealthcareService:location`
following `next` over one keep-alive mTLS connection, while sampling the server's RSS from /proc.

Usage: bench/walk.py BASE_URL PKI_DIR SERVER_PID
Prints one JSON object: locations, included, pages, seconds, locations_per_s, peak_rss_mb
(the max of VmRSS samples every 50 ms and of VmHWM at the end).
"""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse


def rss_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main() -> int:
    base, pki, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    u = urllib.parse.urlsplit(base)
    ctx = ssl.create_default_context(cafile=f"{pki}/root-ca.crt")
    ctx.load_cert_chain(f"{pki}/client-profile-1.crt", f"{pki}/client-profile-1.key")
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
    peak = [rss_kb(pid, "VmRSS")]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid, "VmRSS"))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    path = f"{u.path}/Location?_revinclude=HealthcareService:location&_count=200"
    locations = included = pages = 0
    total = None
    t0 = time.perf_counter()
    while path:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            print(f"HTTP {resp.status} on {path}: {body[:300]!r}", file=sys.stderr)
            return 1
        b = json.loads(body)
        total = b.get("total", total)
        pages += 1
        for e in b.get("entry", []):
            if e["search"]["mode"] == "match":
                locations += 1
            elif e["search"]["mode"] == "include":
                included += 1
        nxt = next((l["url"] for l in b.get("link", []) if l["relation"] == "next"), None)
        path = None
        if nxt:
            n = urllib.parse.urlsplit(nxt)
            path = f"{n.path}?{n.query}"
    secs = time.perf_counter() - t0
    done.set()
    t.join()
    peak_kb = max(peak[0], rss_kb(pid, "VmHWM"))
    if total is not None and locations != total:
        print(f"walked {locations} locations but total is {total}", file=sys.stderr)
        return 1
    print(json.dumps({
        "locations": locations, "included": included, "pages": pages, "seconds": round(secs, 2),
        "locations_per_s": round(locations / secs), "peak_rss_mb": round(peak_kb / 1024, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

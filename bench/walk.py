#!/usr/bin/env python3
"""Scenario 1 at scale: walk every page of `Location?_revinclude=HealthcareService:location`
following `next` over one keep-alive mTLS connection, while sampling the server's RSS from /proc.

Usage: bench/walk.py BASE_URL PKI_DIR SERVER_PID [ENCODING]
Prints one JSON object: locations, included, pages, seconds, locations_per_s, peak_rss_mb
(the max of VmRSS samples every 50 ms and of VmHWM at the end), wire_bytes (the bodies as sent)
and body_bytes (decoded). With ENCODING (gzip or br), each page is asked for with
`Accept-Encoding: ENCODING` and decoded by the client (`br` needs the `brotli` module).

The client does not parse the 2 MB pages as JSON (that would cost it as much as the server spends
answering, and the walk is sequential): the Bundle's `total` and `link` come before its entries, and
entries are counted by their `search.mode`, which the server writes in a fixed form. The first page
is checked against a full JSON parse, so a change of layout fails the walk instead of miscounting.
"""
import http.client
import json
import re
import ssl
import sys
import threading
import time
import urllib.parse
import zlib


def rss_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


NEXT = re.compile(rb'"relation":"next","url":"([^"]+)"')
TOTAL = re.compile(rb'"total":(\d+)')


def scan(body: bytes) -> tuple:
    """(total or None, matches, includes, next URL or None) of a searchset, without parsing it."""
    head = body[: body.find(b'"entry":[')] if b'"entry":[' in body else body
    t = TOTAL.search(head)
    n = NEXT.search(head)
    return (int(t.group(1)) if t else None, body.count(b'"search":{"mode":"match"}'),
            body.count(b'"search":{"mode":"include"}'), n.group(1).decode() if n else None)


def parse(body: bytes) -> tuple:
    b = json.loads(body)
    modes = [e["search"]["mode"] for e in b.get("entry", [])]
    nxt = next((l["url"] for l in b.get("link", []) if l["relation"] == "next"), None)
    return (b.get("total"), modes.count("match"), modes.count("include"), nxt)


def main() -> int:
    base, pki, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    encoding = sys.argv[4] if len(sys.argv) > 4 else None
    headers = {"Accept-Encoding": encoding} if encoding else {}
    wire = decoded = 0
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
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        wire += len(body)
        sent_as = resp.getheader("Content-Encoding")
        if encoding and sent_as != encoding:
            print(f"asked for {encoding}, got {sent_as!r} on {path}", file=sys.stderr)
            return 1
        if sent_as == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif sent_as == "br":
            import brotli  # noqa: PLC0415 (only for br walks)
            body = brotli.decompress(body)
        decoded += len(body)
        if resp.status != 200:
            print(f"HTTP {resp.status} on {path}: {body[:300]!r}", file=sys.stderr)
            return 1
        page_total, matches, includes, nxt = scan(body)
        if pages == 0 and (page_total, matches, includes, nxt) != parse(body):
            print(f"page layout not understood: {scan(body)} != {parse(body)}", file=sys.stderr)
            return 1
        total = page_total if page_total is not None else total
        pages += 1
        locations += matches
        included += includes
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
        "wire_bytes": wire, "body_bytes": decoded,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

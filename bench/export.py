#!/usr/bin/env python3
"""Bulk Data export at scale: kicks off `$export?_type=Location,HealthcareService,Organization`
over mTLS, polls the status URL every POLL seconds until the manifest comes, while sampling the
server's RSS from /proc every 20 ms; then downloads every file once (plain) and counts its lines.

Usage: bench/export.py BASE_URL PKI_DIR SERVER_PID
Prints one JSON object: resources (the manifest's counts), seconds (kick-off to manifest, so the
queueing and the polling's granularity are included), resources_per_s, rss_before_mb,
peak_rss_mb (the largest sample while the job ran: a server's VmHWM also holds the loads run
before), file_bytes, download_seconds and download_mb_per_s, lines (downloaded; must equal
resources).
"""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

POLL = 0.02


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    base, pki, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    u = urllib.parse.urlsplit(base)
    ctx = ssl.create_default_context(cafile=f"{pki}/root-ca.crt")
    ctx.load_cert_chain(f"{pki}/client-profile-1.crt", f"{pki}/client-profile-1.key")
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)

    def get(path: str, headers=None):
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()

    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    t0 = time.perf_counter()
    status, headers, body = get(f"{u.path}/$export?_type=Location,HealthcareService,Organization",
                                {"Prefer": "respond-async", "Accept": "application/fhir+json"})
    if status != 202:
        print(f"kick-off answered {status}: {body[:300]!r}", file=sys.stderr)
        return 1
    poll = urllib.parse.urlsplit(headers["Content-Location"]).path
    while True:
        status, _, body = get(poll)
        if status == 200:
            break
        if status not in (202, 429):
            print(f"poll answered {status}: {body[:300]!r}", file=sys.stderr)
            return 1
        time.sleep(POLL)
    seconds = time.perf_counter() - t0
    done.set()
    manifest = json.loads(body)
    resources = sum(o["count"] for o in manifest["output"])
    t1 = time.perf_counter()
    size = lines = 0
    for o in manifest["output"]:
        conn.request("GET", urllib.parse.urlsplit(o["url"]).path)
        r = conn.getresponse()
        if r.status != 200:
            print(f"download answered {r.status}", file=sys.stderr)
            return 1
        while chunk := r.read(1 << 20):
            size += len(chunk)
            lines += chunk.count(b"\n")
    download = time.perf_counter() - t1
    conn.request("DELETE", poll)
    conn.getresponse().read()
    print(json.dumps({
        "resources": resources, "seconds": round(seconds, 3), "resources_per_s": round(resources / seconds),
        "rss_before_mb": round(before / 1024, 1), "peak_rss_mb": round(peak[0] / 1024, 1),
        "file_bytes": size, "download_seconds": round(download, 3),
        "download_mb_per_s": round(size / download / 1e6, 1), "lines": lines,
        "by_type": {o["type"]: o["count"] for o in manifest["output"]},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

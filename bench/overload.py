#!/usr/bin/env python3
"""Overload and database-restart measures of bench/run.sh (ONLY=overload, ONLY=restart).

  overload.py overload OUT.json PKI OHA URLS DURATION CONNS... -- LABEL=BIN=DB_URL ...
      For each build and each connection count: the server's RSS idle, oha with CONNS connections
      for DURATION (RSS sampled every 100 ms), RSS 5 s after the load stopped; served (2xx) req/s,
      shed (503) and other answers, latency percentiles of the whole run.
  overload.py restart OUT.json DATA.ndjson PKI URLS SECONDS_DOWN -- LABEL=BIN ...
      A private PostgreSQL cluster (pg_createcluster, trust auth, free port) loaded with DATA; 8
      client threads of S2 over mTLS; PostgreSQL stopped with -m fast 3 s into the load, started
      SECONDS_DOWN later; answers by status, the longest wait for a 503, and the time from the
      start of PostgreSQL to the first 200 and to the last non-200.

Both start the server as bench/run.sh does (core 1, mTLS, profile-1 client) but with 2 workers and
the default pool, as the issue's measure did.
"""
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import http.client
import urllib.parse


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tls_context(pki):
    ctx = ssl.create_default_context(cafile=f"{pki}/root-ca.crt")
    ctx.load_cert_chain(f"{pki}/client-profile-1.crt", f"{pki}/client-profile-1.key")
    return ctx


def start_server(binary, db_url, pki, log, workers=2, pool=None):
    port = free_port()
    extra = ["--pool-size", str(pool)] if pool else []
    proc = subprocess.Popen(
        ["taskset", "-c", "1", binary, "--database-url", db_url, "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--tls-cert", f"{pki}/server.crt", "--tls-key", f"{pki}/server.key",
         "--client-ca", f"{pki}/client-trust.pem", "--consumers", f"{pki}/consumers.toml",
         "--bench-ceiling-bytes", "11000", *extra],
        stdout=log, stderr=log)
    ctx = tls_context(pki)
    for _ in range(150):
        try:
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
            c.request("GET", "/fhir/metadata")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def overload(out, pki, oha, urls, duration, conns, builds):
    results = []
    for label, binary, db_url in builds:
        for c in conns:
            log = open(f"{out}.{label}-c{c}.log", "w")
            proc, port = start_server(binary, db_url, pki, log)
            run_urls = f"{out}.{label}-c{c}.urls"
            with open(urls) as src, open(run_urls, "w") as dst:
                for line in src:
                    dst.write(line.replace("https://X/fhir", f"https://127.0.0.1:{port}/fhir"))
            time.sleep(1)
            before = rss_kb(proc.pid)
            peak, stop = [before], threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], rss_kb(proc.pid))
                    time.sleep(0.1)

            sampler = threading.Thread(target=sample)
            sampler.start()
            res = subprocess.run(
                ["taskset", "-c", "0", oha, "--no-tui", "--disable-compression", "--output-format", "json", "--stats-success-breakdown", "-z", duration, "-c", str(c),
                 "--cacert", f"{pki}/root-ca.crt", "--cert", f"{pki}/client-profile-1.crt",
                 "--key", f"{pki}/client-profile-1.key", "--urls-from-file", run_urls],
                capture_output=True, text=True)
            stop.set()
            sampler.join()
            time.sleep(5)
            after = rss_kb(proc.pid)
            stop_server(proc)
            with open(f"{out}.{label}-c{c}.oha.json", "w") as raw:
                raw.write(res.stdout)
            s = json.loads(res.stdout)
            codes = {int(k): v for k, v in (s.get("statusCodeDistribution") or {}).items()}
            ok = s.get("latencyPercentilesSuccessful") or {}
            bad = s.get("latencyPercentilesNotSuccessful") or {}
            secs = s["summary"]["total"]
            served = sum(v for k, v in codes.items() if 200 <= k < 300)
            pct = s.get("latencyPercentiles", {})
            results.append({
                "build": label, "conns": c, "seconds": round(secs, 2),
                "served_rps": round(served / secs, 1), "served": served, "shed_503": codes.get(503, 0),
                "other": {str(k): v for k, v in codes.items() if k not in (200, 503)},
                "errors": s.get("errorDistribution", {}),
                "p50_ms": round(pct.get("p50", 0) * 1000, 1), "p99_ms": round(pct.get("p99", 0) * 1000, 1),
                "max_ms": round(s["summary"].get("slowest", 0) * 1000, 1),
                "served_p50_ms": round((ok.get("p50") or 0) * 1000, 1),
                "served_p99_ms": round((ok.get("p99") or 0) * 1000, 1),
                "shed_p50_ms": round((bad.get("p50") or 0) * 1000, 1),
                "rss_mb": {"before": round(before / 1024), "peak": round(peak[0] / 1024), "after": round(after / 1024)},
            })
            print(json.dumps(results[-1]), file=sys.stderr)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)


def pg(cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def restart(out, data, pki, urls, down, builds):
    version = max(os.listdir("/etc/postgresql"))
    port = free_port()
    name = f"ror_bench_restart_{port}"
    pg(["pg_createcluster", version, name, "-p", str(port), "--", "--auth=trust"])
    results = []
    try:
        pg(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"])
        paths = []
        with open(urls) as f:
            for line in f:
                paths.append(line.strip().replace("https://X", ""))
        for label, binary, *_ in builds:
            subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
                            "-c", f"CREATE DATABASE ror_{label}"], check=True, capture_output=True)
            db_url = f"postgres://postgres@127.0.0.1:{port}/ror_{label}"
            subprocess.run([binary, "--database-url", db_url, "import", data], check=True, capture_output=True)
            log = open(f"{out}.{label}.log", "w")
            proc, sport = start_server(binary, db_url, pki, log)
            answers, stop = [], threading.Event()
            lock = threading.Lock()

            def client(t):
                ctx = tls_context(pki)
                conn, i = None, t
                while not stop.is_set():
                    i += 1
                    began = time.monotonic()
                    try:
                        if conn is None:
                            conn = http.client.HTTPSConnection("127.0.0.1", sport, context=ctx, timeout=30)
                        conn.request("GET", paths[i % len(paths)])
                        r = conn.getresponse()
                        r.read()
                        status = r.status
                        if r.getheader("connection", "").lower() == "close":
                            conn.close()
                            conn = None
                    except (OSError, http.client.HTTPException):
                        status = 0  # connection dropped
                        conn = None
                    with lock:
                        answers.append((began, time.monotonic(), status))

            threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            time.sleep(3)
            pg(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop", "-m", "fast"])
            stopped = time.monotonic()
            time.sleep(down)
            pg(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"])
            started = time.monotonic()
            time.sleep(8)
            stop.set()
            for t in threads:
                t.join()
            stop_server(proc)
            by = {}
            for _, _, s in answers:
                by[str(s)] = by.get(str(s), 0) + 1
            first_ok = min((e for b, e, s in answers if s == 200 and b >= started), default=None)
            last_bad = max((e for b, e, s in answers if s != 200), default=None)
            waits_503 = [e - b for b, e, s in answers if s == 503]
            results.append({
                "build": label, "answers": len(answers), "by_status": by,
                "seconds_down": round(started - stopped, 1),
                "first_200_after_start_s": None if first_ok is None else round(first_ok - started, 2),
                "last_failure_after_start_s": None if last_bad is None else round(last_bad - started, 2),
                "longest_503_wait_s": round(max(waits_503), 2) if waits_503 else None,
                "median_503_wait_s": round(statistics.median(waits_503), 3) if waits_503 else None,
                "load_seconds": round(time.monotonic() - t0, 1),
            })
            print(json.dumps(results[-1]), file=sys.stderr)
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)


def builds_of(args):
    return [tuple(a.split("=", 2)) for a in args]


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    sep = rest.index("--")
    head, builds = rest[:sep], builds_of(rest[sep + 1:])
    if cmd == "overload":
        out, pki, oha, urls, duration, *conns = head
        overload(out, pki, oha, urls, duration, [int(c) for c in conns], builds)
    elif cmd == "restart":
        out, data, pki, urls, down = head
        restart(out, data, pki, urls, float(down), builds)
    else:
        raise SystemExit(__doc__)

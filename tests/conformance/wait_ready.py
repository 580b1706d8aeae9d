"""Waits until the server answers GET /metadata over mTLS with the profile-1 certificate."""
import argparse
import os
import sys
import time

import requests
import urllib3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    base, pki = os.environ["CONF_BASE"], os.environ["CONF_PKI"]
    pid = int(os.environ["CONF_SERVER_PID"])
    deadline = time.monotonic() + args.timeout
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            print("wait_ready: the server process exited", file=sys.stderr)
            return 1
        cert = (f"{pki}/client-profile-1.crt", f"{pki}/client-profile-1.key")
        ca = f"{pki}/root-ca.crt"
        if os.path.exists(cert[0]) and os.path.exists(ca):
            try:
                r = requests.get(f"{base}/metadata", cert=cert, verify=ca, timeout=10)
                if r.status_code == 200 and r.json().get("resourceType") == "CapabilityStatement":
                    return 0
                last = f"HTTP {r.status_code}"
            except (requests.RequestException, ValueError, urllib3.exceptions.HTTPError) as e:
                last = type(e).__name__
        else:
            last = "PKI not written yet"
        time.sleep(0.5)
    print(f"wait_ready: timed out ({last})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

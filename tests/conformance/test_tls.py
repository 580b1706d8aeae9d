"""TLS behaviour that real clients depend on. Clients that cache TLS sessions (Node's https and
undici, so fhir-kit-client; openssl s_client -sess_in; Python's ssl with `session=`) offer the
session of an earlier connection when they open a new one; the server must then either resume it or
fall back to a full handshake, never abort the handshake."""
from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

import pytest

import harness


def _get_metadata(ctx: ssl.SSLContext, session=None):
    u = urlsplit(harness.BASE)
    with socket.create_connection((u.hostname, u.port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname=u.hostname, session=session) as s:
            s.sendall(f"GET {u.path}/metadata HTTP/1.1\r\nHost: {u.hostname}\r\nAccept: application/fhir+json\r\n"
                      "Connection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            return data.split(b"\r\n", 1)[0].decode(), s.session, s.session_reused


@pytest.mark.parametrize("version", ["TLSv1_3", "TLSv1_2"])
def test_tls_session_resumption(version):
    ctx = ssl.create_default_context(cafile=harness.ca())
    ctx.load_cert_chain(*harness.cert(1))
    ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
    status, session, _ = _get_metadata(ctx)
    assert status.startswith("HTTP/1.1 200"), status
    assert session is not None
    try:
        status2, _, _ = _get_metadata(ctx, session)
    except ssl.SSLError as e:
        status2 = f"TLS handshake aborted by the server: {e.reason or e}"
    assert status2.startswith("HTTP/1.1 200"), (
        f"{version}: a second connection offering the first one's TLS session: {status2}. A client that "
        "resumes sessions (Node's https/undici, hence fhir-kit-client) fails on its next new connection.")

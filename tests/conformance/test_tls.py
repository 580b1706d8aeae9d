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


def _get_metadata(ctx: ssl.SSLContext, session=None, path: str = "metadata"):
    u = urlsplit(harness.BASE)
    with socket.create_connection((u.hostname, u.port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname=u.hostname, session=session) as s:
            s.sendall(f"GET {u.path}/{path} HTTP/1.1\r\nHost: {u.hostname}\r\nAccept: application/fhir+json\r\n"
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


@pytest.mark.parametrize("profile,status", [(1, "200"), (5, "403")])
def test_resumed_session_keeps_the_client_identity(profile, status):
    """On a resumed session the server must still know the client certificate: profile 5 may not
    read Observations (403), profile 1 may (200)."""
    ctx = ssl.create_default_context(cafile=harness.ca())
    ctx.load_cert_chain(*harness.cert(profile))
    first, session, _ = _get_metadata(ctx, path="Observation?_count=1")
    assert first.split(" ")[1] == status, first
    try:
        second, _, reused = _get_metadata(ctx, session, path="Observation?_count=1")
    except ssl.SSLError as e:
        pytest.fail(f"resumption refused ({e.reason or e}): see test_tls_session_resumption", pytrace=False)
    assert second.split(" ")[1] == status, f"resumed={reused}: {second}"

"""Client certificate for the Bulk Data client of test_bulk_export.py, without modifying it.

smart-fetch and its HTTP layer (cumulus-fhir-support, httpx) have no option for a TLS client
certificate: they only take SMART, Basic or Bearer credentials. The server under test requires
mutual TLS. httpx builds its client SSL context with `ssl.create_default_context` (trusting the CA
file named by SSL_CERT_FILE), so this module, which Python imports at start-up when its folder is
on PYTHONPATH (the `site` module's "sitecustomize" hook), wraps that function: every context it
makes for checking a server (Purpose.SERVER_AUTH) also loads the certificate and key named by
MTLS_CLIENT_CERT and MTLS_CLIENT_KEY. Server-side contexts are untouched, and without
MTLS_CLIENT_CERT this module does nothing.

A certificate or key that cannot be loaded stops the process at once: otherwise the client would
retry the failed handshakes for about 17 minutes before saying anything.
"""
import os
import ssl
import sys

_CERT = os.environ.get("MTLS_CLIENT_CERT")
_KEY = os.environ.get("MTLS_CLIENT_KEY") or None

if _CERT:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(_CERT, _KEY)
    except (OSError, ssl.SSLError) as e:
        sys.exit(f"sitecustomize (mTLS shim): cannot load MTLS_CLIENT_CERT={_CERT} MTLS_CLIENT_KEY={_KEY}: {e}")

    _create_default_context = ssl.create_default_context

    def create_default_context(purpose=ssl.Purpose.SERVER_AUTH, *args, **kwargs):
        ctx = _create_default_context(purpose, *args, **kwargs)
        if purpose == ssl.Purpose.SERVER_AUTH:
            ctx.load_cert_chain(_CERT, _KEY)
        return ctx

    create_default_context.__doc__ = _create_default_context.__doc__
    ssl.create_default_context = create_default_context

"""One TLS context per trust setting for every outgoing HTTPS client.

Loading the CA bundle costs tens of milliseconds and a few hundred kilobytes each time; a context can
serve any number of clients and connections, so the process makes each kind once.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context(*, trust_env: bool = True) -> ssl.SSLContext:
    """httpx's default verifying context: certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when
    ``trust_env`` (as an ``httpx.AsyncClient`` does by default)."""
    return httpx.create_ssl_context(trust_env=trust_env)

"""Fetching URLs that someone else chose, guarded against SSRF, with a small HTTP cache.

Switchboard fetches URLs that someone else chose: OAuth Client ID Metadata Documents (a ``client_id`` that
is an https URL) and remote MCP servers' protected-resource (RFC 9728) and authorization-server (RFC 8414)
metadata, and it talks to the servers those documents name. Whoever writes those documents picks the URL,
so every request, and every redirect hop, is checked before it connects:

- https only (plain http too when the policy says so), no user name or password, no fragment;
- the host is spelt as a DNS name or an IP address literal in its one standard form: no octal, hex,
  short or zero-padded IPv4 spellings, no empty labels, no invalid punycode (``addresses``); the same
  check refuses such a URL wherever Switchboard takes one to call later (``checked_url``);
- every address the host resolves to is public unicast: no loopback, private, link-local, carrier-grade
  NAT, multicast, reserved or unspecified address, nor one of those embedded in an IPv6 address, unless
  the admin allows private addresses, names the host, or allowed the origin (``addresses``);
- the connection goes to an address that was checked, so a DNS answer that changes between check and
  connect (DNS rebinding) cannot move the request elsewhere;
- for documents (``SafeFetcher``, in ``fetcher``): one deadline for the whole fetch, a byte limit read as
  a stream, a redirect limit, JSON only, and freshness after RFC 9111 (``cache``);
- for any other request (``GuardedTransport``, in ``transport``): the same URL and address checks on an
  httpx transport, with ``GuardedClient`` refusing the URLs httpx cannot even parse the same way.

``policy`` holds what a fetch may do (``FetchPolicy``) and why one was refused (``FetchRefused``).
"""

from __future__ import annotations

from switchboard.platform.core.safe_fetch.addresses import (
    Resolver,
    Target,
    checked_url,
    origin,
    resolve_host,
)
from switchboard.platform.core.safe_fetch.fetcher import FetchedDocument, SafeFetcher
from switchboard.platform.core.safe_fetch.policy import FetchPolicy, FetchRefused, Refusal
from switchboard.platform.core.safe_fetch.transport import GuardedClient, GuardedTransport, TrustedOrigin

__all__ = [
    "FetchPolicy",
    "FetchRefused",
    "FetchedDocument",
    "GuardedClient",
    "GuardedTransport",
    "Refusal",
    "Resolver",
    "SafeFetcher",
    "Target",
    "TrustedOrigin",
    "checked_url",
    "origin",
    "resolve_host",
]

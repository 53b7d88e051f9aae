"""The SSRF checks on a URL before anything connects to it: its form, and every address its host resolves to.

A URL passes when it is https (or http, when the policy allows it), carries no user name, password or
fragment, and names a host whose addresses are all public unicast. The host must be spelt as DNS or an IP
address literal (RFC 3986 §3.2.2, RFC 1123 §2.1): a name whose last label is a number is read as an IPv4
address, as browsers read it (WHATWG URL), and must then be one in dotted-decimal form; octal, hex, short
or zero-padded spellings (``0177.0.0.1``, ``0x7f.1``, ``2130706433``, ``127.0.0.01``), empty labels and
invalid punycode (``xn--``) are refused as invalid, whatever the resolver would make of them. Loopback,
private, link-local, carrier-grade NAT and reserved addresses (and those embedded in an IPv6 address:
mapped, 6to4, NAT64, IPv4-compatible) pass only when the admin allows private addresses or names the host;
unspecified and multicast addresses never do. Callers connect only to the addresses returned here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import anyio
import httpx
import msgspec

from switchboard.platform.core.safe_fetch.policy import FetchPolicy, FetchRefused, Refusal

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Looks up a host name (ASCII) and port; returns IP address strings. Injected by tests."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Not even an admin's allowance makes these a sensible place to fetch a document from.
_NEVER_ALLOWED = frozenset({"unspecified", "multicast"})
# A DNS label (letters, digits, hyphens; underscores too, as some real names hold them), and a label that
# makes the name an IPv4 address in a browser's eyes (decimal, or 0x hex).
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class Target(msgspec.Struct, frozen=True):
    """A URL that passed the syntactic checks, with the host name and port to resolve."""

    url: httpx.URL
    host: str
    port: int


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to; getaddrinfo runs in a worker thread so the loop never blocks."""
    # Bytes skip anyio's IDNA step: the host is already ASCII (punycode) and may hold e.g. underscores.
    infos = await anyio.getaddrinfo(host.encode("ascii"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_url(url: str, policy: FetchPolicy) -> Target:
    """``url`` parsed, when it passes the policy's syntactic checks (scheme, no credentials, host, port).

    Raises FetchRefused (``Refusal.INVALID_URL``) and nothing else, whatever the text.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError, TypeError):
        raise FetchRefused(url, Refusal.INVALID_URL, why_invalid(url)) from None
    schemes = ("https",) if policy.require_https else ("https", "http")
    if parsed.scheme not in schemes:
        allowed = " and ".join(schemes)
        detail = f"only {allowed} URLs are allowed"
        raise FetchRefused(url, Refusal.INVALID_URL, detail, waivable=parsed.scheme == "http")
    if parsed.userinfo:
        raise FetchRefused(url, Refusal.INVALID_URL, "the URL must not contain a user name or password")
    if "#" in url:
        raise FetchRefused(url, Refusal.INVALID_URL, "the URL must not contain a fragment")
    if not parsed.raw_host:
        raise FetchRefused(url, Refusal.INVALID_URL, "the URL has no host")
    host = parsed.raw_host.decode("ascii")
    if not valid_host(host) or not _decodable(parsed):
        raise FetchRefused(url, Refusal.INVALID_URL, f"{host} is not a valid host name or IP address")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise FetchRefused(url, Refusal.INVALID_URL, "the port is out of range")
    return Target(parsed, host, port)


def valid_host(host: str) -> bool:
    """Whether ``host`` (ASCII, as httpx gives it; an IPv6 address without brackets) is a DNS name or an
    IP address literal, spelt the one way every resolver and browser reads alike."""
    if ":" in host:  # no zone ID (%25...): it names an interface of this machine
        return "%" not in host and isinstance(_ip(host), ipaddress.IPv6Address)
    name = host.lower().removesuffix(".")
    labels = name.split(".")
    if not name or len(name) > 253:
        return False
    if _NUMERIC.match(labels[-1]):
        return isinstance(_ip(name), ipaddress.IPv4Address)  # four decimal parts, no leading zeros
    return all(_LABEL.match(label) and label != "xn--" for label in labels)


def origin(target: Target) -> str:
    """The target's origin, ``scheme://host:port`` with the port always written: how allowances name it."""
    host = normal_host(target.host)
    if ":" in host:
        host = f"[{host}]"
    return f"{target.url.scheme}://{host}:{target.port}"


async def checked_addresses(
    target: Target, policy: FetchPolicy, allowed_hosts: frozenset[str], resolver: Resolver
) -> list[str]:
    """The addresses to connect to: all of the host's addresses, each one checked."""
    url = str(target.url)
    literal = _ip(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a) for a in await resolver(target.host, target.port)]
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise FetchRefused(url, Refusal.UNRESOLVABLE, f"the host {target.host} could not be found")
    trusted = policy.allow_private or normal_host(target.host) in allowed_hosts
    for address in addresses:
        kind = _address_kind(address)
        if kind is not None and (kind in _NEVER_ALLOWED or not trusted):
            what = f"{_article(kind)} {kind} address, which is not allowed"
            detail = (
                f"{target.host} is {what}"
                if literal is not None
                else f"{target.host} resolves to {address}, {what}"
            )
            raise FetchRefused(url, Refusal.ADDRESS, detail, waivable=kind not in _NEVER_ALLOWED)
    return [str(address) for address in addresses]


def normal_host(host: str) -> str:
    """A host name as ``FetchPolicy.allowed_hosts`` compares it."""
    return host.strip().lower().rstrip(".")


def _address_kind(address: IPAddress) -> str | None:
    """``None`` for a public unicast address, otherwise what kind of address it is, for the message."""
    if isinstance(address, ipaddress.IPv6Address) and not (address.is_loopback or address.is_unspecified):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return _address_kind(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address in _CARRIER_GRADE_NAT:
        return "carrier-grade NAT"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, 6to4, NAT64, IPv4-compatible), if any.

    Python's ``is_global`` calls several of these global whatever IPv4 address they carry.
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_invalid(url: str) -> str:
    """What is wrong with a URL httpx could not parse: its host, when that is what it is."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if host and host.isprintable() and (not valid_host(host) or not _decodable_host(host)):
        return f"{host[:100]} is not a valid host name or IP address"
    return "it is not a valid URL"


def _decodable_host(host: str) -> bool:
    try:
        return _decodable(httpx.URL(scheme="https", host=host))
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return False


def _decodable(url: httpx.URL) -> bool:
    """Whether httpx can decode the host's punycode (``xn--`` labels, IDNA 2008), as it does to write the
    Host header of every request."""
    try:
        url.host  # noqa: B018 - decoding is the check
    except (UnicodeError, ValueError):
        return False
    return True


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"

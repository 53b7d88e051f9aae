"""Guarded fetching of untrusted URLs: SSRF refusals, limits, redirects, pinning and the HTTP cache.

A small HTTP server on 127.0.0.1 plays the remote side and misbehaves on purpose. Because it is on
loopback, the default policy must refuse it; the tests that need it allow private addresses or name the
host. Host names other than ``localhost`` go through an injected resolver, so nothing touches the internet.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path

import httpx
import msgspec
import pytest

from switchboard.platform.core.errors import InvalidInput
from switchboard.platform.core.safe_fetch import FetchPolicy, FetchRefused, Refusal, SafeFetcher, checked_url
from tests.support.document_server import (
    DocumentServer,
    Handler,
    Request,
    answer,
    certificate,
    redirect,
    resolving,
    write,
)

DOCUMENT = {"client_id": "https://docs.example/client.json", "client_name": "Example"}
LOCAL = FetchPolicy(allow_private=True, require_https=False, timeout_seconds=2.0)
START = 1_700_000_000.0


def json_answer(*headers: tuple[str, str], document: object = DOCUMENT) -> Handler:
    return answer(200, json.dumps(document).encode(), ("Content-Type", "application/json"), *headers)


async def endless_chunks(request: Request, writer: asyncio.StreamWriter) -> None:
    await write(writer, 200, b"", [("Transfer-Encoding", "chunked")])
    while True:
        writer.write(b"400\r\n" + b" " * 1024 + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0)


async def claims_ten_megabytes(request: Request, writer: asyncio.StreamWriter) -> None:
    await write(writer, 200, b'{"a": ', [("Content-Length", "10000000")])
    await asyncio.sleep(30)


async def sleeps_before_answering(request: Request, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def trickles_one_byte_at_a_time(request: Request, writer: asyncio.StreamWriter) -> None:
    body = json.dumps(DOCUMENT).encode()
    await write(writer, 200, b"", [("Content-Length", str(len(body)))])
    for byte in body:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)


def revalidated_by_etag() -> Handler:
    body = json.dumps(DOCUMENT).encode()

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.headers.get("if-none-match") == '"v1"':
            await write(writer, 304, b"", [("ETag", '"v1"'), ("Cache-Control", "max-age=30")])
        else:
            await write(writer, 200, body, [("ETag", '"v1"'), ("Cache-Control", "no-cache")])

    return handle


def revalidated_by_date(last_modified: str) -> Handler:
    body = json.dumps(DOCUMENT).encode()

    async def handle(request: Request, writer: asyncio.StreamWriter) -> None:
        if request.headers.get("if-modified-since") == last_modified:
            await write(writer, 304)
        else:
            await write(
                writer, 200, body, [("Last-Modified", last_modified), ("Cache-Control", "max-age=10")]
            )

    return handle


def routes() -> dict[str, Handler]:
    http_date = formatdate(START, usegmt=True)
    table: dict[str, Handler] = {
        "/doc": json_answer(("Cache-Control", "max-age=60")),
        "/a": json_answer(("Cache-Control", "max-age=60")),
        "/b": json_answer(("Cache-Control", "max-age=60")),
        "/c": json_answer(("Cache-Control", "max-age=60")),
        "/plain": json_answer(),
        "/no-store": json_answer(("Cache-Control", "no-store")),
        "/expires": json_answer(("Date", http_date), ("Expires", formatdate(START + 120, usegmt=True))),
        "/for-ever": json_answer(("Cache-Control", "public, max-age=99999999")),
        "/etag": revalidated_by_etag(),
        "/last-modified": revalidated_by_date(http_date),
        "/exactly-4096-bytes": answer(200, b'"' + b"x" * 4094 + b'"'),
        "/html": answer(200, b"<html><body>Hello</body></html>", ("Content-Type", "text/html")),
        "/deep": answer(200, b"[" * 5000 + b"]" * 5000),
        "/gone": answer(404, b"{}"),
        "/gzip": answer(200, gzip.compress(json.dumps(DOCUMENT).encode()), ("Content-Encoding", "gzip")),
        "/claims-ten-megabytes": claims_ten_megabytes,
        "/endless": endless_chunks,
        "/slow": sleeps_before_answering,
        "/trickle": trickles_one_byte_at_a_time,
        "/loop": redirect("/loop"),
        "/to-ftp": redirect("ftp://127.0.0.1/doc"),
        "/to-file": redirect("file:///etc/passwd"),
        "/hop/0": json_answer(),
    }
    for hop in range(1, 6):
        table[f"/hop/{hop}"] = redirect(f"/hop/{hop - 1}", status=(301, 302, 303, 307, 308)[hop - 1])
    return table


@pytest.fixture
async def server() -> AsyncIterator[DocumentServer]:
    running = DocumentServer(routes())
    await running.start()
    yield running
    await running.stop()


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def no_lookups(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} was looked up, though the URL alone decides")


async def refusal(fetcher: SafeFetcher, url: str) -> FetchRefused:
    with pytest.raises(FetchRefused) as caught:
        await fetcher.get_json(url)
    return caught.value


# The URL and address checks.


async def test_a_loopback_server_is_refused_under_the_default_policy(server: DocumentServer) -> None:
    url = server.url("/doc")

    refused = await refusal(SafeFetcher(FetchPolicy()), url)
    assert refused.message == f"Could not fetch {url}: only https URLs are allowed."

    refused = await refusal(SafeFetcher(FetchPolicy(require_https=False)), url)
    assert refused.reason is Refusal.ADDRESS
    assert refused.message == (
        f"Could not fetch {url}: 127.0.0.1 is a loopback address, which is not allowed."
    )
    assert server.hits["/doc"] == 0


async def test_a_loopback_server_is_fetched_when_the_admin_allows_private_addresses(
    server: DocumentServer,
) -> None:
    document = await SafeFetcher(LOCAL).get_json(server.url("/doc"))

    assert document.data == DOCUMENT
    assert document.status == 200
    assert document.final_url == server.url("/doc")
    assert document.from_cache is False


async def test_a_host_the_admin_names_is_fetched_even_on_loopback(server: DocumentServer) -> None:
    policy = FetchPolicy(require_https=False, allowed_hosts=frozenset({"LocalHost"}))

    document = await SafeFetcher(policy).get_json(server.url("/doc", host="localhost"))

    assert document.data == DOCUMENT
    assert server.requests[-1].headers["host"] == f"localhost:{server.port}"


@pytest.mark.parametrize(
    ("url", "explanation"),
    [
        ("https://10.0.0.1/client.json", "10.0.0.1 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[::1]/", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address"),
        ("https://[64:ff9b::a00:1]/", "64:ff9b::a00:1 is a private address"),
        ("https://[2002:a9fe:a9fe::]/", "2002:a9fe:a9fe:: is a link-local address"),
        ("https://[fd12:3456::1]/", "fd12:3456::1 is a private address"),
        ("https://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"),
        ("https://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("https://224.0.0.251/", "224.0.0.251 is a multicast address"),
        ("https://240.0.0.1/", "240.0.0.1 is a reserved address"),
    ],
)
async def test_a_literal_non_public_address_is_refused_without_any_network_access(
    url: str, explanation: str
) -> None:
    refused = await refusal(SafeFetcher(FetchPolicy(), resolver=no_lookups), url)

    assert refused.reason is Refusal.ADDRESS
    assert refused.message == f"Could not fetch {url}: {explanation}, which is not allowed."


@pytest.mark.parametrize(
    "host", ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.0.0.01", "01.02.03.04", "1.2.3.4.5"]
)
async def test_an_ipv4_address_spelled_other_than_in_dotted_decimal_is_refused_before_any_lookup(
    host: str,
) -> None:
    # Resolvers and browsers read these forms differently (inet_aton takes octal, hex and short forms;
    # others take none of them), so none is given to a resolver.
    refused = await refusal(SafeFetcher(FetchPolicy(), resolver=no_lookups), f"https://{host}/")

    assert refused.reason is Refusal.INVALID_URL
    assert refused.detail == f"{host} is not a valid host name or IP address"


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("https://xn--/", "xn-- is not a valid host name or IP address"),
        ("https://xn--zz/", "xn--zz is not a valid host name or IP address"),
        ("https://a..b/", "a..b is not a valid host name or IP address"),
        ("https://-a.example/", "-a.example is not a valid host name or IP address"),
        ("https://ex%41mple.com/", "ex%41mple.com is not a valid host name or IP address"),
        ("https://[fe80::1%25eth0]/", "fe80::1%25eth0 is not a valid host name or IP address"),
        ("https://[::1/", "it is not a valid URL"),
        ("https://example.com:99999/", "the port is out of range"),
    ],
)
def test_a_host_that_is_no_dns_name_or_ip_address_literal_is_refused(url: str, detail: str) -> None:
    with pytest.raises(FetchRefused) as refused:
        checked_url(url, FetchPolicy())

    assert (refused.value.reason, refused.value.detail) == (Refusal.INVALID_URL, detail)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "https://API.Example.com./v1",
        "https://xn--bcher-kva.example/",
        "https://bücher.example/",
        "https://under_score.example.com/",
        "https://1.2.3.4:8443/",
        "https://[2001:db8::1]/",
        "https://[::ffff:1.2.3.4]/",
    ],
)
def test_dns_names_and_ip_address_literals_pass_the_url_check(url: str) -> None:
    assert checked_url(url, FetchPolicy()).url == httpx.URL(url)


async def test_allowing_private_addresses_does_not_allow_unspecified_or_multicast_ones() -> None:
    fetcher = SafeFetcher(LOCAL, resolver=no_lookups)

    assert (await refusal(fetcher, "http://0.0.0.0:8000/")).reason is Refusal.ADDRESS
    assert (await refusal(fetcher, "http://[ff02::1]/")).reason is Refusal.ADDRESS


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://docs.example/client.json",
        "data:,{}",
        "gopher://x/",
    ],
)
async def test_only_http_schemes_are_ever_fetched(url: str) -> None:
    refused = await refusal(SafeFetcher(LOCAL, resolver=no_lookups), url)

    assert refused.reason is Refusal.INVALID_URL
    assert refused.detail == "only https and http URLs are allowed"


async def test_a_url_with_a_user_name_and_password_is_refused_without_repeating_the_password() -> None:
    refused = await refusal(
        SafeFetcher(FetchPolicy(), resolver=no_lookups), "https://me:s3cret@docs.example/c"
    )

    assert refused.message == (
        "Could not fetch https://docs.example/c: the URL must not contain a user name or password."
    )


async def test_a_url_with_a_fragment_is_refused() -> None:
    refused = await refusal(SafeFetcher(FetchPolicy(), resolver=no_lookups), "https://docs.example/c#x")

    assert refused.detail == "the URL must not contain a fragment"


async def test_a_public_name_that_resolves_to_a_private_address_is_refused() -> None:
    fetcher = SafeFetcher(FetchPolicy(), resolver=resolving({"docs.example": ["93.184.215.14", "10.1.2.3"]}))

    refused = await refusal(fetcher, "https://docs.example/client.json")

    assert refused.reason is Refusal.ADDRESS
    assert refused.message == (
        "Could not fetch https://docs.example/client.json: "
        "docs.example resolves to 10.1.2.3, a private address, which is not allowed."
    )


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    refused = await refusal(SafeFetcher(FetchPolicy(), resolver=resolving({})), "https://nowhere.example/")

    assert refused.reason is Refusal.UNRESOLVABLE
    assert refused.detail == "the host nowhere.example could not be found"


async def test_the_connection_goes_to_the_checked_address_with_the_original_host_name(
    server: DocumentServer,
) -> None:
    # docs.example exists only in the injected resolver: the fetch can only succeed by connecting to
    # the address that resolver returned, never by looking the name up again.
    policy = FetchPolicy(require_https=False, allowed_hosts=frozenset({"docs.example"}))
    fetcher = SafeFetcher(policy, resolver=resolving({"docs.example": ["127.0.0.1"]}))

    document = await fetcher.get_json(server.url("/doc", host="docs.example"))

    assert document.data == DOCUMENT
    assert server.requests[-1].headers["host"] == f"docs.example:{server.port}"


async def test_the_next_address_is_tried_when_the_first_cannot_be_connected_to(
    server: DocumentServer,
) -> None:
    resolver = resolving({"docs.example": ["::1", "127.0.0.2", "127.0.0.1"]})
    fetcher = SafeFetcher(LOCAL, resolver=resolver)

    document = await fetcher.get_json(server.url("/doc", host="docs.example"))

    assert document.data == DOCUMENT


async def test_a_server_that_cannot_be_reached_is_reported(server: DocumentServer) -> None:
    await server.stop()
    url = server.url("/doc")

    refused = await refusal(SafeFetcher(LOCAL), url)

    assert refused.reason is Refusal.UNREACHABLE
    assert refused.message.startswith(f"Could not fetch {url}: the server could not be reached (")


# Redirects.


async def test_redirects_are_followed_up_to_the_limit(server: DocumentServer) -> None:
    document = await SafeFetcher(LOCAL).get_json(server.url("/hop/3"))

    assert document.data == DOCUMENT
    assert document.final_url == server.url("/hop/0")
    assert [request.path for request in server.requests] == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]


async def test_one_redirect_more_than_the_limit_is_refused(server: DocumentServer) -> None:
    refused = await refusal(SafeFetcher(LOCAL), server.url("/hop/4"))

    assert refused.reason is Refusal.TOO_MANY_REDIRECTS
    assert refused.detail == "too many redirects (at most 3 are followed)"
    assert server.hits["/hop/0"] == 0


async def test_a_redirect_loop_is_refused(server: DocumentServer) -> None:
    refused = await refusal(SafeFetcher(LOCAL), server.url("/loop"))

    assert refused.reason is Refusal.TOO_MANY_REDIRECTS
    assert server.hits["/loop"] == 4


@pytest.mark.parametrize(
    ("path", "target"), [("/to-ftp", "ftp://127.0.0.1/doc"), ("/to-file", "file:/etc/passwd")]
)
async def test_a_redirect_to_another_scheme_is_refused(
    server: DocumentServer, path: str, target: str
) -> None:
    url = server.url(path)

    refused = await refusal(SafeFetcher(LOCAL), url)

    assert refused.message == (
        f"Could not fetch {url}: it redirects to {target}, and only https and http URLs are allowed."
    )


async def test_a_redirect_to_loopback_is_refused_though_the_first_host_was_allowed_by_name(
    server: DocumentServer,
) -> None:
    server.routes["/to-loopback"] = redirect(server.url("/doc"))
    policy = FetchPolicy(require_https=False, allowed_hosts=frozenset({"docs.example"}))
    fetcher = SafeFetcher(policy, resolver=resolving({"docs.example": ["127.0.0.1"]}))
    url = server.url("/to-loopback", host="docs.example")

    refused = await refusal(fetcher, url)

    assert refused.reason is Refusal.ADDRESS
    assert refused.url == url
    assert refused.message == (
        f"Could not fetch {url}: it redirects to {server.url('/doc')}, "
        "and 127.0.0.1 is a loopback address, which is not allowed."
    )
    assert server.hits["/doc"] == 0


# Limits on the answer.


async def test_an_answer_declared_larger_than_the_limit_is_refused_before_its_body_is_read(
    server: DocumentServer,
) -> None:
    started = time.monotonic()

    refused = await refusal(SafeFetcher(LOCAL), server.url("/claims-ten-megabytes"))

    assert refused.reason is Refusal.TOO_LARGE
    assert refused.detail == "the answer is larger than 65536 bytes"
    assert time.monotonic() - started < 1


async def test_an_endless_chunked_answer_is_cut_off_at_the_limit(server: DocumentServer) -> None:
    refused = await refusal(
        SafeFetcher(msgspec.structs.replace(LOCAL, max_bytes=4096)), server.url("/endless")
    )

    assert refused.reason is Refusal.TOO_LARGE
    assert refused.detail == "the answer is larger than 4096 bytes"


async def test_an_answer_of_exactly_the_limit_is_accepted(server: DocumentServer) -> None:
    fetcher = SafeFetcher(msgspec.structs.replace(LOCAL, max_bytes=4096))

    document = await fetcher.get_json(server.url("/exactly-4096-bytes"))

    assert len(document.body) == 4096


async def test_a_server_that_does_not_answer_in_time_is_given_up_on(server: DocumentServer) -> None:
    url = server.url("/slow")

    refused = await refusal(SafeFetcher(msgspec.structs.replace(LOCAL, timeout_seconds=0.3)), url)

    assert refused.reason is Refusal.TIMEOUT
    assert refused.message == f"Could not fetch {url}: no complete answer within 0.3 seconds."


async def test_the_deadline_covers_the_whole_answer_not_each_read(server: DocumentServer) -> None:
    # Every byte arrives well within the timeout, the whole body does not.
    started = time.monotonic()

    refused = await refusal(
        SafeFetcher(msgspec.structs.replace(LOCAL, timeout_seconds=0.3)), server.url("/trickle")
    )

    assert refused.reason is Refusal.TIMEOUT
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("path", "reason", "detail"),
    [
        ("/html", Refusal.NOT_JSON, "the answer is not JSON"),
        ("/deep", Refusal.NOT_JSON, "the answer nests more than 64 levels deep"),
        ("/gone", Refusal.STATUS, "the server answered with status 404"),
        ("/gzip", Refusal.ENCODING, "the answer is compressed (gzip), unasked"),
    ],
)
async def test_an_answer_that_is_not_a_json_document_is_refused(
    server: DocumentServer, path: str, reason: Refusal, detail: str
) -> None:
    refused = await refusal(SafeFetcher(LOCAL), server.url(path))

    assert (refused.reason, refused.detail) == (reason, detail)


async def test_a_refusal_is_an_invalid_input_domain_error() -> None:
    refused = await refusal(SafeFetcher(FetchPolicy()), "http://docs.example/")

    assert isinstance(refused, InvalidInput)
    assert (refused.code, refused.status) == ("fetch_refused", 422)


# The cache.


async def test_a_fresh_document_is_served_from_the_cache(server: DocumentServer, clock: Clock) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    first = await fetcher.get_json(server.url("/doc"))
    clock.now += 59
    second = await fetcher.get_json(server.url("/doc"))

    assert server.hits["/doc"] == 1
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.data == DOCUMENT
    assert first.fresh_until == second.fresh_until == START + 60


async def test_a_document_is_fetched_again_once_its_max_age_has_passed(
    server: DocumentServer, clock: Clock
) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    await fetcher.get_json(server.url("/doc"))
    clock.now += 60
    again = await fetcher.get_json(server.url("/doc"))

    assert server.hits["/doc"] == 2
    assert again.from_cache is False
    assert again.fresh_until == START + 120


async def test_a_no_store_document_is_never_cached(server: DocumentServer, clock: Clock) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    first = await fetcher.get_json(server.url("/no-store"))
    await fetcher.get_json(server.url("/no-store"))

    assert server.hits["/no-store"] == 2
    assert first.fresh_until is None


async def test_without_cache_headers_the_policy_default_freshness_applies(
    server: DocumentServer, clock: Clock
) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    await fetcher.get_json(server.url("/plain"))
    clock.now += 299
    await fetcher.get_json(server.url("/plain"))
    assert server.hits["/plain"] == 1
    clock.now += 1
    await fetcher.get_json(server.url("/plain"))
    assert server.hits["/plain"] == 2


async def test_expires_counts_from_the_server_date(server: DocumentServer, clock: Clock) -> None:
    document = await SafeFetcher(LOCAL, clock=clock).get_json(server.url("/expires"))

    assert document.fresh_until == START + 120


async def test_freshness_is_capped_at_the_policy_maximum(server: DocumentServer, clock: Clock) -> None:
    document = await SafeFetcher(LOCAL, clock=clock).get_json(server.url("/for-ever"))

    assert document.fresh_until == START + 24 * 3600


async def test_a_stale_document_with_an_etag_is_revalidated_and_a_304_reuses_the_body(
    server: DocumentServer, clock: Clock
) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    first = await fetcher.get_json(server.url("/etag"))
    revalidated = await fetcher.get_json(server.url("/etag"))
    cached = await fetcher.get_json(server.url("/etag"))

    assert first.fresh_until == START  # no-cache: stored, but revalidated before every use
    assert server.requests[1].headers["if-none-match"] == '"v1"'
    assert (revalidated.from_cache, revalidated.data, revalidated.fresh_until) == (True, DOCUMENT, START + 30)
    assert cached.from_cache is True
    assert server.hits["/etag"] == 2


async def test_a_stale_document_with_a_last_modified_date_is_revalidated(
    server: DocumentServer, clock: Clock
) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    await fetcher.get_json(server.url("/last-modified"))
    clock.now += 11
    revalidated = await fetcher.get_json(server.url("/last-modified"))

    assert server.requests[1].headers["if-modified-since"] == formatdate(START, usegmt=True)
    assert revalidated.from_cache is True
    # The 304 carried no Cache-Control, so the stored max-age=10 still applies, from now.
    assert revalidated.fresh_until == clock.now + 10


async def test_the_cache_keeps_only_the_most_recently_used_entries(
    server: DocumentServer, clock: Clock
) -> None:
    fetcher = SafeFetcher(msgspec.structs.replace(LOCAL, cache_entries=2), clock=clock)

    for path in ("/a", "/b", "/a", "/c", "/a", "/b"):
        await fetcher.get_json(server.url(path))

    assert (server.hits["/a"], server.hits["/b"], server.hits["/c"]) == (1, 2, 1)


async def test_changing_a_returned_document_does_not_change_the_cached_one(
    server: DocumentServer, clock: Clock
) -> None:
    fetcher = SafeFetcher(LOCAL, clock=clock)

    first = await fetcher.get_json(server.url("/doc"))
    first.data["client_name"] = "Changed"
    second = await fetcher.get_json(server.url("/doc"))

    assert second.data == DOCUMENT


# TLS with a pinned address.


@pytest.fixture
async def tls_server(
    tmp_path: Path,
) -> AsyncIterator[tuple[DocumentServer, ssl.SSLContext, list[str | None]]]:
    server_context, client_context, server_names = certificate("docs.example", tmp_path)
    running = DocumentServer(routes(), ssl_context=server_context)
    await running.start()
    yield running, client_context, server_names
    await running.stop()


TLS_POLICY = FetchPolicy(allowed_hosts=frozenset({"docs.example"}), timeout_seconds=2.0)
DOCS_ON_LOOPBACK = resolving({"docs.example": ["127.0.0.1"]})


async def test_https_to_a_pinned_address_verifies_the_certificate_for_the_host_name(
    tls_server: tuple[DocumentServer, ssl.SSLContext, list[str | None]],
) -> None:
    server, trusted, server_names = tls_server
    fetcher = SafeFetcher(TLS_POLICY, resolver=DOCS_ON_LOOPBACK, ssl_context=trusted)

    document = await fetcher.get_json(server.url("/doc", host="docs.example", scheme="https"))

    assert document.data == DOCUMENT
    assert server_names == ["docs.example"]
    assert server.requests[-1].headers["host"] == f"docs.example:{server.port}"


async def test_https_is_refused_when_the_certificate_is_for_another_name(tmp_path: Path) -> None:
    server_context, trusted, _ = certificate("other.example", tmp_path)
    server = DocumentServer(routes(), ssl_context=server_context)
    await server.start()
    try:
        fetcher = SafeFetcher(TLS_POLICY, resolver=DOCS_ON_LOOPBACK, ssl_context=trusted)
        refused = await refusal(fetcher, server.url("/doc", host="docs.example", scheme="https"))
    finally:
        await server.stop()

    assert refused.reason is Refusal.UNREACHABLE
    assert server.hits["/doc"] == 0


async def test_a_redirect_from_https_to_http_is_refused(
    tls_server: tuple[DocumentServer, ssl.SSLContext, list[str | None]],
) -> None:
    server, trusted, _ = tls_server
    server.routes["/downgrade"] = redirect(server.url("/doc", host="docs.example"))
    fetcher = SafeFetcher(TLS_POLICY, resolver=DOCS_ON_LOOPBACK, ssl_context=trusted)

    refused = await refusal(fetcher, server.url("/downgrade", host="docs.example", scheme="https"))

    assert refused.detail == (
        f"it redirects to {server.url('/doc', host='docs.example')}, and only https URLs are allowed"
    )

"""The scope model and the redirect URI rules, as plain functions (no database, run once)."""

from __future__ import annotations

import pytest

from switchboard.identity.oauth import redirects, scopes
from switchboard.identity.oauth.errors import OAuthError

# Scopes -----------------------------------------------------------------------------------------------


def test_scopes_are_parsed_in_order_without_repeats_and_joined_back() -> None:
    assert scopes.parse("  mcp:tools:echo offline_access  mcp:tools:echo ") == (
        "mcp:tools:echo",
        "offline_access",
    )
    assert scopes.parse(None) == ()
    assert scopes.parse("") == ()
    assert scopes.join(["offline_access", "mcp:tools:*", "offline_access"]) == "offline_access mcp:tools:*"
    assert scopes.tool_scope("echo") == "mcp:tools:echo"


@pytest.mark.parametrize("scope", ["mcp:tools:echo", "mcp:tools:*", "offline_access", "a" * 200, "x!#[]~"])
def test_well_formed_scope_tokens(scope: str) -> None:
    assert scopes.is_well_formed(scope)


@pytest.mark.parametrize("scope", ["", "a b", 'say"hi"', "back\\slash", "é", "a" * 201, "tab\there"])
def test_scope_tokens_outside_rfc_6749_characters_are_refused(scope: str) -> None:
    assert not scopes.is_well_formed(scope)


@pytest.mark.parametrize(
    "scope", ["mcp:tools:*", "offline_access", "mcp:tools:echo", "mcp:tools:run_report2"]
)
def test_known_scopes(scope: str) -> None:
    assert scopes.is_known(scope)


@pytest.mark.parametrize(
    "scope",
    ["admin", "openid", "mcp:tools:", "mcp:tools:Echo", "mcp:tools:9lives", "mcp:tools:a-b", "mcp:other"],
)
def test_unknown_scopes(scope: str) -> None:
    assert not scopes.is_known(scope)


def test_a_resource_catalogue_adds_its_own_scopes() -> None:
    assert not scopes.is_known("reports:read")
    assert scopes.is_known("reports:read", ("reports:read",))


def test_the_tools_wildcard_satisfies_every_tool_scope_and_nothing_else() -> None:
    granted = ("mcp:tools:*",)
    assert scopes.satisfies(granted, "mcp:tools:echo")
    assert scopes.satisfies(granted, "mcp:tools:*")
    assert not scopes.satisfies(granted, "offline_access")
    assert not scopes.satisfies(granted, "reports:read")


def test_a_tool_scope_satisfies_only_itself() -> None:
    granted = ("mcp:tools:echo",)
    assert scopes.satisfies(granted, "mcp:tools:echo")
    assert not scopes.satisfies(granted, "mcp:tools:delete")
    assert not scopes.satisfies(granted, "mcp:tools:*")
    assert not scopes.satisfies((), "mcp:tools:echo")


def test_covers_needs_every_requested_scope() -> None:
    assert scopes.covers(("mcp:tools:*", "offline_access"), ("mcp:tools:echo", "offline_access"))
    assert scopes.covers(("mcp:tools:echo",), ())
    assert not scopes.covers(("mcp:tools:echo",), ("mcp:tools:echo", "offline_access"))
    assert not scopes.covers(("mcp:tools:echo",), ("mcp:tools:*",))


# Redirect URIs ----------------------------------------------------------------------------------------

ACCEPTED_REDIRECTS = [
    "https://app.example.com/callback",
    "https://app.example.com:8443/cb?tenant=1",
    "http://localhost:3000/callback",
    "http://127.0.0.1/callback",
    "http://127.0.0.5:9/cb",
    "http://[::1]:8080/callback",
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "com.example.app:/oauth2redirect",
]


@pytest.mark.parametrize("uri", ACCEPTED_REDIRECTS)
def test_registrable_redirect_uris(uri: str) -> None:
    assert redirects.problem(uri) is None
    redirects.check_all([uri])


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("javascript:alert(1)", "forbidden scheme javascript:"),
        ("JavaScript://x/%0aalert(1)", "forbidden scheme javascript:"),
        ("data:text/html,<script>alert(1)</script>", "forbidden scheme data:"),
        ("file:///etc/passwd", "forbidden scheme file:"),
        ("https://app.example.com/callback#frag", "fragment"),
        ("http://app.example.com/callback", "http only on a loopback address"),
        ("http://localhost.evil.example/callback", "http only on a loopback address"),
        ("http://10.0.0.1/callback", "http only on a loopback address"),
        ("https:///callback", "must name a host"),
        ("/callback", "absolute URI"),
        ("", "non-empty"),
        ("https://app.example.com/a b", "without spaces"),
        ("https://app.example.com:port/cb", "not a valid URI"),
        ("myapp:", "must have a path"),
    ],
)
def test_unsafe_redirect_uris_are_refused_with_a_reason(uri: str, reason: str) -> None:
    problem = redirects.problem(uri)
    assert problem is not None
    assert reason in problem
    with pytest.raises(OAuthError) as refused:
        redirects.check_all(["https://fine.example.com/cb", uri])
    assert refused.value.code == "invalid_redirect_uri"


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("https://app.example.com/callback", "https://app.example.com/callback"),
        ("cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/callback"),
        ("http://127.0.0.1:8765/callback", "http://127.0.0.1:50123/callback"),
        ("http://127.0.0.1/callback", "http://127.0.0.1:50123/callback"),
        ("http://localhost:3000/cb", "http://localhost:4000/cb"),
        ("http://[::1]:3000/cb", "http://[::1]:4000/cb"),
    ],
)
def test_redirect_uris_match_exactly_except_loopback_ports(registered: str, requested: str) -> None:
    assert redirects.matches(requested, [registered])


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("https://app.example.com/callback", "https://app.example.com:8443/callback"),
        ("https://app.example.com/callback", "https://app.example.com/callback/"),
        ("https://app.example.com/callback", "https://app.example.com/callback?next=/"),
        ("https://app.example.com/callback", "https://APP.example.com/callback"),
        ("https://app.example.com/callback", "http://app.example.com/callback"),
        ("http://127.0.0.1:8765/callback", "http://localhost:8765/callback"),
        ("http://127.0.0.1:8765/callback", "http://127.0.0.1:8765/other"),
        ("http://127.0.0.1:8765/callback", "http://127.0.0.1:8765/callback?x=1"),
        ("http://127.0.0.1:8765/callback", "http://127.0.0.1:9/callback#x"),
        ("http://127.0.0.1:8765/callback", "https://127.0.0.1:8765/callback"),
        ("http://127.0.0.1:8765/callback", "http://127.0.0.1:bad/callback"),
        ("cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/other"),
    ],
)
def test_other_redirect_uris_do_not_match(registered: str, requested: str) -> None:
    assert not redirects.matches(requested, [registered])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("example.com", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        (None, False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str | None, loopback: bool) -> None:
    assert redirects.is_loopback_host(host) is loopback

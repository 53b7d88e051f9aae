"""A member authorizing an app that awaits approval: what the waiting page says, its status check, and
how it continues to the consent page once an administrator approves the app."""

from __future__ import annotations

import httpx
from litestar import Litestar

from switchboard.identity.deps import IdentityServices
from switchboard.identity.oauth.server import AuthorizationServer
from switchboard.identity.roles import Role
from tests.identity.support import make_user, signed_in
from tests.support.actors import SETUP
from tests.support.oauth import REDIRECT_URI, OAuthClient, query_of
from tests.support.web import Browserless
from tests.ui.html import Page


def _status_url(page: Page) -> str:
    (poller,) = [element for element in page.all("p") if "hx-get" in element.attrs]
    assert poller.attrs["hx-trigger"].startswith("every "), poller.attrs
    return poller.attrs["hx-get"]


async def test_the_waiting_page_says_what_happens_next_and_continues_once_an_admin_approves(
    oauth: OAuthClient, alice: Browserless, oauth_server: AuthorizationServer
) -> None:
    client_id = (await oauth.registered(client_name="New agent", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    waiting = await oauth.authorize(alice, client_id)
    page = Page(waiting.response.text)
    assert page.heading == "This app awaits approval"
    assert (
        "An administrator must approve New agent. This page continues by itself once they do; "
        "you can leave it open." in page.text
    )
    status_url = _status_url(page)

    before = await alice.client.get(status_url, headers={"HX-Request": "true"})
    assert before.status_code == 200
    assert before.json() == {"status": "pending"}
    assert "HX-Redirect" not in before.headers

    await oauth_server.clients.approve(client_id, actor=SETUP)
    after = await alice.client.get(status_url, headers={"HX-Request": "true"})
    assert after.status_code == 200
    assert after.json() == {"status": "approved"}
    continuation = after.headers["HX-Redirect"]
    assert continuation.startswith("/oauth/authorize?")

    # The same authorization request, now at the consent page.
    consent = await alice.client.get(continuation, follow_redirects=False)
    assert consent.status_code == 200
    assert 'name="decision"' in consent.text
    assert Page(consent.text).heading.startswith("Allow New agent ")
    assert f"state={waiting.params['state']}" in continuation


async def test_the_status_check_tells_nobody_else_anything(
    oauth: OAuthClient,
    alice: Browserless,
    app: Litestar,
    services: IdentityServices,
    oauth_server: AuthorizationServer,
) -> None:
    client_id = (await oauth.registered(client_name="New agent", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    waiting = await oauth.authorize(alice, client_id)
    status_url = _status_url(Page(waiting.response.text))
    await oauth_server.clients.approve(client_id, actor=SETUP)

    await make_user(services, "bob@example.com", Role.MEMBER)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 52001))
    bob = Browserless(httpx.AsyncClient(transport=transport, base_url="http://testserver.local"))
    await signed_in(bob, "bob@example.com")
    try:
        other = await bob.client.get(status_url)
        assert other.status_code == 404
        assert other.content == b""
        assert "HX-Redirect" not in other.headers
    finally:
        await bob.client.aclose()

    signed_out = await oauth.http.get(status_url)
    assert signed_out.status_code == 404
    assert signed_out.content == b""
    assert "HX-Redirect" not in signed_out.headers

    # Alice's own check, with a status URL for another app, says nothing either.
    other_client = (await oauth.registered(client_name="Other agent", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    forged = status_url.replace(client_id.replace(":", "%3A"), other_client)
    assert forged != status_url
    mismatched = await alice.client.get(forged)
    assert mismatched.status_code == 404
    assert mismatched.content == b""


def _return_link(page: Page) -> str:
    (back,) = [link for link in page.all("a") if "data-return-to" in link.attrs]
    return back.attrs["href"]


async def test_the_waiting_person_may_stop_waiting_and_tell_the_client_through_a_link_they_follow(
    oauth: OAuthClient, alice: Browserless
) -> None:
    client_id = (await oauth.registered(client_name="New agent", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    waiting = await oauth.authorize(alice, client_id, state="s-wait")
    # Nobody vouched for a pending client's redirect URI: the browser is never sent there by itself.
    assert waiting.response.status_code == 403
    assert "location" not in waiting.response.headers
    assert "refresh" not in waiting.response.headers
    page = Page(waiting.response.text)
    assert "an address no administrator has vouched for" in page.text
    assert [code.text for code in page.all("code") if "redirect-host" in code.attrs.get("class", "")] == [
        "127.0.0.1:8765"
    ]
    back = _return_link(page)
    assert back.startswith(REDIRECT_URI + "?")
    assert query_of(back) == {
        "error": "access_denied",
        "error_description": "New agent awaits an administrator's approval.",
        "state": "s-wait",
        "iss": "http://testserver.local",
    }


async def test_a_refused_client_is_told_access_denied_through_the_link_the_person_follows(
    oauth: OAuthClient, alice: Browserless, oauth_server: AuthorizationServer
) -> None:
    client_id = (await oauth.registered(client_name="Unwanted", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    await oauth_server.clients.refuse(client_id, actor=SETUP)
    for browser in (alice.client, oauth.http):  # signed in, or not
        query, _ = OAuthClient.authorization_params(client_id, state="s-refused")
        refused = await browser.get("/oauth/authorize", params=query, follow_redirects=False)
        assert refused.status_code == 403
        assert "location" not in refused.headers
        assert "refresh" not in refused.headers
        page = Page(refused.text)
        assert page.heading == "This app was refused"
        assert query_of(_return_link(page)) == {
            "error": "access_denied",
            "error_description": "An administrator refused Unwanted; it cannot sign in.",
            "state": "s-refused",
            "iss": "http://testserver.local",
        }
    # An unregistered redirect URI still gets no link at all.
    query, _ = OAuthClient.authorization_params(client_id, redirect_uri="https://elsewhere.example/cb")
    unknown = await oauth.http.get("/oauth/authorize", params=query, follow_redirects=False)
    assert unknown.status_code == 400
    assert not [link for link in Page(unknown.text).all("a") if "data-return-to" in link.attrs]


async def test_the_waiting_page_continues_when_the_client_is_deleted_meanwhile(
    oauth: OAuthClient, alice: Browserless, oauth_server: AuthorizationServer
) -> None:
    client_id = (await oauth.registered(client_name="Spam agent", token_endpoint_auth_method="none"))[
        "client_id"
    ]
    waiting = await oauth.authorize(alice, client_id)
    status_url = _status_url(Page(waiting.response.text))
    await oauth_server.clients.delete(client_id, actor=SETUP)

    gone = await alice.client.get(status_url, headers={"HX-Request": "true"})
    assert gone.status_code == 200
    assert gone.json() == {"status": "deleted"}
    # The same request again: the person now reads that the app is not known, instead of waiting on.
    shown = await alice.client.get(gone.headers["HX-Redirect"], follow_redirects=False)
    assert Page(shown.text).heading == "This app is not known"

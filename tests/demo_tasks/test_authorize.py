"""The authorization endpoint: sign-in first, consent, and answers to the client (RFC 6749 §4.1, RFC 7636,
RFC 9207)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from switchboard.platform.demo_tasks.clients import DemoClient
from switchboard.platform.demo_tasks.tables import AuthorizationCode
from tests.demo_tasks.support import ISSUER, REDIRECT_URI, DemoTasksBrowser, pkce_pair, query_of
from tests.ui.html import Page


async def test_authorizing_without_a_session_sends_the_person_to_sign_in_and_back(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    params = browser.authorize_params(oauth_client, pkce_pair()[1])

    first = await browser.authorize(params)

    assert first.status_code == 303
    login = urlsplit(first.headers["location"])
    assert f"{login.scheme}://{login.netloc}{login.path}" == f"{ISSUER}/login"
    next_path = parse_qs(login.query)["next"][0]
    assert next_path.startswith("/authorize?")
    assert {key: values[0] for key, values in parse_qs(urlsplit(next_path).query).items()} == params
    signed = await browser.submit(
        "/login", "/login", {"email": "alice@example.com", "password": "switchboard-demo", "next": next_path}
    )
    assert signed.headers["location"] == ISSUER + next_path
    consent = await browser.http.get(signed.headers["location"])
    assert consent.status_code == 200
    page = Page(consent.text)
    assert page.all("h1")[0].text == "Allow Switchboard to use your Demo Tasks account?"
    assert page.by_id("account-email").text == "alice@example.com"
    assert [item.text.split()[0] for item in page.all("li")] == ["tasks:read", "tasks:write"]
    assert [button.text for button in page.all("button")] == ["Allow", "Deny"]
    assert consent.headers["x-frame-options"] == "DENY"


async def test_allowing_redirects_with_a_code_the_state_and_the_issuer(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    await browser.sign_in("alice@example.com")
    params = browser.authorize_params(oauth_client, pkce_pair()[1], state="xyz 1/2")
    consent = await browser.authorize(params)

    answer = await browser.decide(consent, "allow")

    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["state"] == "xyz 1/2"
    assert query["iss"] == ISSUER
    assert query["code"].startswith("dtk_")
    assert await AuthorizationCode.count() == 1


async def test_denying_answers_access_denied_with_the_state_and_the_issuer(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    await browser.sign_in("alice@example.com")
    consent = await browser.authorize(browser.authorize_params(oauth_client, pkce_pair()[1], state="s1"))

    answer = await browser.decide(consent, "deny")

    query = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(REDIRECT_URI + "?")
    assert query["error"] == "access_denied"
    assert query["state"] == "s1"
    assert query["iss"] == ISSUER
    assert "code" not in query
    assert await AuthorizationCode.count() == 0


async def test_a_consent_without_the_forms_csrf_token_issues_no_code(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    await browser.sign_in("alice@example.com")
    consent = await browser.authorize(browser.authorize_params(oauth_client, pkce_pair()[1]))
    request = consent.request.url.query.decode()

    answer = await browser.http.post(
        browser.url("/authorize"), data={"request": request, "decision": "allow"}
    )

    assert answer.status_code == 403
    assert "location" not in answer.headers
    assert await AuthorizationCode.count() == 0


PAGE_ERRORS = [
    ({"client_id": "dtc_unknown"}, "The app that sent you here is not registered with Demo Tasks."),
    ({"client_id": ""}, "The link names no app (client_id is missing)."),
    (
        {"redirect_uri": "https://evil.example/callback"},
        "The redirect URI is not registered for Switchboard, so Demo Tasks will not send you there.",
    ),
    (
        {"redirect_uri": REDIRECT_URI + "/"},
        "The redirect URI is not registered for Switchboard, so Demo Tasks will not send you there.",
    ),
    ({"redirect_uri": ""}, "The link from Switchboard has no redirect_uri."),
]
REDIRECTED_ERRORS = [
    ({"code_challenge": ""}, "invalid_request", "PKCE is required"),
    ({"code_challenge_method": "plain"}, "invalid_request", "Only code_challenge_method=S256"),
    ({"code_challenge_method": ""}, "invalid_request", "Only code_challenge_method=S256"),
    ({"code_challenge": "too-short"}, "invalid_request", "The code_challenge is malformed."),
    ({"response_type": "token"}, "unsupported_response_type", "Only response_type=code"),
    ({"scope": "tasks:read tasks:delete"}, "invalid_scope", "Demo Tasks offers no scope tasks:delete."),
]


async def test_an_unknown_client_or_redirect_uri_gets_an_error_page_never_a_redirect(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    await browser.sign_in("alice@example.com")

    for change, message in PAGE_ERRORS:
        response = await browser.authorize(browser.authorize_params(oauth_client, pkce_pair()[1], **change))

        assert response.status_code == 400, change
        assert "location" not in response.headers, change
        page = Page(response.text)
        assert page.all("h1")[0].text == "Demo Tasks cannot continue"
        assert page.all("p")[0].text == message, change


async def test_a_bad_request_from_a_known_client_goes_back_to_it_with_the_error_state_and_issuer(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    for change, error, description in REDIRECTED_ERRORS:
        params = browser.authorize_params(oauth_client, pkce_pair()[1], state="s2", **change)

        response = await browser.authorize(params)

        assert response.status_code == 303, change
        assert response.headers["location"].startswith(REDIRECT_URI + "?")
        query = query_of(response.headers["location"])
        assert query["error"] == error, change
        assert query["error_description"].startswith(description), change
        assert query["state"] == "s2"
        assert query["iss"] == ISSUER
    assert await AuthorizationCode.count() == 0


async def test_a_repeated_parameter_is_an_invalid_request(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    params = [*browser.authorize_params(oauth_client, pkce_pair()[1]).items(), ("scope", "tasks:write")]

    response = await browser.http.get(browser.url("/authorize"), params=params)

    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == "The scope parameter was sent more than once."


async def test_without_a_scope_only_reading_is_asked_for(
    browser: DemoTasksBrowser, oauth_client: DemoClient
) -> None:
    await browser.sign_in("alice@example.com")

    consent = await browser.authorize(browser.authorize_params(oauth_client, pkce_pair()[1], scope=""))

    assert [item.text.split()[0] for item in Page(consent.text).all("li")] == ["tasks:read"]

"""A refused CSRF check is logged by method and path, and a connect link's token never reaches the log
with it: whoever reads the log must not be able to connect an account in the link's owner's name."""

from __future__ import annotations

import logging

import pytest

from switchboard.platform.core.tokens import new_token
from tests.support.web import Browserless


async def test_a_refused_post_to_a_connect_link_is_logged_without_the_links_token(
    web: Browserless, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="switchboard")
    token = new_token()
    await web.client.get("/login")  # a browser with its CSRF cookie, posting without the form's token

    response = await web.client.post(f"/connect/{token}", data={}, follow_redirects=False)

    assert response.status_code == 403
    [record] = [record for record in caplog.records if record.name == "switchboard.csrf"]
    assert record.getMessage() == "CSRF check refused POST /connect/…: no token sent"
    assert token not in caplog.text

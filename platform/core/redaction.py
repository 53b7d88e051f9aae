"""What text kept for others (logs, run and tool-call records) must lose first: connect-link tokens.

A connect link (``GrantService.connect_link``) is ``<base URL>/connect/<token>``: whoever holds it may
connect their account in its owner's name until it is used, so the token is its owner's secret. The
address alone still says what was asked.
"""

from __future__ import annotations

import re

# The token is 43 URL-safe characters; shorter paths are not links of Switchboard's.
_LINK_TOKEN = re.compile(r"(?<=/connect/)[A-Za-z0-9_-]{32,}")


def without_link_tokens(text: str) -> str:
    """``text`` with the token of every connect link in it replaced by ``…``. Records that others read
    (run history, the tool-call log, the server's log) keep a link this way: the address says what was
    asked, the token is a secret of the person the link was made for. The caller's own answer keeps the
    link whole."""
    return _LINK_TOKEN.sub("…", text) if "/connect/" in text else text

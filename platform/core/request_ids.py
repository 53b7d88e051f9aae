"""Request ids: what ties an error someone met to the one record of it in the log.

An error nothing else handled is logged with a new id, and the answer names that id (the error page,
``X-Request-Id``, the API's ``request_id``, an MCP error's message), so that what a person or a client
reports can be found in the log without the answer telling them anything about the fault itself.
"""

from __future__ import annotations

import secrets


def new_request_id() -> str:
    """16 random hexadecimal characters: short enough to read out, never guessed or repeated."""
    return secrets.token_hex(8)

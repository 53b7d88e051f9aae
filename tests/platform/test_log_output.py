"""What ``switchboard serve`` sets up for its log: Switchboard's lines (background housekeeping's too) on
standard error, one line per record with the traceback after it, connect-link tokens taken out."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from switchboard.platform.core.logging import LIBRARY_LOGGERS, LOGGER, send_to_stderr
from switchboard.platform.housekeeping import Housekeeper
from switchboard.recipes.masking import without_link_tokens

LINK = "https://switchboard.example.com/connect/" + "Ab3_-" * 9


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """The server's standard error, as ``switchboard serve`` sets it up; the loggers as they were after."""
    loggers = [logging.getLogger(name) for name in (LOGGER, *LIBRARY_LOGGERS)]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    stream = io.StringIO()
    send_to_stderr(redact=without_link_tokens, stream=stream)
    yield stream
    for logger, handlers, level in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)


async def test_a_failed_housekeeping_task_reaches_the_output_with_its_traceback(output: io.StringIO) -> None:
    async def failing() -> int:
        raise RuntimeError("the database went away")

    async def working() -> int:
        return 3

    await Housekeeper({"expired links": failing, "old runs": working}).run_once()

    lines = output.getvalue().splitlines()
    assert lines[0].endswith(" ERROR switchboard.housekeeping: Housekeeping of expired links failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-2] == "RuntimeError: the database went away"
    assert lines[-1].endswith(" INFO switchboard.housekeeping: Housekeeping of old runs: 3 removed")


def test_a_connect_links_token_is_taken_out_of_every_line_and_traceback(output: io.StringIO) -> None:
    log = logging.getLogger("switchboard.connectors")
    try:
        raise ValueError(f"no grant behind {LINK}")
    except ValueError:
        log.exception("could not open %s", LINK)

    text = output.getvalue()
    assert "Ab3_-" not in text
    assert text.splitlines()[0].endswith(
        " ERROR switchboard.connectors: could not open https://switchboard.example.com/connect/…"
    )
    assert text.splitlines()[-1] == "ValueError: no grant behind https://switchboard.example.com/connect/…"


def test_setting_the_output_up_again_does_not_write_each_line_twice(output: io.StringIO) -> None:
    stream = io.StringIO()
    send_to_stderr(stream=stream)
    logging.getLogger("switchboard.errors").error("once")

    assert output.getvalue() == ""
    assert [line.split(" ", 2)[2] for line in stream.getvalue().splitlines()] == [
        "ERROR switchboard.errors: once"
    ]

"""Where a running server's log goes: standard error, one line per record (an error's traceback follows
its line), with what a log must never keep taken out of the text first.

The ``switchboard`` logger has only a ``NullHandler`` until ``send_to_stderr`` is called, so that the
package used as a library or in tests writes nothing of its own accord; ``switchboard serve`` calls it.
The MCP SDK's own warnings and errors (a tool handler that raised) go the same way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

LOGGER = "switchboard"
# Libraries whose warnings and errors an operator needs beside Switchboard's own lines.
LIBRARY_LOGGERS = ("mcp",)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Redacting(logging.Formatter):
    """The usual format, traceback included, passed through ``redact`` as a whole."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__(FORMAT)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class _Output(logging.StreamHandler[TextIO]):
    """The handler ``send_to_stderr`` installs (told apart so that calling it again replaces it)."""


def send_to_stderr(
    *,
    level: int = logging.INFO,
    redact: Callable[[str], str] = str,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Write the ``switchboard`` loggers' records of ``level`` and above, and the warnings and errors of
    ``LIBRARY_LOGGERS``, to ``stream`` (standard error), each text passed through ``redact`` (the secrets
    a message or traceback could hold taken out).

    Calling it again replaces the handler it installed before.
    """
    handler = _Output(stream if stream is not None else sys.stderr)
    handler.setFormatter(_Redacting(redact))
    for name, at_least in [(LOGGER, level), *((library, logging.WARNING) for library in LIBRARY_LOGGERS)]:
        logger = logging.getLogger(name)
        for old in [existing for existing in logger.handlers if isinstance(existing, _Output)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(at_least)
    return handler

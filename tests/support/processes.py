"""A program the tests run beside them, whose output they wait on line by line."""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self


class LineProcess:
    """A subprocess with stdout and stderr read by a thread, so a test can wait for a line with a timeout.

    A context manager that always ends the process; ``transcript()`` is everything it printed so far,
    for failure messages.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        stdin: bool = False,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.output: list[str] = []
        self._stdin = stdin
        self._cwd = cwd
        self._env = env
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE if self._stdin else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self._cwd,
            env=self._env,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _pump(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def transcript(self) -> str:
        return "\n".join(self.output)

    def next_line(self, timeout: float) -> str | None:
        """The next line printed, or None once the output has ended; TimeoutError when none comes in time."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    def send_line(self, text: str) -> None:
        """Write one line to the process's stdin (started with ``stdin=True``)."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(text + "\n")
        self._process.stdin.flush()

    def wait(self, timeout: float) -> int:
        """The exit code; ``subprocess.TimeoutExpired`` when the process runs on."""
        assert self._process is not None
        return self._process.wait(timeout=timeout)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

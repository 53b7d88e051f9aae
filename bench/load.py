"""Load rounds against one HTTP endpoint and the CPU the serving processes spent on them.

A round keeps ``concurrency`` requests in flight for a few seconds and returns the calls answered, the
median latency and the CPU time (user + system, from ``/proc``) that the given process trees spent.
The load client is ``wrk`` (one thread, one connection per call in flight, a Lua script posting the
JSON-RPC body), which leaves the two cores of a small machine to the servers; when ``wrk`` is not
installed an httpx client in this process stands in, and the report says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK-SUMMARY {{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"status_errors\\": %d, "
      .. "\\"socket_errors\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass(frozen=True)
class Round:
    """One round against one server."""

    calls: int
    seconds: float
    median_ms: float
    cpu_seconds: dict[str, float]

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    def cpu_ms_per_call(self, name: str) -> float:
        return self.cpu_seconds[name] * 1000 / self.calls


@dataclass(frozen=True)
class Target:
    """An endpoint under load: its URL, the request to post and the process trees whose CPU counts."""

    url: str
    body: dict[str, Any]
    headers: dict[str, str]
    processes: dict[str, int]


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its live descendants, with their reaped children's."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        total += times.get(pid, 0.0)
        pending.extend(child for child, parent in parents.items() if parent == pid)
    return total


def wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).split(" [")[0].strip() or "wrk"


def check(target: Target) -> None:
    """One request, answered without error, before any round counts."""
    response = httpx.post(target.url, json=target.body, headers=target.headers, timeout=30)
    answered = response.status_code == 200 and '"result":{' in response.text
    if not answered or '"isError":true' in response.text:
        raise RuntimeError(f"{target.url} answered {response.status_code}: {response.text[:300]}")


def run_round(target: Target, seconds: int, concurrency: int, use_wrk: bool) -> Round:
    before = {name: process_tree_cpu(pid) for name, pid in target.processes.items()}
    if use_wrk:
        calls, elapsed, median_ms = _wrk(target, seconds, concurrency)
    else:
        calls, elapsed, median_ms = asyncio.run(_httpx(target, seconds, concurrency))
    after = {name: process_tree_cpu(pid) for name, pid in target.processes.items()}
    cpu = {name: after[name] - before[name] for name in target.processes}
    return Round(calls=calls, seconds=elapsed, median_ms=median_ms, cpu_seconds=cpu)


def _wrk(target: Target, seconds: int, concurrency: int) -> tuple[int, float, float]:
    headers = "\n".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in target.headers.items()
    )
    script = WRK_SCRIPT.format(body=json.dumps(target.body, separators=(",", ":")), headers=headers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        command = ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "30s"]
        result = subprocess.run(
            [*command, "-s", file.name, target.url], capture_output=True, text=True, check=False
        )
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRK-SUMMARY ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {result.stderr or result.stdout}")
    summary = json.loads(line.removeprefix("WRK-SUMMARY "))
    if summary["status_errors"] or summary["socket_errors"]:
        raise RuntimeError(f"{target.url}: errors under load: {summary}")
    return summary["requests"], summary["duration_us"] / 1e6, summary["p50_us"] / 1000


async def _httpx(target: Target, seconds: int, concurrency: int) -> tuple[int, float, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.post(target.url, json=target.body, headers=target.headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{target.url} answered {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies), elapsed, statistics.median(latencies) * 1000

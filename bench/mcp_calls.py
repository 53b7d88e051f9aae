"""Tool calls through Switchboard against the MCP SDK's own low-level server, in interleaved rounds.

Switchboard answers ``tools/call whoami`` on the demo server: token check, group check, the recipe engine
(with its run record), the audit record and the rate-limit count. The baseline is the SDK's low-level
``Server`` (stateless streamable HTTP, JSON answers, as Switchboard serves it) answering a trivial tool.
Both run under uvicorn in their own process on loopback.

A shared machine's speed drifts from one second to the next, so the two are measured in alternating
short rounds (bare, Switchboard, bare, …, bare) and each Switchboard round is compared with the mean of
the two bare rounds beside it; the figures are the medians over rounds. CPU per call is the user +
system time the server's processes spent in a round (read from ``/proc``) over the calls answered in it;
on a cluster this script starts (``--postgres``) also that of PostgreSQL's processes (the postmaster and
its children: the backends Switchboard's pool holds, and the background writers). Each cell of the
matrix (protocol revision by calls in flight) is measured in turn; then ``tools/list`` on a server with
500 tools (median latency of one call at a time, for one round).

    .venv/bin/python bench/mcp_calls.py [--rounds 6] [--seconds 3] [--concurrency 1,10]
        [--revisions 2025-11-25,2026-07-28] [--postgres | --database-url postgresql://…] [--check]

Exits 0 whether targets are met or not, unless ``--check`` is given.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from load import Round, Target, check, run_round, wrk_version
from mcp_setup import free_port, running_servers, seed, throwaway_postgres

if TYPE_CHECKING:
    from collections.abc import Callable

REVISIONS = ("2025-11-25", "2026-07-28")
STATELESS_FROM = "2026-07-28"
TARGET_ADDED_MS = 1.5
TARGET_LIST_MS = 10.0


@dataclass(frozen=True)
class Cell:
    """The rounds at one protocol revision and concurrency, with each Switchboard round's rate ratio and
    added median latency against the bare rounds beside it."""

    revision: str
    concurrency: int
    bare: list[Round]
    switchboard: list[Round]
    ratios: list[float]
    added_ms: list[float]


def request(method: str, params: dict[str, Any], revision: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A JSON-RPC request's body and headers as the SDK's client sends them at ``revision``."""
    headers = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": revision,
    }
    if revision >= STATELESS_FROM:
        # No initialize: each request declares the revision, the client and its capabilities itself.
        params = {
            **params,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": revision,
                "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1.0"},
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        }
        headers["mcp-method"] = method
        if "name" in params:
            headers["mcp-name"] = params["name"]
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params:
        body["params"] = params
    return body, headers


def measure_cell(
    bare: Target, ours: Target, revision: str, concurrency: int, rounds: int, seconds: int, use_wrk: bool
) -> Cell:
    check(bare)
    check(ours)
    for target in (bare, ours):  # not counted: connections opened, caches filled, code imported lazily
        run_round(target, 1, concurrency, use_wrk)
    bare_rounds = [run_round(bare, seconds, concurrency, use_wrk)]
    our_rounds: list[Round] = []
    for _ in range(rounds):
        our_rounds.append(run_round(ours, seconds, concurrency, use_wrk))
        bare_rounds.append(run_round(bare, seconds, concurrency, use_wrk))
    ratios, added = [], []
    for n, ours_round in enumerate(our_rounds):
        before, after = bare_rounds[n], bare_rounds[n + 1]
        ratios.append(ours_round.rate / ((before.rate + after.rate) / 2))
        added.append(ours_round.median_ms - (before.median_ms + after.median_ms) / 2)
    return Cell(revision, concurrency, bare_rounds, our_rounds, ratios, added)


def median(rounds: list[Round], figure: Callable[[Round], float]) -> float:
    return statistics.median(figure(one) for one in rounds)


def print_cells(cells: list[Cell], postgres: bool) -> None:
    columns = (
        f"{'revision':<11} {'in flight':>9}  {'server':<12} {'calls/s':>8} {'p50 ms':>7} {'CPU ms/call':>11}"
    )
    print(columns + (f" {'PG CPU ms/call':>14}" if postgres else ""))
    for cell in cells:
        for name, rounds in (("bare SDK", cell.bare), ("Switchboard", cell.switchboard)):
            line = (
                f"{cell.revision:<11} {cell.concurrency:>9}  {name:<12} "
                f"{median(rounds, lambda one: one.rate):>8.0f} "
                f"{median(rounds, lambda one: one.median_ms):>7.2f} "
                f"{median(rounds, lambda one: one.cpu_ms_per_call('server')):>11.2f}"
            )
            if postgres and name == "Switchboard":
                line += f" {median(rounds, lambda one: one.cpu_ms_per_call('postgres')):>14.2f}"
            print(line)
        print(
            f"{'':<11} {'':>9}  rate ratio {statistics.median(cell.ratios):.2f} "
            f"(rounds {min(cell.ratios):.2f} to {max(cell.ratios):.2f}), "
            f"added p50 {statistics.median(cell.added_ms):+.2f} ms"
        )


def targets(cells: list[Cell], listings: dict[str, float], database: str) -> list[tuple[str, str, str, bool]]:
    """Each target that applies: what, the figure, the target, met."""
    rows = []
    for cell in cells:
        where = f"{cell.revision}, {cell.concurrency} in flight, {database}"
        ratio, added = statistics.median(cell.ratios), statistics.median(cell.added_ms)
        wanted = {10: 0.7, 1: 0.7 if database == "SQLite" else 0.5}.get(cell.concurrency)
        if wanted is not None:
            rows.append((f"whoami rate ratio ({where})", f"{ratio:.2f}", f">= {wanted}", ratio >= wanted))
        if cell.concurrency == 1 and database == "SQLite":
            met = added <= TARGET_ADDED_MS
            rows.append((f"whoami added p50 ({where})", f"{added:.2f} ms", f"<= {TARGET_ADDED_MS} ms", met))
    for revision, ms in listings.items():
        what = f"tools/list of 500 tools, p50 ({revision}, {database})"
        rows.append((what, f"{ms:.1f} ms", f"<= {TARGET_LIST_MS} ms", ms <= TARGET_LIST_MS))
    return rows


def authorized(body: dict[str, Any], headers: dict[str, str], url: str, token: str, **pids: int) -> Target:
    return Target(url, body, {**headers, "authorization": f"Bearer {token}"}, pids)


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    version = None if args.client == "httpx" else wrk_version()
    if args.client == "wrk" and version is None:
        sys.exit("wrk is not installed (scripts/apt-install.sh wrk)")
    use_wrk = version is not None
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        database_url, postmaster = args.database_url, None
        if args.postgres:
            database_url, postmaster = stack.enter_context(throwaway_postgres())
        database = "SQLite" if database_url is None else "PostgreSQL"
        database_url = database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        base_url = f"http://127.0.0.1:{free_port()}"
        demo_token, big_token = seed(database_url, base_url)
        bare_url, bare_pid, our_pid = stack.enter_context(running_servers(database_url, base_url, folder))
        ours = {"server": our_pid} | ({"postgres": postmaster} if postmaster else {})
        cells, listings = [], {}
        for revision in args.revisions.split(","):
            call = request("tools/call", {"name": "whoami", "arguments": {}}, revision)
            for concurrency in (int(value) for value in args.concurrency.split(",")):
                print(f"... {revision}, {concurrency} in flight", file=sys.stderr, flush=True)
                bare = Target(bare_url, *call, {"server": bare_pid})
                switchboard = authorized(*call, f"{base_url}/mcp/demo", demo_token, **ours)
                cell = measure_cell(
                    bare, switchboard, revision, concurrency, args.rounds, args.seconds, use_wrk
                )
                cells.append(cell)
            listing = authorized(
                *request("tools/list", {}, revision), f"{base_url}/mcp/big", big_token, **ours
            )
            check(listing)
            listings[revision] = run_round(listing, args.seconds, 1, use_wrk).median_ms
    client = f"{version} (-t 1 -c <in flight>)" if use_wrk else "httpx in this process (wrk is not installed)"
    print(f"\nMCP tool calls on {database}, {args.rounds} rounds of {args.seconds} s a server and cell")
    print(f"load client: {client}")
    print("rate ratio: a Switchboard round's calls/s over the mean of the bare rounds beside it")
    print("figures: medians over rounds\n")
    print_cells(cells, postmaster is not None)
    rows = targets(cells, listings, database)
    print(f"\n{'target':<58} {'figure':>9} {'target':>10}  met")
    for what, figure, target, met in rows:
        print(f"{what:<58} {figure:>9} {target:>10}  {'yes' if met else 'NO'}")
    missed = sum(not met for *_, met in rows)
    took = time.perf_counter() - started
    print(f"\n{len(rows) - missed} of {len(rows)} targets met; the run took {took:.0f} s")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6, help="Switchboard rounds a cell (and one more bare)")
    parser.add_argument("--seconds", type=int, default=3, help="length of a round")
    parser.add_argument("--concurrency", default="1,10", help="calls in flight, comma-separated")
    parser.add_argument(
        "--revisions", default=",".join(REVISIONS), help="protocol revisions, comma-separated"
    )
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto", help="load client")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url", help="an empty PostgreSQL database to use instead of a new SQLite file"
    )
    where.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL cluster and use it"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    sys.exit(main(parser.parse_args()))

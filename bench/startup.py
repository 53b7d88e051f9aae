"""Start-up time to ready and idle memory of `switchboard serve`, against a bare Litestar app.

Both are started the same way (a fresh process, uvicorn, SQLite), timed from spawn to the first
200 from their readiness URL, then left idle after a few requests before their resident memory is
read. Targets from the foundation issue: under 3 s to ready, under 150 MB RSS idle.

    .venv/bin/python bench/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_SECONDS = 3.0
TARGET_MB = 150.0

BASELINE_APP = """
import uvicorn
from litestar import Litestar, get

@get("/readyz", sync_to_thread=False)
def readyz() -> dict[str, str]:
    return {"status": "ready"}

uvicorn.run(Litestar([readyz]), host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


def measure(command: list[str], env: dict[str, str], port: int, warm_paths: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while get(f"http://127.0.0.1:{port}/readyz") != 200:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            if time.perf_counter() - started > 30:
                raise RuntimeError("not ready after 30 s")
            time.sleep(0.02)
        ready = time.perf_counter() - started
        for path in warm_paths:
            get(f"http://127.0.0.1:{port}{path}")
        time.sleep(2.0)
        return ready, rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SWITCHBOARD_DATA_DIR": tmp,
            "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "SWITCHBOARD_SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghij",
        }
        subprocess.run([BIN / "switchboard", "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([BIN / "switchboard", "demo"], env=env, check=True, capture_output=True)
        results: dict[str, list[tuple[float, float]]] = {"switchboard": [], "bare litestar": []}
        for _ in range(args.runs):
            port = free_port()
            results["switchboard"].append(
                measure(
                    [str(BIN / "switchboard"), "serve", "--port", str(port)],
                    env,
                    port,
                    ["/login", "/healthz", "/schema/openapi.json", "/static/app.css"],
                )
            )
            port = free_port()
            results["bare litestar"].append(
                measure([sys.executable, "-c", BASELINE_APP, str(port)], env, port, ["/readyz"])
            )

    median = {name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
              for name, runs in results.items()}  # fmt: skip
    print(f"{'':16}{'ready (s)':>12}{'idle RSS (MB)':>16}   ({args.runs} runs, medians)")
    for name, (seconds, mb) in median.items():
        print(f"{name:16}{seconds:12.2f}{mb:16.1f}")
    (sb_s, sb_mb), (base_s, base_mb) = median["switchboard"], median["bare litestar"]
    print(f"{'ratio':16}{sb_s / base_s:11.2f}x{sb_mb / base_mb:15.2f}x")
    ok_time, ok_mem = sb_s < TARGET_SECONDS, sb_mb < TARGET_MB
    print(f"target: ready < {TARGET_SECONDS:.0f} s: {'met' if ok_time else 'MISSED'}; "
          f"idle RSS < {TARGET_MB:.0f} MB: {'met' if ok_mem else 'MISSED'}")  # fmt: skip
    sys.exit(0 if ok_time and ok_mem else 1)


if __name__ == "__main__":
    main()

"""Shared helpers for the benchmarks: servers on loopback, wrk, medians."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Server(NamedTuple):
    port: int
    pid: int  # gunicorn's master; its workers are its children


@contextmanager
def gunicorn(app_spec: str, env: dict, workers: int, threads: int, cwd: Path = ROOT):
    port = free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--log-level", "warning", app_spec],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(port)
        yield Server(port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    print("installing wrk (Debian package) ...", file=sys.stderr)
    subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk",
                   shell=True, check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its living
    descendants, e.g. a gunicorn master and its workers (Linux /proc)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            # Fields after the command name: utime and stime are the 12th and 13th.
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # it exited meanwhile
    return total


class Load(NamedTuple):
    rate: float  # requests per second
    requests: int
    cpu_ms: float  # server CPU (all its processes) per request, in milliseconds


def load(server: Server, script: Path, seconds: int, connections: int, env: dict) -> Load:
    """wrk against ``server``, and the CPU time the server spent per request."""
    before = cpu_seconds(server.pid)
    rate, requests = wrk(server.port, script, seconds, connections, env)
    return Load(rate, requests, (cpu_seconds(server.pid) - before) / max(requests, 1) * 1000)


def wrk(port: int, script: Path, seconds: int, connections: int, env: dict) -> tuple[float, int]:
    """Requests per second and requests done; raises if any request failed
    (non-2xx or socket errors)."""
    out = subprocess.run(
        [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("requests failed during the load:\n" + out)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            int(re.search(r"(\d+) requests in", out).group(1)))


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

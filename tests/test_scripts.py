"""scripts/test stops the PostgreSQL server it started, and only that one.

It runs against stand-ins in a copy of the layout: scripts/setup does
nothing, scripts/pg records its commands and answers status as told, and
.venv/bin/python passes lint and answers pytest with the exit code asked.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

PG = """#!/usr/bin/env bash
echo "$1" >> "$(dirname "$0")/../pg.log"
case "$1" in
  status) [ -f "$(dirname "$0")/../pg.running" ] && { echo running; exit 0; }; echo stopped; exit 3 ;;
  start) touch "$(dirname "$0")/../pg.running"; echo postgresql+psycopg://x@127.0.0.1:1/x ;;
  stop) rm -f "$(dirname "$0")/../pg.running" ;;
esac
"""
PYTHON = """#!/usr/bin/env bash
if [ "$2" = pytest ]; then
  if [ -n "${TEST_DATABASE_URL:-}" ]; then exit "${PG_PYTEST_RC:-0}"; fi
  exit 0
fi
exit 0
"""


def run(tmp_path: Path, running: bool, pg_rc: int = 0):
    if not Path("/usr/bin/chromium").exists():  # scripts/test would apt-get install it
        pytest.skip("needs /usr/bin/chromium, which scripts/test installs first")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "test", repo / "scripts" / "test")
    for path, text in ((repo / "scripts" / "setup", "#!/usr/bin/env bash\n"),
                       (repo / "scripts" / "pg", PG), (repo / ".venv" / "bin" / "python", PYTHON)):
        path.write_text(text)
        path.chmod(0o755)
    if running:
        (repo / "pg.running").touch()
    env = {**os.environ, "PG_PYTEST_RC": str(pg_rc)}
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run([str(repo / "scripts" / "test")], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=60)
    return result, (repo / "pg.log").read_text().split(), (repo / "pg.running").exists()


def test_it_stops_the_server_it_started(tmp_path):
    result, calls, still_running = run(tmp_path, running=False)
    assert result.returncode == 0, result.stderr
    assert calls[-1] == "stop" and not still_running


def test_it_stops_the_server_it_started_when_the_tests_fail(tmp_path):
    result, calls, still_running = run(tmp_path, running=False, pg_rc=1)
    assert result.returncode != 0
    assert calls[-1] == "stop" and not still_running


def test_it_leaves_a_server_that_was_running_alone(tmp_path):
    result, calls, still_running = run(tmp_path, running=True)
    assert result.returncode == 0, result.stderr
    assert "stop" not in calls and still_running


FLASK = """#!/usr/bin/env bash
echo "$* WEBHOOK_ALLOW_PRIVATE=$WEBHOOK_ALLOW_PRIVATE PUBLIC_URL=$PUBLIC_URL" >> "$(dirname "$0")/../../flask.log"
[ "$3" = demo ] && echo qk_live_demo
exit 0
"""


def serve(tmp_path: Path, *args: str):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "serve", repo / "scripts" / "serve")
    for path, text in ((repo / "scripts" / "setup", "#!/usr/bin/env bash\n"),
                       (repo / ".venv" / "bin" / "flask", FLASK),
                       (repo / ".venv" / "bin" / "gunicorn", "#!/usr/bin/env bash\n")):
        path.write_text(text)
        path.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_URL", "WEBHOOK_ALLOW_PRIVATE", "PORT")}
    result = subprocess.run([str(repo / "scripts" / "serve"), *args], cwd=repo, env={**env, "PORT": "5123"},
                            capture_output=True, text=True, timeout=60)
    log = (repo / "flask.log").read_text().splitlines() if (repo / "flask.log").exists() else []
    return result, log


def test_serve_sets_up_the_demo_for_a_local_webhook_receiver_and_prints_the_urls(tmp_path):
    result, log = serve(tmp_path)
    assert result.returncode == 0, result.stderr
    demo = [line for line in log if line.startswith("--app app demo")]
    assert demo == ["--app app demo WEBHOOK_ALLOW_PRIVATE=1 PUBLIC_URL=http://127.0.0.1:5123"]
    for path in ("/", "/docs", "/demo", "/dashboard", "/health"):
        assert f"http://127.0.0.1:5123{path}" in result.stdout
    assert "qk_live_demo" in result.stdout


def test_serve_reset_demo_passes_reset_and_refuses_unknown_flags(tmp_path):
    result, log = serve(tmp_path, "--reset-demo")
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("--app app demo --reset ") for line in log)
    bad, _ = serve(tmp_path / "again", "--bogus")
    assert bad.returncode == 2 and "usage" in bad.stderr

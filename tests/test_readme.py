"""The README runs top to bottom: every ```sh block, in order, in one bash
session against a live demo server started as scripts/serve starts it
(SQLite in a temporary instance folder, free loopback ports, the webhook
worker beside it). Each command must exit 0 (set -e, pipefail) and no answer
may be a 5xx (the server's access log). Blocks that start the server or the
test suite themselves (scripts/serve, scripts/test) are not run.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench._servers import free_port, wait_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN = ("scripts/serve", "scripts/test")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", README.read_text(encoding="utf-8"), re.S | re.M)


def fake_venv(work: Path) -> None:
    """`.venv/bin/...` as the README calls them, for the interpreter running the tests."""
    bin_dir = work / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    here = Path(sys.executable).parent
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "flask").symlink_to(here / "flask")
    (bin_dir / "activate").write_text(
        f'_old_path="$PATH"; PATH="{bin_dir}:$PATH"; export PATH\n'
        'deactivate() { PATH="$_old_path"; export PATH; unset -f deactivate; }\n')


def test_the_readme_python_snippet_is_the_example_receiver_file():
    [snippet] = blocks("python")
    assert snippet == (ROOT / "examples" / "webhook_receiver.py").read_text(encoding="utf-8")


def test_every_shell_block_of_the_readme_runs_against_a_live_demo(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    fake_venv(work)
    (work / "examples").symlink_to(ROOT / "examples")
    port, receiver_port = free_port(), free_port()
    instance = tmp_path / "instance"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QUESTKIT_INSTANCE": str(instance),
           "PORT": str(port), "RECEIVER_PORT": str(receiver_port),
           "PUBLIC_URL": f"http://127.0.0.1:{port}", "WEBHOOK_ALLOW_PRIVATE": "1"}
    for name in ("DATABASE_URL", "SMTP_HOST", "SECRET_KEY"):
        env.pop(name, None)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    demo = subprocess.run([*flask, "demo"], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    assert "demo activity:" in demo.stderr and "Error" not in demo.stderr, demo.stderr
    access_log = tmp_path / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
         "--access-logfile", str(access_log), "--access-logformat", '%(s)s "%(r)s"', "app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    worker = subprocess.Popen([*flask, "webhooks", "work"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        shell = [b for b in blocks("sh") if not b.lstrip().startswith(NOT_RUN)]
        assert len(shell) >= 10
        script = "set -euo pipefail\nset -x\n" + "\n".join(shell)
        run = subprocess.run(["bash", "-c", script], env=env, cwd=work, capture_output=True, text=True,
                             timeout=240)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-6000:]
        # the webhook example: the README's receiver verified a real delivery
        assert re.search(r"verified msg_\w+ points\.rewarded", run.stdout), run.stdout[-3000:]
        assert "Idempotent-Replayed: true" in run.stdout
    finally:
        worker.terminate()
        server.terminate()
        worker.wait(10)
        server.wait(10)
    statuses = [line.split(" ", 1) for line in access_log.read_text().splitlines()]
    assert len(statuses) > 50
    assert [line for status, line in statuses if status.startswith("5")] == []

"""Issue 22: ``grader serve`` finds a taken port before the model loads, says where to go in one
plain line, and listens where GRADER_HOST / GRADER_PORT / PORT say (as hosting platforms pass
the port); ``make serve`` takes PORT and HOST."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grader.cli import main
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``uvicorn.run`` was called with; it never runs, so no model loads."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    return calls


def test_a_taken_port_is_said_plainly_before_anything_loads(
        uvicorn_runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"error: Port {port} on 127.0.0.1 is already in use")
    assert f"--port {port + 1}" in err and "{" not in err  # plain words, not a JSON log line
    assert uvicorn_runs == []  # found before uvicorn (and the model) started


def test_serve_prints_one_plain_line_with_the_page_and_the_docs(
        uvicorn_runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["serve", "--port", str(port)]) == 0
    [line] = capsys.readouterr().err.splitlines()
    url = f"http://127.0.0.1:{port}"
    assert f"practice page {url}/ and API docs {url}/docs." in line
    assert uvicorn_runs[0]["host"] == "127.0.0.1" and uvicorn_runs[0]["port"] == port


def test_port_and_host_come_from_the_settings_as_platforms_pass_them(
        monkeypatch: pytest.MonkeyPatch, uvicorn_runs: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    platform, own, flag = free_port(), free_port(), free_port()
    monkeypatch.setenv("HOST", "example.invalid")  # tcsh exports the machine's name: not read
    monkeypatch.setenv("PORT", str(platform))
    assert main(["serve"]) == 0
    monkeypatch.setenv("GRADER_PORT", str(own))  # the grader's own variable wins over PORT
    monkeypatch.setenv("GRADER_HOST", "0.0.0.0")
    assert main(["serve"]) == 0
    assert main(["serve", "--port", str(flag), "--host", "127.0.0.1"]) == 0  # flags win
    assert [(c["host"], c["port"]) for c in uvicorn_runs] == [
        ("127.0.0.1", platform), ("0.0.0.0", own), ("127.0.0.1", flag)]
    assert f"practice page http://127.0.0.1:{own}/ and" in capsys.readouterr().err
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.delenv("GRADER_PORT")
    assert main(["serve"]) == 3
    assert "PORT='eighty' is not a TCP port" in capsys.readouterr().err


def test_make_serve_passes_port_and_host_from_its_command_line() -> None:
    def dry_run(*args: str, env: dict[str, str] | None = None) -> str:
        # Run as a top-level make even under `make test`: a parent make's variables would
        # make this one print "Leaving directory" after the command.
        if env is None:
            env = {k: v for k, v in os.environ.items()
                   if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}}
        done = subprocess.run(["make", "--no-print-directory", "-n", "serve", *args], cwd=REPO,
                              capture_output=True, text=True, check=True, env=env)
        return done.stdout.splitlines()[-1]

    assert dry_run("PORT=9000", "HOST=0.0.0.0").endswith(
        'grader serve --host "0.0.0.0" --port "9000"')
    assert dry_run(env={"PATH": "/usr/bin:/bin", "HOST": "tcsh-machine-name"}).endswith(
        "grader serve")

"""A real ``grader serve`` process on 127.0.0.1 for the server and page tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 300.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def grader_serve(workdir: Path, **settings: str) -> Iterator[tuple[str, Path]]:
    """Start ``grader serve`` with a clean environment plus ``settings``; yield (url, log path).

    Waits until ``/readyz`` answers 200 (model and bank loaded); fails the test with the end of
    the server's log if it exits or is not ready in time. Stops the process afterwards.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "OPENAI_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **settings)
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("grader")), "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path)
        yield url, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`grader serve` exited with {process.returncode} before it was ready:\n"
                        f"{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"`grader serve` was not ready within {READY_TIMEOUT_S:.0f}s:\n"
                f"{log_path.read_text(errors='replace')[-4000:]}")

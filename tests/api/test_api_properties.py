"""Properties of the API over arbitrary input (issue 16, "beyond the list"), with Hypothesis.

Request bodies are drawn from the request schemas with hostile text in every field: any
Unicode, control and format characters, lone surrogates (sent as JSON ``\\ud800`` escapes, as
an attacker would), empty strings and very long runs. Whatever comes in:

- the answer is never a 5xx, and every error has the one error shape;
- a batch that is graded has exactly one entry per item, in order;
- the time to answer grows linearly with the size of the input, checked as the ratio between
  two sizes (never as a time limit).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import ApiSettings
from grader import Grader, QuestionBank, Settings
from tests.fakes import FakeEmbedder

BATCH_MAX_ITEMS = 6
MAX_ANSWER_CHARS = 40_000
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.function_scoped_fixture])

_LETTERS = st.characters()  # any code point but surrogates
_CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co"])
_SURROGATES = st.characters(categories=["Cs"])
_RUN = st.builds(lambda char, count: char * count,
                 st.sampled_from([" ", "\n", "\t", ",", ".", "a", "\x00", "\u200b", "\ud800",
                                  "\udfff", "\U0001f600"]),
                 st.integers(min_value=0, max_value=25_000))
#: Plain words often (so that many requests are graded), hostile text just as often.
_WORDS = st.lists(st.sampled_from(["Adam", "momentum", "stack", "LIFO", "gradient", "."]),
                  min_size=2, max_size=12).map(" ".join)
TEXT = st.one_of(st.just(""), _WORDS,
                 st.text(st.one_of(_LETTERS, _CONTROL), max_size=40),
                 st.text(st.one_of(_LETTERS, _SURROGATES), max_size=40), _RUN)
CRITIC = st.sampled_from(["auto", "offline", "llm", "gpt", ""])


@pytest.fixture
def client(bank: QuestionBank) -> Iterator[TestClient]:
    grader = Grader(bank, FakeEmbedder(), settings=Settings(max_answer_chars=MAX_ANSWER_CHARS))
    app = create_app(grader, api_settings=ApiSettings(batch_max_items=BATCH_MAX_ITEMS,
                                                      batcher_max_wait_ms=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _bank_requests(ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"question_id": st.one_of(st.sampled_from(ids), TEXT), "answer": TEXT},
        optional={"critic": CRITIC})


ADHOC_REQUESTS = st.fixed_dictionaries(
    {"question": TEXT, "reference_answers": st.lists(TEXT, max_size=3), "answer": TEXT},
    optional={"criteria": st.lists(TEXT, max_size=3), "id": TEXT, "critic": CRITIC})


def _post(client: TestClient, path: str, body: object) -> Any:
    # json.dumps escapes every non-ASCII character, lone surrogates included.
    return client.post(path, content=json.dumps(body), headers={"content-type":
                                                                "application/json"})


def _check_shape(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        assert isinstance(body["error"]["details"], dict)  # one shape, always an object
        assert len(body["error"]["details"].get("problems", [])) <= 21
    return body


@pytest.fixture
def bank_ids(bank: QuestionBank) -> list[str]:
    return bank.ids[:3]


def test_any_single_request_gets_a_result_or_an_error_never_a_500(
        client: TestClient, bank_ids: list[str]) -> None:
    @PROPERTY_SETTINGS
    @given(body=st.one_of(_bank_requests(bank_ids), ADHOC_REQUESTS))
    def check(body: dict[str, Any]) -> None:
        response = _post(client, "/v1/grade", body)
        result = _check_shape(response)
        if response.status_code == 200:
            assert 0 <= result["score"] <= 100 and result["source"] in ("bank", "adhoc")

    check()


def test_any_batch_gets_one_entry_per_item_in_order(
        client: TestClient, bank_ids: list[str]) -> None:
    item = st.one_of(_bank_requests(bank_ids), ADHOC_REQUESTS, st.just({}),
                     st.dictionaries(TEXT, TEXT, max_size=3))

    @PROPERTY_SETTINGS
    @given(items=st.lists(item, max_size=BATCH_MAX_ITEMS + 2))
    def check(items: list[dict[str, Any]]) -> None:
        response = _post(client, "/v1/grade/batch", {"items": items})
        body = _check_shape(response)
        if response.status_code == 200:
            assert [entry["index"] for entry in body["results"]] == list(range(len(items)))
            assert body["graded"] + body["failed"] == len(items)
        elif len(items) > BATCH_MAX_ITEMS:
            assert body["error"]["code"] == "too_many_items"

    check()


def test_any_json_value_as_a_body_is_refused_cleanly(client: TestClient) -> None:
    values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | TEXT,
                          lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(TEXT, inner, max_size=4), max_leaves=20)

    @PROPERTY_SETTINGS
    @given(body=values, path=st.sampled_from(["/v1/grade", "/v1/grade/batch"]))
    def check(body: object, path: str) -> None:
        _check_shape(_post(client, path, body))

    check()


# -- time grows linearly with the input --------------------------------------------------------

#: Inputs that trip super-linear code (backtracking regexes, quadratic scans): each makes a
#: request (path, JSON text) of about ``n`` characters.
PATHOLOGICAL: dict[str, Callable[[int], tuple[str, str]]] = {
    "answer of spaces": lambda n: _answer("a" + " " * n + "b"),
    "answer of commas": lambda n: _answer("a, " * (n // 3)),
    "answer of dots": lambda n: _answer("." * n),
    "answer of newlines and tabs": lambda n: _answer("\n\t " * (n // 3)),
    "answer of one long word": lambda n: _answer("a" * n),
    "answer of zero-width spaces": lambda n: _answer("a\u200b" * (n // 2)),
    "lone surrogate at the end": lambda n: _answer("a" * n + "\ud800"),
    "unknown fields": lambda n: ("/v1/grade", json.dumps(
        {"question_id": "adam-optimizer", "answer": "", **{f"f{i}": 0 for i in range(n // 8)}})),
    "deeply nested JSON": lambda n: ("/v1/grade/batch",
                                     '{"items": ' + "[" * (n // 2) + "]" * (n // 2) + "}"),
    "many empty batch items": lambda n: ("/v1/grade/batch",
                                         json.dumps({"items": [{}] * (n // 3)})),
}


def _answer(answer: str) -> tuple[str, str]:
    return "/v1/grade", json.dumps({"question_id": "adam-optimizer", "answer": answer})


SMALL, LARGE = 4_000, 32_000
#: A linear cost grows LARGE / SMALL = 8 times; quadratic, 64 times. The fixed cost of a request
#: only lowers the ratio, and timing noise is absorbed by taking each size's best of several.
MAX_RATIO = 24


def _best_times(client: TestClient, requests: list[tuple[str, str]], repeats: int = 5
                ) -> list[float]:
    """Each request's best time of ``repeats``, taken in turns, so that a burst of load on a
    shared machine slows both sizes alike."""
    best = [float("inf")] * len(requests)
    for _ in range(repeats):
        for index, (path, content) in enumerate(requests):
            started = time.perf_counter()
            response = client.post(path, content=content, headers={"content-type":
                                                                   "application/json"})
            best[index] = min(best[index], time.perf_counter() - started)
            _check_shape(response)
    return best


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_time_grows_linearly_with_the_input(client: TestClient, name: str) -> None:
    make = PATHOLOGICAL[name]
    small, large = _best_times(client, [make(SMALL), make(LARGE)])
    assert large / small < MAX_RATIO, (
        f"{name}: {LARGE:,} characters took {large / small:.1f}x as long as {SMALL:,} "
        f"({small * 1000:.1f} ms, {large * 1000:.1f} ms); linear would be {LARGE // SMALL}x")

"""Issue 16 at the HTTP boundary: text that is not Unicode, amplification, impersonation, metric
labels and the practice page's headers."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api_routes import assert_error

ADAM = "adam-optimizer"
LONE = "x \ud800 y"  # json.dumps writes it as the escape "\ud800", as an attacker would send it
ADHOC = {"question": "What is a stack?", "reference_answers": ["A last-in first-out collection."],
         "answer": "LIFO"}


def _post(client: TestClient, path: str, body: object):  # type: ignore[no-untyped-def]
    return client.post(path, content=json.dumps(body),
                       headers={"content-type": "application/json"})


@pytest.mark.parametrize(("body", "field"), [
    ({"question_id": ADAM, "answer": LONE}, "answer"),
    ({"question_id": f"adam{LONE}", "answer": "momentum"}, "question_id"),
    ({**ADHOC, "answer": LONE}, "answer"),
    ({**ADHOC, "question": f"What is {LONE}?"}, "question"),
    ({**ADHOC, "reference_answers": ["fine", LONE]}, "reference_answers"),
    ({**ADHOC, "criteria": [LONE]}, "criteria"),
    ({**ADHOC, "id": LONE}, "id"),
])
def test_a_lone_surrogate_in_any_text_field_is_a_422_naming_it(
        client: TestClient, body: dict[str, object], field: str) -> None:
    error = assert_error(_post(client, "/v1/grade", body), 422, "validation_error")
    assert f"'{field}'" in error["message"] and "U+D800" in error["message"]
    assert [d["type"] for d in error["details"]["problems"]] == ["lone_surrogate"]
    # the field as the client sent it, right under the body: no union tag ("bank", "adhoc")
    assert error["details"]["problems"][0]["loc"] == ["body", field]


def test_a_lone_surrogate_in_a_batch_item_fails_that_item_alone(client: TestClient) -> None:
    body = {"items": [{"question_id": ADAM, "answer": "momentum"},
                      {"question_id": ADAM, "answer": LONE}]}
    response = _post(client, "/v1/grade/batch", body)
    assert response.status_code == 200 and response.json()["graded"] == 1
    failed = response.json()["results"][1]
    assert failed["status"] == "error" and failed["error"]["code"] == "validation_error"
    assert failed["error"]["details"]["problems"][0]["loc"] == ["answer"]
    assert failed["error"]["message"].startswith("Item 1 is not valid: field 'answer'")
    # a surrogate pair is one whole character, and grades
    pair = _post(client, "/v1/grade", {"question_id": ADAM, "answer": "Adam \U0001f600"})
    assert pair.status_code == 200


def test_a_batch_over_the_limit_is_refused_on_the_count_alone(make_client) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, H4: every item was validated first, and every error returned (0.6 MB in,
    36.8 MB out)."""
    with make_client(batch_max_items=3, max_body_bytes=1024 * 1024) as client:
        response = client.post("/v1/grade/batch", json={"items": [{}] * 100_000})
        error = assert_error(response, 422, "too_many_items")
        assert error["details"] == {"items": 100_000, "max_items": 3}
        assert len(response.content) < 1_000
        assert "maxItems" in json.dumps(client.get("/openapi.json").json()["components"][
            "schemas"]["BatchGradeRequest"])


def test_error_details_list_at_most_twenty_problems_and_count_the_rest(
        client: TestClient) -> None:
    body = {"question_id": ADAM, "answer": "x", **{f"extra{n}": n for n in range(500)}}
    response = client.post("/v1/grade", json=body)
    error = assert_error(response, 422, "validation_error")
    assert len(error["details"]["problems"]) == 21
    assert error["details"]["problems"][-1] == {
        "loc": [], "msg": "and 480 more problems, not shown", "type": "more_problems"}
    assert "(and 495 more)" in error["message"]
    batch = client.post("/v1/grade/batch", json={"items": [body, body]})
    assert batch.status_code == 200 and batch.json()["failed"] == 2
    assert [len(item["error"]["details"]["problems"]) for item in batch.json()["results"]] == [
        21, 21]


def test_an_adhoc_question_cannot_take_a_bank_id(client: TestClient) -> None:
    """Issue 16, M12: a trivial rubric under a bank id returned that id, 100 and pass."""
    impostor = {"id": ADAM, "question": "Say yes.", "reference_answers": ["yes yes"],
                "criteria": ["yes yes"], "answer": "yes yes"}
    error = assert_error(client.post("/v1/grade", json=impostor), 422, "invalid_question")
    assert "'adam-optimizer' is the id of a question in the bank" in error["message"]
    batch = client.post("/v1/grade/batch", json={"items": [impostor]}).json()
    assert batch["results"][0]["error"]["code"] == "invalid_question"

    bank = client.post("/v1/grade", json={"question_id": ADAM, "answer": "momentum"}).json()
    adhoc = client.post("/v1/grade", json={**ADHOC, "id": "my-stack"}).json()
    assert (bank["source"], adhoc["source"], adhoc["question_id"]) == ("bank", "adhoc",
                                                                       "my-stack")


def test_unknown_methods_are_counted_as_other(client: TestClient) -> None:
    """Issue 16, M4: each method token a client made up became a label value."""
    for method in ("FOO", "BAR", "GET"):
        client.request(method, "/v1/grade")
    metrics = client.get("/metrics").text
    assert 'method="other",route="/v1/grade",status="405"} 2' in metrics
    assert 'method="GET",route="/v1/grade",status="405"} 1' in metrics
    assert "FOO" not in metrics and "BAR" not in metrics


@pytest.mark.parametrize("path", ["/", "/app.js", "/style.css"])
def test_the_practice_page_is_sent_with_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"

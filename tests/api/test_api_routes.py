"""The endpoints through the ASGI app, with a fake embedder: shapes, filters, grading, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from grader import Grader, QuestionBank
from tests.fakes import MAX_ANSWER_CHARS

ADAM = "adam-optimizer"
ANSWER = ("Adam keeps a moving average of the gradient, like momentum, and divides each step by "
          "the square root of a moving average of squared gradients.")


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert response.headers["x-request-id"]
    return dict(body["error"])


def test_list_questions_filters_and_pages(client: TestClient, bank: QuestionBank) -> None:
    everything = client.get("/v1/questions", params={"limit": 100}).json()
    assert everything["total"] == len(bank) and len(everything["items"]) == len(bank)
    assert everything["next_offset"] is None

    first = client.get("/v1/questions", params={"limit": 5}).json()
    second = client.get("/v1/questions", params={"limit": 5, "offset": 5}).json()
    assert first["next_offset"] == 5
    ids = [q["id"] for q in first["items"] + second["items"]]
    assert ids == [q["id"] for q in everything["items"]][:10]

    advanced = client.get("/v1/questions", params={"difficulty": "advanced"}).json()
    assert advanced["total"] == len(bank.filter(difficulty="advanced")) > 0
    assert {q["difficulty"] for q in advanced["items"]} == {"advanced"}
    tag = next(iter(bank)).tags[0]
    tagged = client.get("/v1/questions", params={"tag": tag}).json()
    assert tagged["items"] and all(tag in q["tags"] for q in tagged["items"])


def test_list_questions_by_area_and_text(client: TestClient, bank: QuestionBank) -> None:
    scale = client.get("/v1/questions", params={"area": "scale"}).json()
    assert scale["total"] == len(bank.filter(area="scale")) > 0
    assert {q["area"] for q in scale["items"]} == {"scale"}

    # Case-insensitive, over the question text and the tags; filters combine.
    found = client.get("/v1/questions", params={"q": "kv CACHE"}).json()
    assert "attention-cost-and-kv-cache" in [q["id"] for q in found["items"]]
    by_tag = client.get("/v1/questions", params={"q": "Positional-ENCODING"}).json()
    assert by_tag["items"] and all(
        "positional-encoding" in " ".join([q["question"], *q["tags"]]).lower()
        for q in by_tag["items"])
    combined = client.get("/v1/questions", params={"q": "attention", "area": "architectures",
                                                   "difficulty": "intermediate"}).json()
    expected = bank.filter(search="attention", area="architectures", difficulty="intermediate")
    assert [q["id"] for q in combined["items"]] == [r.id for r in expected]
    assert combined["total"] == len(expected) > 0

    # Paging applies to the matches.
    regular = bank.filter(search="regularisation")
    assert len(regular) > 3
    page = client.get("/v1/questions", params={"q": "regularisation", "limit": 2,
                                               "offset": 2}).json()
    assert page["total"] == len(regular) and page["next_offset"] == 4
    assert [q["id"] for q in page["items"]] == [r.id for r in regular[2:4]]
    nothing = client.get("/v1/questions", params={"q": "no question says this"}).json()
    assert nothing == {"items": [], "total": 0, "limit": 20, "offset": 0, "next_offset": None}


def test_questions_show_area_and_either_form_of_source(client: TestClient) -> None:
    adam = client.get(f"/v1/questions/{ADAM}").json()
    assert adam["area"] == "optimisation"
    assert adam["source"]["document"] and adam["source"]["number"] == 4
    dropout = client.get("/v1/questions/dropout").json()
    assert dropout["area"] == "regularisation"
    assert set(dropout["source"]) == {"literature"} and "Srivastava" in dropout["source"][
        "literature"]
    listed = client.get("/v1/questions", params={"q": "dropout work"}).json()["items"]
    assert [q["source"] for q in listed] == [dropout["source"]]


def test_bad_area_or_over_long_search_is_422(client: TestClient) -> None:
    error = assert_error(client.get("/v1/questions", params={"area": "maths"}), 422,
                         "validation_error")
    assert "foundations" in error["message"] and "language-models" in error["message"]
    assert_error(client.get("/v1/questions", params={"q": "x" * 201}), 422, "validation_error")


def test_bad_filter_lists_the_choices(client: TestClient) -> None:
    error = assert_error(client.get("/v1/questions", params={"difficulty": "hard"}), 422,
                         "validation_error")
    assert "basic" in error["message"] and "advanced" in error["message"]


def test_question_hides_reference_answers_unless_asked(client: TestClient,
                                                       bank: QuestionBank) -> None:
    plain = client.get(f"/v1/questions/{ADAM}").json()
    assert plain["id"] == ADAM and plain["criteria"]
    assert "reference_answers" not in plain and "misconceptions" not in plain
    assert all("phrasings" not in criterion for criterion in plain["criteria"])

    full = client.get(f"/v1/questions/{ADAM}", params={"include": "reference"}).json()
    assert full["reference_answers"] == list(bank.get(ADAM).reference_answers)
    assert "phrasings" in full["criteria"][0]


def test_unknown_question_is_404_naming_the_id(client: TestClient) -> None:
    error = assert_error(client.get("/v1/questions/no-such-thing"), 404, "unknown_question")
    assert "'no-such-thing'" in error["message"] and error["details"] == {
        "question_id": "no-such-thing"}
    error = assert_error(client.post("/v1/grade", json={"question_id": "nope", "answer": "x"}),
                         404, "unknown_question")
    assert "'nope'" in error["message"]


def test_grade_a_bank_question(client: TestClient) -> None:
    response = client.post("/v1/grade", json={"question_id": ADAM, "answer": ANSWER})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["question_id"] == ADAM and 0 <= result["score"] <= 100
    assert result["verdict"] in {"pass", "borderline", "fail"}
    assert result["critic"]["kind"] == "offline"
    assert any(c["status"] in {"met", "partial"} for c in result["criteria"])


def test_grade_an_adhoc_question(client: TestClient) -> None:
    response = client.post("/v1/grade", json={
        "question": "What is a stack?",
        "reference_answers": ["A stack is a last-in first-out collection of items."],
        "answer": "A stack is a last-in first-out collection.",
    })
    assert response.status_code == 200, response.text
    assert response.json()["question_id"].startswith("adhoc-")


def test_adhoc_question_the_grader_cannot_use_is_422(client: TestClient) -> None:
    error = assert_error(client.post("/v1/grade", json={
        "question": "Why?", "reference_answers": ["ok"], "answer": "x"}), 422, "invalid_question")
    assert "at least 3 characters" in error["message"]


def test_empty_answer_is_a_graded_zero(client: TestClient) -> None:
    result = client.post("/v1/grade", json={"question_id": ADAM, "answer": ""}).json()
    assert result["score"] == 0 and result["verdict"] == "fail" and "empty" in result["flags"]


def test_answer_over_the_limit_says_the_limit(client: TestClient) -> None:
    too_long = "x" * (MAX_ANSWER_CHARS + 1)
    error = assert_error(client.post("/v1/grade", json={"question_id": ADAM, "answer": too_long}),
                         422, "invalid_answer")
    assert f"{MAX_ANSWER_CHARS:,}" in error["message"]
    assert error["details"] == {"max_answer_chars": MAX_ANSWER_CHARS}


def test_llm_critic_without_an_llm_is_409(client: TestClient) -> None:
    error = assert_error(client.post("/v1/grade", json={
        "question_id": ADAM, "answer": ANSWER, "critic": "llm"}), 409, "critic_unavailable")
    assert "GRADER_LLM_MODEL" in error["message"]


def test_wrong_types_and_unknown_fields_are_422(client: TestClient) -> None:
    error = assert_error(client.post("/v1/grade", json={"question_id": ADAM, "answer": 42}),
                         422, "validation_error")
    assert error["details"]["problems"][0]["loc"] == ["body", "answer"]
    assert_error(client.post("/v1/grade", json={"question_id": ADAM, "answer": "a", "x": 1}),
                 422, "validation_error")
    assert_error(client.post("/v1/grade", json=["not", "an", "object"]), 422, "validation_error")
    assert_error(client.post("/v1/grade", json={"question_id": ADAM, "answer": "a",
                                                "critic": "gpt"}), 422, "validation_error")


def test_invalid_json_and_invalid_utf8_are_400(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    assert_error(client.post("/v1/grade", content=b'{"question_id": ', headers=headers),
                 400, "invalid_json")
    error = assert_error(client.post("/v1/grade", content=b'{"answer": "caf\xe9"}',
                                     headers=headers), 400, "invalid_utf8")
    assert error["details"] == {"offset": 15}


def test_body_too_large_by_header_and_by_stream(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client(max_body_bytes=2048) as client:
        big = {"question_id": ADAM, "answer": "word " * 1000}
        error = assert_error(client.post("/v1/grade", json=big), 413, "body_too_large")
        assert "2,048 bytes" in error["message"]

        def chunks():  # type: ignore[no-untyped-def]
            yield b'{"question_id": "adam-optimizer", "answer": "'
            for _ in range(10):
                yield b"x" * 500
            yield b'"}'

        streamed = client.post("/v1/grade", content=chunks(),
                               headers={"content-type": "application/json"})
        assert "content-length" not in streamed.request.headers
        assert_error(streamed, 413, "body_too_large")
        assert client.post("/v1/grade", json={"question_id": ADAM, "answer": "ok"}).status_code \
            == 200


def test_batch_returns_one_entry_per_item_in_order(client: TestClient) -> None:
    items = [
        {"question_id": ADAM, "answer": ANSWER},
        {"question_id": "nope", "answer": "x"},
        {"question_id": ADAM, "answer": "x" * (MAX_ANSWER_CHARS + 1)},
        {"question": "Why?", "reference_answers": ["ok"], "answer": "x"},
        {"question_id": ADAM, "answer": ""},
    ]
    body = client.post("/v1/grade/batch", json={"items": items}).json()
    assert [r["index"] for r in body["results"]] == list(range(5))
    assert [r["status"] for r in body["results"]] == ["graded", "error", "error", "error", "graded"]
    assert [r["error"]["code"] for r in body["results"] if r["status"] == "error"] == [
        "unknown_question", "invalid_answer", "invalid_question"]
    assert body["graded"] == 2 and body["failed"] == 3
    assert body["results"][4]["result"]["score"] == 0


def test_too_many_batch_items_says_the_limit(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client(batch_max_items=3) as client:
        items = [{"question_id": ADAM, "answer": "a"}] * 4
        error = assert_error(client.post("/v1/grade/batch", json={"items": items}), 422,
                             "too_many_items")
        assert "limit is 3" in error["message"]
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert schema["BatchGradeRequest"]["properties"]["items"]["maxItems"] == 3
        assert client.post("/v1/grade/batch", json={"items": items[:3]}).status_code == 200


def test_unknown_routes_and_methods_use_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    error = assert_error(client.delete("/v1/grade"), 405, "method_not_allowed")
    assert "POST" in error["message"]


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert len(generated.headers["x-request-id"]) == 32
    assert client.get("/nope").headers["x-request-id"]


def test_health_and_readiness(client: TestClient, bank: QuestionBank) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["questions"] == len(bank)
    assert ready["embedding_model"] == "fake-bag-of-words"


def test_metrics_count_requests_grades_and_errors(client: TestClient) -> None:
    client.post("/v1/grade", json={"question_id": ADAM, "answer": ""})
    client.post("/v1/grade", json={"question_id": "nope", "answer": "x"})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'grader_http_requests_total{method="POST",route="/v1/grade",status="200"} 1' in text
    assert 'grader_http_requests_total{method="POST",route="/v1/grade",status="404"} 1' in text
    assert 'grader_grades_total{critic="offline",verdict="fail"} 1' in text
    assert 'grader_errors_total{code="unknown_question"} 1' in text
    assert 'grader_http_request_duration_seconds_count{method="POST",route="/v1/grade"} 2' in text
    assert "# TYPE grader_llm_fallbacks_total counter" in text
    assert 'grader_batch_size_items_bucket{le="1"} 2' in text


def test_openapi_documents_the_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/v1/questions", "/v1/questions/{question_id}", "/v1/grade", "/v1/grade/batch",
            "/healthz", "/readyz", "/metrics"} <= set(schema["paths"])
    grade = schema["paths"]["/v1/grade"]["post"]
    assert {"200", "404", "422"} <= set(grade["responses"])
    assert grade["requestBody"]["content"]["application/json"]["examples"]


def test_unknown_query_parameters_are_rejected(client: TestClient) -> None:
    error = assert_error(client.get("/v1/questions", params={"difficuly": "basic"}), 422,
                         "validation_error")
    assert "difficuly" in error["message"]


def test_static_pages_never_shadow_api_routes(client: TestClient) -> None:
    assert_error(client.get("/v1/grade"), 405, "method_not_allowed")
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")


def test_not_ready_before_the_lifespan_has_run(fake_grader: Grader) -> None:
    app = create_app(fake_grader, api_settings=ApiSettings())
    client = TestClient(app)  # not entered: the lifespan (model, batcher) never started
    assert_error(client.get("/readyz"), 503, "not_ready")
    assert_error(client.post("/v1/grade", json={"question_id": ADAM, "answer": "x"}), 503,
                 "not_ready")
    assert client.get("/healthz").status_code == 200


def test_a_server_fault_is_a_json_500_with_the_request_id(fake_grader: Grader) -> None:
    def broken(items: object) -> list[object]:
        raise RuntimeError("a bug, not a client error")

    fake_grader.prepare_many = broken  # type: ignore[method-assign, assignment]
    with TestClient(create_app(fake_grader, api_settings=ApiSettings())) as client:
        response = client.post("/v1/grade", json={"question_id": ADAM, "answer": "x"},
                               headers={"X-Request-ID": "fault-1"})
        error = assert_error(response, 500, "internal_error")
        assert "fault-1" in error["message"] and "a bug" not in error["message"]
        assert 'grader_errors_total{code="internal_error"} 1' in client.get("/metrics").text

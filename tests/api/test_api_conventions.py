"""Issue 22, API: the conventions a client expects of a FastAPI service (415 for a body that is not
JSON, locations as sent, one ``details`` shape, per-item batch errors, one input vocabulary,
HEAD probes, route labels on /metrics, docs that work offline)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api_routes import ADAM, ANSWER, assert_error

ADHOC = {"question": "What is a stack?", "answer": "A LIFO structure: pop returns the last push.",
         "reference_answers": ["A last-in, first-out collection: push adds, pop removes the top."]}


@pytest.mark.parametrize("path", ["/v1/grade", "/v1/grade/batch"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain",
                                          "multipart/form-data; boundary=x", ""])
def test_a_body_not_sent_as_json_is_a_415_saying_to_send_json(
        client: TestClient, path: str, content_type: str) -> None:
    body = f'{{"question_id": "{ADAM}", "answer": "momentum"}}'
    headers = {"content-type": content_type} if content_type else {}
    error = assert_error(client.post(path, content=body, headers=headers),
                         415, "unsupported_media_type")
    assert "Content-Type: application/json" in error["message"]
    assert error["details"] == {"content_type": content_type, "expected": "application/json"}


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "Application/JSON", "application/merge-patch+json"])
def test_every_json_media_type_is_read_as_json(client: TestClient, content_type: str) -> None:
    body = f'{{"question_id": "{ADAM}", "answer": "momentum"}}'.encode()
    response = client.post("/v1/grade", content=body, headers={"content-type": content_type})
    assert response.status_code == 200, response.text


def test_validation_locations_name_the_fields_the_client_sent(client: TestClient) -> None:
    """Not the union's internal tag: ``body.bank.answer``, ``body.adhoc.reference_answers``."""
    bank = assert_error(client.post("/v1/grade", json={"question_id": ADAM}), 422,
                        "validation_error")
    adhoc = assert_error(client.post("/v1/grade", json={"question": "What?", "answer": "x"}),
                         422, "validation_error")
    not_an_object = assert_error(client.post("/v1/grade", json=[1]), 422, "validation_error")
    assert [p["loc"] for p in bank["details"]["problems"]] == [["body", "answer"]]
    assert [p["loc"] for p in adhoc["details"]["problems"]] == [["body", "reference_answers"]]
    assert [p["loc"] for p in not_an_object["details"]["problems"]] == [["body"]]
    assert "field 'body.answer'" in bank["message"]
    assert "field 'body.reference_answers'" in adhoc["message"]
    assert "JSON object" in not_an_object["message"]
    for error in (bank, adhoc, not_an_object):
        assert not re.search(r"\b(bank|adhoc|BankGradeRequest)\b", str(error))


def test_details_is_always_an_object_and_documented_so(client: TestClient) -> None:
    errors = [
        assert_error(client.get("/no/such/route", headers={"accept": "application/json"}),
                     404, "not_found"),
        assert_error(client.get("/v1/grade"), 405, "method_not_allowed"),
        assert_error(client.post("/v1/grade", json={"question_id": "nope", "answer": "x"}),
                     404, "unknown_question"),
        assert_error(client.post("/v1/grade", json={**ADHOC, "reference_answers": ["a"]}),
                     422, "invalid_question"),
        assert_error(client.post("/v1/grade", json={"answer": 1}), 422, "validation_error"),
        assert_error(client.post("/v1/grade", content=b"{", headers={
            "content-type": "application/json"}), 400, "invalid_json"),
    ]
    assert all(isinstance(error["details"], dict) for error in errors)
    assert errors[0]["details"] == errors[1]["details"] == {}
    assert [type(error["details"].get("problems")) for error in errors[3:]] == [list] * 3
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ErrorBody"]
    assert schema["properties"]["details"]["type"] == "object"


def test_a_wrongly_typed_batch_item_fails_alone_like_an_unknown_id(client: TestClient) -> None:
    items = [{"question_id": ADAM, "answer": ANSWER}, {"question_id": "nope", "answer": "x"},
             {"question_id": ADAM, "answer": 42}, "not an object",
             {**ADHOC, "reference_answers": "not a list"}]
    response = client.post("/v1/grade/batch", json={"items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["graded"], body["failed"]) == (1, 4)
    results = body["results"]
    assert [r["status"] for r in results] == ["graded", "error", "error", "error", "error"]
    assert [r["error"]["code"] for r in results[1:]] == ["unknown_question"] + [
        "validation_error"] * 3
    assert [r["error"]["details"]["problems"][0]["loc"] for r in results[2:]] == [
        ["answer"], [], ["reference_answers"]]
    assert results[2]["error"]["message"] == (
        "Item 2 is not valid: field 'answer': Input should be a valid string")
    metrics = client.get("/metrics").text
    assert 'grader_errors_total{code="validation_error"} 3' in metrics


def test_reference_answer_is_accepted_as_in_batch_files(client: TestClient) -> None:
    """One vocabulary: ``reference_answer`` (one string) as batch files and the CLI take it."""
    single = {key: value for key, value in ADHOC.items() if key != "reference_answers"}
    single["reference_answer"] = ADHOC["reference_answers"][0]
    one = client.post("/v1/grade", json=single)
    many = client.post("/v1/grade", json=ADHOC)
    assert one.status_code == many.status_code == 200, one.text
    assert one.json()["question_id"] == many.json()["question_id"]  # the same question
    batch = client.post("/v1/grade/batch", json={"items": [single]}).json()
    assert batch["graded"] == 1
    wrong = assert_error(client.post("/v1/grade", json={**single, "reference_answer": ["a"]}),
                         422, "validation_error")
    assert "'reference_answer' should be one string" in wrong["message"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_head_as_well_as_get(client: TestClient, path: str) -> None:
    response = client.head(path)
    assert response.status_code == 200 and response.content == b""
    assert client.get(path).status_code == 200
    assert set(client.get("/openapi.json").json()["paths"][path]) == {"get"}


def test_metrics_label_the_docs_and_the_page_by_route_not_unmatched(client: TestClient) -> None:
    for path in ("/docs", "/", "/app.js", "/docs/assets/swagger-ui.css"):
        assert client.get(path).status_code == 200
    client.post("/no-such-route")
    lines = [line for line in client.get("/metrics").text.splitlines()
             if line.startswith("grader_http_requests_total")]
    labels = {re.search(r'route="([^"]*)"', line).group(1) for line in lines}  # type: ignore[union-attr]
    assert {"/docs", "/", "/docs/assets"} <= labels
    assert 'grader_http_requests_total{method="GET",route="/",status="200"} 2' in lines
    assert 'grader_http_requests_total{method="POST",route="unmatched",status="404"} 1' in lines


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_every_file_from_this_server_not_a_cdn(client: TestClient, page: str) -> None:
    html = client.get(page).text
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and not [url for url in urls if "//" in url]  # no CDN, no other host
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    if page == "/docs":  # Swagger UI 5: it renders OpenAPI 3.1, which FastAPI writes
        bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
        assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
        assert re.search(r'"5\.\d+\.\d+"', bundle)


def test_the_readme_names_every_file_of_the_page() -> None:
    """Issue 22: the README said three static files when there were seven."""
    from api.app import STATIC_DIR

    readme = (STATIC_DIR.parents[1] / "README.md").read_text()
    files = sorted(path.name for path in STATIC_DIR.iterdir() if path.is_file())
    numbers = {7: "seven", 8: "eight", 9: "nine", 10: "ten"}
    assert f"The page is {numbers.get(len(files), len(files))} static files" in readme
    assert all(f"`{name}`" in readme for name in files), files


def test_an_adhoc_question_of_only_spaces_is_a_422_not_a_500(client: TestClient) -> None:
    """Found by the property tests on the way: the request model kept the spaces, the question
    model stripped them and failed outside any handler."""
    error = assert_error(client.post("/v1/grade", json={**ADHOC, "question": "   "}), 422,
                         "invalid_question")
    assert error["details"]["problems"] == ["field 'question': String should have at least 1 "
                                            "character"]

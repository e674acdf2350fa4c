"""API keys, CORS and logs: what a deployment relies on."""

from __future__ import annotations

import json
import logging

import pytest

from api.logs import JsonFormatter

ADAM = "adam-optimizer"


def test_keys_guard_v1_routes_but_not_health(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client(api_keys="first-key, second-key") as client:
        missing = client.get("/v1/questions")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.post("/v1/grade", json={"question_id": ADAM, "answer": "x"},
                            headers={"Authorization": "Bearer first-key-nope"})
        assert wrong.status_code == 401
        assert client.get("/v1/questions", headers={"Authorization": "Basic first-key"}
                          ).status_code == 401
        for key in ("first-key", "second-key"):
            assert client.get("/v1/questions", headers={"Authorization": f"Bearer {key}"}
                              ).status_code == 200
        for open_route in ("/healthz", "/readyz", "/metrics"):
            assert client.get(open_route).status_code == 200
        schema = client.get("/openapi.json").json()
        assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_without_keys_v1_is_open_and_the_schema_says_so(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/v1/questions").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


def test_cors_allows_only_configured_origins(make_client) -> None:  # type: ignore[no-untyped-def]
    with make_client(cors_origins="https://practice.example") as client:
        preflight = client.options("/v1/grade", headers={
            "Origin": "https://practice.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://practice.example"
        assert preflight.headers["x-request-id"]
        other = client.get("/v1/questions", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_logs_are_json_lines_without_answer_text_or_keys(
        make_client, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    secret_answer = "Zanzibar-quokka momentum phrase"
    with make_client(api_keys="sekrit-key-123") as client, caplog.at_level(logging.INFO):
        client.post("/v1/grade", json={"question_id": ADAM, "answer": secret_answer},
                    headers={"Authorization": "Bearer sekrit-key-123", "X-Request-ID": "r-1"})
        client.post("/v1/grade", json={"question_id": ADAM, "answer": secret_answer},
                    headers={"Authorization": "Bearer wrong"})
    lines = [JsonFormatter().format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]
    graded = [e for e in entries if e.get("request_id") == "r-1"]
    assert graded and graded[0]["status"] == 200 and graded[0]["route"] == "/v1/grade"
    assert {e.get("status") for e in entries if e["message"] == "request"} >= {200, 401}
    joined = "\n".join(lines)
    assert "Zanzibar" not in joined and "sekrit" not in joined and "wrong" not in joined

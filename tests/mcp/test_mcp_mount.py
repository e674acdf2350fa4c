"""``/mcp`` in the app, in process: the app's lifespan runs the MCP session manager, the API keys
guard it, and the tools grade through the app's batcher."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from grader import Grader, GradeResult

ACCEPT = {"Accept": "application/json, text/event-stream"}


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params else {})}


def test_the_app_lifespan_runs_the_mcp_endpoint_each_time_it_starts(fake_grader: Grader) -> None:
    app = create_app(fake_grader, api_settings=ApiSettings())
    for _ in range(2):  # a session manager runs once: each start gets a fresh one
        with TestClient(app) as client:
            listed = client.post("/mcp", json=rpc("tools/list"), headers=ACCEPT)
            assert listed.status_code == 200, listed.text
            assert len(listed.json()["result"]["tools"]) == 4
    # Outside the lifespan there is no session manager: a clear 503, not a crash.
    refused = TestClient(app).post("/mcp", json=rpc("tools/list"), headers=ACCEPT)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "not_ready"


def test_grade_answer_over_http_goes_through_the_batcher(fake_grader: Grader) -> None:
    with TestClient(create_app(fake_grader, api_settings=ApiSettings())) as client:
        called = client.post("/mcp", headers=ACCEPT, json=rpc("tools/call", {
            "name": "grade_answer",
            "arguments": {"question_id": "adam-optimizer", "answer": "Adam adapts steps."}}))
        result = called.json()["result"]
        graded = GradeResult.model_validate(result["structuredContent"])
        assert graded == fake_grader.grade("adam-optimizer", "Adam adapts steps.",
                                           critic="offline")
        metrics = client.get("/metrics").text
        assert 'grader_grades_total{critic="offline"' in metrics
        assert 'route="/mcp"' in metrics


def test_api_keys_guard_mcp_as_they_guard_v1(fake_grader: Grader) -> None:
    app = create_app(fake_grader, api_settings=ApiSettings(api_keys=["k1", "k2"]))
    with TestClient(app) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic k1"}):
            refused = client.post("/mcp", json=rpc("tools/list"), headers={**ACCEPT, **headers})
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "unauthorized"
            assert refused.headers["WWW-Authenticate"] == "Bearer"
        allowed = client.post("/mcp", json=rpc("tools/list"),
                              headers={**ACCEPT, "Authorization": "Bearer k2"})
        assert allowed.status_code == 200


def test_without_the_mcp_extra_the_api_runs_and_says_why_mcp_is_missing(
        fake_grader: Grader, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "mcp.server", None)  # importing it now raises ImportError
    with caplog.at_level(logging.WARNING, logger="grader.api"):
        app = create_app(fake_grader, api_settings=ApiSettings())
    assert "pip install 'grader[mcp]'" in caplog.text
    with TestClient(app) as client:
        assert client.post("/mcp", json=rpc("tools/list"), headers=ACCEPT).status_code in (404,
                                                                                          405)
        assert client.get("/v1/questions/adam-optimizer").status_code == 200

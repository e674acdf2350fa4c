"""The MCP server mounted at ``/mcp`` in a real ``grader serve``, behind ``GRADER_API_KEYS``."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from grader import GradeResult
from tests.live_server import shared_grader_serve

pytestmark = [pytest.mark.server, pytest.mark.integration]

KEY = "served-test-key"  # the same as the other modules' that share the server


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_grader_serve(request.config, tmp_path_factory, GRADER_API_KEYS=KEY)


def with_client(url: str, key: str, use: Any) -> Any:
    async def run() -> Any:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                return await use(client)

    return anyio.run(run)


def test_the_sdk_client_lists_the_tools_and_grades_over_http(served: str) -> None:
    async def use(client: Client) -> tuple[Any, Any]:
        return await client.list_tools(), await client.call_tool(
            "grade_answer", {"question_id": "adam-optimizer", "answer": "Adam adapts steps."})

    tools, call = with_client(served, KEY, use)
    assert {tool.name for tool in tools.tools} == {"list_questions", "get_question",
                                                   "grade_answer", "grade_adhoc"}
    assert not call.is_error
    graded = GradeResult.model_validate(call.structured_content)
    assert (graded.question_id, graded.critic.kind) == ("adam-optimizer", "offline")


def test_mcp_needs_an_api_key_like_v1(served: str) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = httpx.post(f"{served}/mcp", json=initialize, headers={**accept, **headers})
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["error"]["code"] == "unauthorized"
    answered = httpx.post(f"{served}/mcp", json=initialize,
                          headers={**accept, "Authorization": f"Bearer {KEY}"})
    assert answered.status_code == 200
    # Stateless: no session to pin, so any replica behind a load balancer can answer.
    assert "mcp-session-id" not in answered.headers
    assert answered.json()["result"]["serverInfo"]["name"] == "grader"


def test_each_request_stands_alone_without_initialize(served: str) -> None:
    listed = httpx.post(f"{served}/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "tools/list"},
                        headers={"Accept": "application/json, text/event-stream",
                                 "Authorization": f"Bearer {KEY}"})
    assert listed.status_code == 200
    assert len(listed.json()["result"]["tools"]) == 4

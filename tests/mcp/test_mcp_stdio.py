"""``grader mcp`` as an MCP host runs it: a subprocess spoken to over stdin and stdout.

Run with ``-s`` to see what the host sees: the ``tools/list`` reply and a ``grade_answer`` call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from grader import GradeResult, QuestionBank
from tests.servers import REPO

pytestmark = [pytest.mark.integration]

REPLY_TIMEOUT_S = 240.0


def _requests(answer: str) -> list[dict[str, Any]]:
    return [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "pytest-host", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "grade_answer",
            "arguments": {"question_id": "adam-optimizer", "answer": answer}}},
    ]


def test_grader_mcp_speaks_only_json_rpc_on_stdout(tmp_path: Path, bank: QuestionBank) -> None:
    # the fuller model answer makes every point: it passes (the concise one leaves out the
    # trade-offs, and a calibrated 67 is borderline)
    answer = bank.get("adam-optimizer").reference_answers[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "OPENAI_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as stderr_file:  # info-level logs: plenty that must not reach stdout
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("grader")), "mcp", "--log-level", "info"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr_file, text=True,
            cwd=REPO, env=env)
    assert process.stdin is not None and process.stdout is not None
    watchdog = threading.Timer(REPLY_TIMEOUT_S, process.kill)  # a hung server fails the test
    watchdog.start()
    try:
        for request in _requests(answer):
            process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        lines = [process.stdout.readline() for _ in range(3)]  # a host waits for its replies
        process.stdin.close()  # then it closes stdin, and the server exits
        lines += process.stdout.readlines()
        returncode = process.wait()
    finally:
        watchdog.cancel()
        process.kill()
        process.stdout.close()
    stderr = stderr_path.read_text(errors="replace")
    assert returncode == 0, stderr[-3000:]
    messages = [json.loads(line) for line in lines]  # every line is one JSON message ...
    for message in messages:  # ... and each one is a JSON-RPC response
        assert message["jsonrpc"] == "2.0" and ("result" in message or "error" in message)
    replies = {message["id"]: message for message in messages}
    assert sorted(replies) == [1, 2, 3] and len(lines) == 3

    assert replies[1]["result"]["serverInfo"]["name"] == "grader"
    tools = replies[2]["result"]["tools"]
    assert {tool["name"] for tool in tools} == {"list_questions", "get_question",
                                                "grade_answer", "grade_adhoc"}
    call = replies[3]["result"]
    assert call["isError"] is False
    graded = GradeResult.model_validate(call["structuredContent"])
    assert (graded.question_id, graded.critic.kind) == ("adam-optimizer", "offline")
    assert graded.verdict == "pass"
    assert stderr.strip(), "the info-level logs went to stderr"

    print("\n--- tools/list (what an MCP host sees) ---")
    print(json.dumps(replies[2], indent=2))
    print("\n--- tools/call grade_answer ---")
    print(json.dumps(replies[3], indent=2))

"""The MCP server in process, through the SDK's own client: tools, schemas, grades, errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from grader import Grader, GradeResult
from grader.cli import main
from grader.errors import EmbeddingError, MissingExtraError
from grader.mcp_server import LocalBackend, create_mcp_server
from tests.fakes import MAX_ANSWER_CHARS

TOOLS = {"list_questions", "get_question", "grade_answer", "grade_adhoc"}
ANSWER = ("Adam keeps a moving average of the gradient, like momentum, and divides each step by "
          "the square root of a moving average of squared gradients, like RMSprop.")


def with_client(server: Any, use: Callable[[Client], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with Client(server) as client:
            return await use(client)

    return anyio.run(run)


def call(server: Any, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    return with_client(server, lambda client: client.call_tool(tool, arguments))  # type: ignore[no-any-return]


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result
    return " ".join(getattr(block, "text", "") for block in result.content)


def test_tools_are_listed_with_short_names_descriptions_and_schemas(fake_grader: Grader) -> None:
    listed = with_client(create_mcp_server(fake_grader), lambda client: client.list_tools())
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert re.fullmatch(r"[a-z0-9_]{1,32}", tool.name)  # what common hosts accept
        assert tool.description is not None
        assert "Returns" in tool.description
        assert "Use it" in tool.description and "\n " not in tool.description
        assert tool.annotations is not None and tool.annotations.read_only_hint
    grade = tools["grade_answer"]
    assert grade.input_schema["required"] == ["question_id", "answer"]
    assert grade.input_schema["properties"]["critic"]["default"] == "offline"
    # The structured output is the GradeResult model itself.
    assert grade.output_schema is not None
    assert set(GradeResult.model_json_schema()["required"]) <= set(grade.output_schema["required"])
    assert tools["grade_adhoc"].input_schema["required"] == ["question", "reference_answers",
                                                            "answer"]
    assert tools["get_question"].input_schema["required"] == ["id"]
    # Optional arguments without a nullable anyOf, which some hosts' function calling refuses.
    assert "anyOf" not in json.dumps([tool.input_schema for tool in tools.values()])


def test_grade_answer_returns_the_grade_result_as_structured_output(fake_grader: Grader) -> None:
    result = call(create_mcp_server(fake_grader), "grade_answer",
                  {"question_id": "adam-optimizer", "answer": ANSWER})
    assert not result.is_error
    graded = GradeResult.model_validate(result.structured_content)
    assert graded == fake_grader.grade("adam-optimizer", ANSWER, critic="offline")
    assert graded.critic.kind == "offline"


def test_grade_adhoc_grades_against_the_given_reference(fake_grader: Grader) -> None:
    reference = "A stack is a last-in, first-out collection: push adds on top, pop removes it."
    result = call(create_mcp_server(fake_grader), "grade_adhoc", {
        "question": "What is a stack?", "reference_answers": [reference], "answer": reference,
        "criteria": ["A stack is last-in, first-out."]})
    graded = GradeResult.model_validate(result.structured_content)
    assert (graded.source, graded.verdict) == ("adhoc", "pass")
    assert [c.description for c in graded.criteria] == ["A stack is last-in, first-out."]


def test_get_question_shows_criteria_and_hints_but_no_reference_unless_asked(
        fake_grader: Grader) -> None:
    server = create_mcp_server(fake_grader)
    rubric = fake_grader.bank.get("adam-optimizer")
    card = call(server, "get_question", {"id": "adam-optimizer"}).structured_content
    assert card is not None and card["reference_answers"] is None
    assert [c["hint"] for c in card["criteria"]] == [c.hint for c in rubric.criteria]
    assert rubric.reference_answers[0] not in str(card)
    asked = call(server, "get_question", {"id": "adam-optimizer", "include_reference": True})
    assert asked.structured_content is not None
    assert asked.structured_content["reference_answers"] == list(rubric.reference_answers)


def test_list_questions_filters_by_tag_and_difficulty(fake_grader: Grader) -> None:
    server = create_mcp_server(fake_grader)
    everything = call(server, "list_questions", {}).structured_content
    assert everything is not None and everything["total"] == len(fake_grader.bank)
    explicit_null = call(server, "list_questions", {"tag": None}).structured_content
    assert explicit_null == everything  # still accepted, though the schema shows no null
    hard = call(server, "list_questions", {"difficulty": "advanced", "tag": "optimization"})
    assert hard.structured_content is not None
    expected = fake_grader.bank.filter(tag="optimization", difficulty="advanced")
    assert [q["id"] for q in hard.structured_content["questions"]] == [r.id for r in expected]
    assert 0 < len(expected) < len(fake_grader.bank)


@pytest.mark.parametrize(("tool", "arguments", "says"), [
    ("grade_answer", {"question_id": "no-such-question", "answer": "x"},
     "Unknown question id 'no-such-question'"),
    ("grade_answer", {"question_id": "adam-optimizer", "answer": "x" * (MAX_ANSWER_CHARS + 1)},
     "GRADER_MAX_ANSWER_CHARS"),
    ("grade_answer", {"question_id": "adam-optimizer", "answer": "x", "critic": "llm"},
     "GRADER_LLM_MODEL"),
    ("grade_answer", {"question_id": "adam-optimizer", "answer": "x", "critic": "gpt"},
     "critic"),
    ("get_question", {"id": "no-such-question"}, "Known ids"),
    ("grade_adhoc", {"question": "What is a stack?", "reference_answers": ["LIFO."],
                     "answer": "x", "criteria": ["no"]}, "at least 3 characters"),
    ("grade_adhoc", {"question": "", "reference_answers": ["A LIFO list."], "answer": "x"},
     "field 'question'"),
])
def test_errors_come_back_as_is_error_results_that_say_what_to_do(
        fake_grader: Grader, tool: str, arguments: dict[str, Any], says: str) -> None:
    assert says in error_text(call(create_mcp_server(fake_grader), tool, arguments))


def test_a_grader_that_fails_to_load_is_reported_by_each_call() -> None:
    def load() -> Grader:
        raise EmbeddingError("The embedding model 'x' could not be loaded: no such folder.")

    server = create_mcp_server(LocalBackend(load))
    assert "could not be loaded" in error_text(call(server, "list_questions", {}))


def test_without_the_mcp_extra_the_server_and_the_command_name_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "mcp.server", None)  # importing it now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'grader\[mcp\]'"):
        create_mcp_server(LocalBackend(lambda: pytest.fail("never loaded")))
    assert main(["mcp"]) == 3
    assert "pip install 'grader[mcp]'" in capsys.readouterr().err

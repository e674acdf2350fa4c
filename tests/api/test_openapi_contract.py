"""The committed API contract (``openapi.json``): the served schema matches it, its operation
ids are stable, and a client generated from it grades an answer against a real server."""

from __future__ import annotations

import difflib
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.contract import CONTRACT, contract_schema, render
from api.settings import ApiSettings
from tests.live_server import shared_grader_serve

KEY = "served-test-key"  # the same as the other modules' that share the server
OPERATIONS = {"healthz", "readyz", "metrics", "listQuestions", "getQuestion", "grade",
              "gradeBatch", "gradePromptfoo"}


def _operations(schema: dict[str, Any]) -> dict[str, str]:
    return {operation["operationId"]: f"{method.upper()} {path}"
            for path, methods in schema["paths"].items() for method, operation in methods.items()}


def test_the_served_schema_is_the_committed_contract() -> None:
    app = create_app(api_settings=ApiSettings(api_keys=[SecretStr("any")]))
    served = TestClient(app).get("/openapi.json").json()  # no lifespan: no model is loaded
    committed = CONTRACT.read_text(encoding="utf-8")
    if render(served) != committed:
        diff = "".join(difflib.unified_diff(
            committed.splitlines(keepends=True), render(served).splitlines(keepends=True),
            "openapi.json (committed)", "served", n=2))
        pytest.fail("The API's schema drifted from the committed contract. If the change is "
                    "meant, run `make openapi` and commit openapi.json (generated clients "
                    f"change with it):\n{diff[:6000]}")
    assert render(contract_schema()) == committed


def test_every_operation_has_a_stable_explicit_id() -> None:
    operations = _operations(json.loads(CONTRACT.read_text(encoding="utf-8")))
    assert set(operations) == OPERATIONS
    for operation_id in operations:  # not FastAPI's derived "grade_v1_grade_post"
        assert re.fullmatch(r"[a-z][A-Za-z]+", operation_id), operation_id


def _nullable_in_requests(schema: dict[str, Any]) -> list[str]:
    """Where a request body (followed through its $refs) or a parameter has ``anyOf: [X, null]``."""
    components = schema["components"]["schemas"]
    found: list[str] = []
    seen: set[str] = set()

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for entry in node:
                walk(entry, where)
        if not isinstance(node, dict):
            return
        if {"type": "null"} in node.get("anyOf", []):
            found.append(where)
        reference = node.get("$ref", "")
        if reference and reference not in seen:
            seen.add(reference)
            name = reference.rsplit("/", 1)[-1]
            walk(components[name], name)
        for key, value in node.items():
            walk(value, f"{where}.{key}" if key not in ("anyOf", "oneOf", "items") else where)

    for path, methods in schema["paths"].items():
        for operation in methods.values():
            walk(operation.get("requestBody", {}), f"{path} body")
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{path} ?{parameter['name']}")
    return found


def test_requests_have_no_nullable_unions_for_generators_to_trip_on() -> None:
    # The two left are body fields the API accepts as an explicit null; the schema must say so
    # (tests/api/test_api_fuzz.py holds the server to it), and refusing null would break clients.
    assert _nullable_in_requests(json.loads(CONTRACT.read_text(encoding="utf-8"))) == [
        "AdhocGradeRequest.properties.criteria", "AdhocGradeRequest.properties.id"]


def test_an_explicit_null_is_accepted_where_the_schema_allows_it(client: TestClient) -> None:
    graded = client.post("/v1/grade", json={
        "question": "What is a stack?", "reference_answers": ["A last-in, first-out list."],
        "answer": "LIFO.", "criteria": None, "id": None})
    assert graded.status_code == 200, graded.text


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_grader_serve(request.config, tmp_path_factory, GRADER_API_KEYS=KEY)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Python client generated from openapi.json by openapi-python-client, imported."""
    folder = tmp_path_factory.mktemp("generated")
    config = folder / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # no ruff pass over the generated code
    done = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate",
         "--path", str(CONTRACT), "--meta", "none", "--output-path",
         str(folder / "grader_client"), "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("grader_client")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.partition(".")[0] == "grader_client"]:
            del sys.modules[name]


@pytest.mark.server
@pytest.mark.integration
def test_a_generated_client_grades_an_answer(served: str, generated: Any) -> None:
    from grader_client import AuthenticatedClient  # type: ignore[import-not-found]
    from grader_client.api.grading import grade  # type: ignore[import-not-found]
    from grader_client.models import BankGradeRequest, GradeResult  # type: ignore[import-not-found]

    with AuthenticatedClient(base_url=served, token=KEY) as client:
        result = grade.sync(client=client, body=BankGradeRequest(
            question_id="adam-optimizer",
            answer="Adam keeps a moving average of the gradient, like momentum, and scales "
                   "each step by a moving average of squared gradients, like RMSprop."))
    assert isinstance(result, GradeResult), result
    assert result.question_id == "adam-optimizer" and 0 <= result.score <= 100
    assert result.verdict.value in {"pass", "borderline", "fail"}
    print(f"\n--- generated client: grade.sync(...) ---\n{result.question_id}: "
          f"{result.score:.1f}/100 {result.verdict.value}; {result.feedback.summary}")

"""Invalid settings in any CLI command: a clean message, exit 3, and never a value (issue 16,
L4: a traceback showed the tail of the LLM API key)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.cli import EXIT_CONFIG, main
from grader.settings import get_settings

SECRET = "sk-live-0123456789abcdefSECRET"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # the CLI reads settings once per process; tests vary them
    yield
    get_settings.cache_clear()


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    document = tmp_path / "faq.md"
    document.write_text("## Q1. What is a tensor?\n\nAn n-dimensional array.\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"question_id": "adam-optimizer", "answer": "momentum"}\n')
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text('{"question_id": "adam-optimizer", "answer": "momentum", "score": 1}\n')
    return {
        "questions": ["questions"],
        "grade": ["grade", "-q", "adam-optimizer", "-a", "Adam keeps averages."],
        "batch": ["batch", str(rows), "-o", str(tmp_path / "out.jsonl")],
        "ingest": ["ingest", str(document), "-o", str(tmp_path / "drafts")],
        "eval": ["eval", str(labeled), "--no-probes"],
        "rubrics": ["rubrics", "check"],
    }


@pytest.mark.parametrize("variables", [
    {"GRADER_LLM_TIMEOUT_S": SECRET},  # a key pasted into the wrong variable
    {"GRADER_LLM_MAX_TOKENS": SECRET},
    {"GRADER_SCORING": SECRET},  # must be JSON: pydantic-settings raised its own error
    {"GRADER_SCORING": '{"met_strength": "' + SECRET + '"}'},
    {"GRADER_SCORING__MET_STRENGTH": SECRET},
    {"GRADER_PASS_THRESHOLD": "10", "GRADER_BORDERLINE_THRESHOLD": "40"},
], ids=["timeout", "max-tokens", "scoring-not-json", "scoring-field", "nested-field",
        "thresholds"])
@pytest.mark.parametrize("command", ["questions", "grade", "batch", "ingest", "eval", "rubrics"])
def test_invalid_settings_give_a_clean_message_without_values(
        command: str, variables: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRADER_LLM_API_KEY", SECRET)
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(_commands(tmp_path)[command]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("error: invalid setting: ")
    assert "Traceback" not in err and "SECRET" not in err and "sk-live" not in err
    named = [name for name in variables if name.split("__")[0] in err]
    assert named or "threshold" in err

"""``grader ingest DOCUMENT -o DIR [--llm] [--force]``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from grader.bank import QuestionBank
from grader.cli import EXIT_CONFIG, EXIT_USAGE, main
from grader.settings import get_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()  # the CLI reads settings once per process; tests vary them
    yield
    get_settings.cache_clear()


def test_ingest_writes_drafts_and_says_where(source_document: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "drafts"
    assert main(["ingest", str(source_document), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert f"wrote {out / 'anns.yaml'}  [Basic Deep Learning Interview Questions #1]" in printed.out
    summary = f"14 draft(s) from 14 question(s) in {source_document.name}"
    assert printed.out.rstrip().endswith(summary)
    assert "warning:" in printed.err and "line 123" in printed.err  # the case with no answer
    assert len(QuestionBank.from_dir(out)) == 14


def test_existing_files_need_force(markdown_fixture: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(markdown_fixture), "-o", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(markdown_fixture), "-o", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "error: Not overwriting existing file(s):" in err
    assert str(tmp_path / "dropout-help.yaml") in err and "--force" in err
    assert main(["ingest", str(markdown_fixture), "-o", str(tmp_path), "--force"]) == 0


def test_document_without_questions_is_an_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nOnly statements here.\n", encoding="utf-8")
    assert main(["ingest", str(notes), "-o", str(tmp_path / "out")]) == EXIT_USAGE
    assert "No questions found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_llm_flag_needs_a_configured_model(markdown_fixture: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(markdown_fixture), "-o", str(tmp_path), "--llm"]) == EXIT_CONFIG
    assert "GRADER_LLM_MODEL" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_llm_flag_reports_fallbacks(markdown_fixture: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    base_url = "http://llm-cli.test/v1"
    monkeypatch.setenv("GRADER_LLM_MODEL", "cli-model")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", base_url)
    monkeypatch.setenv("GRADER_LLM_MAX_RETRIES", "0")
    content = json.dumps({"criteria": "not a list", "misconceptions": []})
    with respx.mock(base_url=base_url) as router:
        route = router.post("/chat/completions").respond(200, json={
            "id": "x", "object": "chat.completion", "created": 0, "model": "cli-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}]})
        assert main(["ingest", str(markdown_fixture), "-o", str(tmp_path), "--llm"]) == 0
    assert route.call_count == 12  # six questions, each asked twice
    printed = capsys.readouterr()
    assert printed.out.count("(fallback)") == 6
    assert "llm: 0 drafted by the LLM, 6 fell back to derived criteria" in printed.err
    assert printed.err.count("LLM drafting failed") == 6
    assert len(QuestionBank.from_dir(tmp_path)) == 6

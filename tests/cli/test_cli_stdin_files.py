"""Issue 22: ``-`` reads standard input wherever a command takes one input file: the datasets
of ``grader eval`` and ``grader judge train``, and the document of ``grader ingest``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from grader.bank import QuestionBank
from grader.cli import EXIT_USAGE, loading, main
from tests.cli.fake_cli import fake_grader

REPO = Path(__file__).resolve().parents[2]


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


def test_eval_reads_a_dataset_from_stdin(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(loading, "load_grader", fake_grader)
    rows = (REPO / "eval" / "labeled" / "interview-dev.jsonl").read_text().splitlines()[:24]
    feed_stdin(monkeypatch, "\n".join(rows) + "\n")
    assert main(["eval", "-", "--json", "--no-probes"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["stdin"] and report["stdin"]["n"] == 24


def test_eval_of_one_question_says_why_it_cannot_cross_validate(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(loading, "load_grader", fake_grader)
    rows = (REPO / "eval" / "labeled" / "interview-dev.jsonl").read_text().splitlines()[:5]
    feed_stdin(monkeypatch, "\n".join(rows) + "\n")
    assert main(["eval", "-", "--no-probes"]) == EXIT_USAGE  # was a ValueError traceback
    assert "needs answers to at least two questions" in capsys.readouterr().err


def test_ingest_reads_a_document_from_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    document = REPO / "tests" / "ingest" / "fixtures" / "training_faq.md"
    feed_stdin(monkeypatch, document.read_text(encoding="utf-8"))
    out = tmp_path / "drafts"
    assert main(["ingest", "-", "-o", str(out)]) == 0
    assert "in stdin" in capsys.readouterr().out
    from_file = tmp_path / "from-file"
    assert main(["ingest", str(document), "-o", str(from_file)]) == 0
    assert ([r.id for r in QuestionBank.from_dir(out)]
            == [r.id for r in QuestionBank.from_dir(from_file)])

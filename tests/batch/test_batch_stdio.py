"""``-`` is standard input and standard output for ``grader batch``; ``/dev/stdout`` is a stream
too (issue 22)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROWS = "".join(json.dumps({"id": f"a{n}", "question_id": "adam-optimizer",
                           "answer": f"Answer {n}: Adam keeps moving averages."}) + "\n"
               for n in range(1, 4))


def _batch(arguments: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.cli.fake_cli", "batch", *arguments],
                          cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("arguments", [
    ["-", "-o", "-", "--format", "jsonl", "--quiet"],
    ["answers.jsonl", "-o", "/dev/stdout", "--quiet"],
], ids=["dash", "dev-stdout"])
def test_rows_stream_from_standard_input_to_standard_output(arguments: list[str],
                                                            tmp_path: Path) -> None:
    (tmp_path / "answers.jsonl").write_text(ROWS, encoding="utf-8")
    run = _batch(arguments, tmp_path, stdin=ROWS)
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a1", "a2", "a3"]
    assert all(r["question_id"] == "adam-optimizer" and "score" in r for r in records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.jsonl"]  # no file named -


def test_a_stream_cannot_be_resumed_and_stdin_needs_a_format(tmp_path: Path) -> None:
    run = _batch(["-", "-o", "-", "--resume"], tmp_path, stdin=ROWS)
    assert run.returncode == 2
    assert "pass --format jsonl|csv" in run.stderr
    run = _batch(["-", "-o", "-", "--format", "csv", "--resume"], tmp_path, stdin=ROWS)
    assert run.returncode == 2
    assert "standard output is a stream" in run.stderr and "-o FILE" in run.stderr

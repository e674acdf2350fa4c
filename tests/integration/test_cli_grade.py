from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ANSWER = ("Adam keeps exponential moving averages of the gradient and of the squared gradient, "
          "and divides the first by the square root of the second, so each parameter gets its "
          "own step size.")


def run_grader(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRADER_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


def test_json_output_is_identical_across_runs(tmp_path: Path) -> None:
    first = run_grader("grade", "-q", "adam-optimizer", "-a", ANSWER, "--json", cache=tmp_path)
    second = run_grader("grade", "-q", "adam-optimizer", "-a", ANSWER, "--json", cache=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    result = json.loads(first.stdout)
    assert result["question_id"] == "adam-optimizer" and 0 <= result["score"] <= 100


def test_readable_summary_and_clear_errors(tmp_path: Path) -> None:
    answer_file = tmp_path / "answer.txt"
    answer_file.write_text(ANSWER, encoding="utf-8")
    shown = run_grader("grade", "-q", "adam-optimizer", "--answer-file", str(answer_file),
                       cache=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("adam-optimizer: ") and "\nKey points (met: " in shown.stdout

    unknown = run_grader("grade", "-q", "no-such-question", "-a", "x", cache=tmp_path)
    assert unknown.returncode == 2 and "Unknown question id 'no-such-question'" in unknown.stderr

    missing = run_grader("grade", "-q", "adam-optimizer", "--answer-file",
                         str(tmp_path / "absent.txt"), cache=tmp_path)
    assert missing.returncode == 2 and "Cannot read answer file" in missing.stderr

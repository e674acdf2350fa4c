"""Ctrl-C or SIGTERM in a real ``grader batch`` process keeps every graded row, says how many,
and prints the ``--resume`` command, which then gives what an uninterrupted run gives."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.batch.batch_files import read_jsonl, write_jsonl

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = [sys.executable, "-m", "tests.cli.fake_cli"]
ROWS, GATE_ROW, CHUNK = 40, 23, 4  # the run stops in the chunk of rows 21-24


def _rows() -> list[dict[str, str]]:
    return [{"id": f"s{n}", "question_id": "adam-optimizer",
             "answer": f"Attempt {n}: Adam keeps moving averages"
                       + (" gate" if n == GATE_ROW else "") + " of the gradients."}
            for n in range(1, ROWS + 1)]


def _run(arguments: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAUNCHER, *arguments], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_keeps_its_rows_and_resumes_to_the_uninterrupted_output(
        stop: signal.Signals, code: int, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "answers.jsonl", _rows())
    command = ["batch", "answers.jsonl", "-o", "grades.jsonl", "--chunk-size", str(CHUNK)]
    gate = tmp_path / "gate-reached"
    env = {**os.environ, "PYTHONPATH": str(REPO), "FAKE_GRADER_GATE": str(gate)}
    run = subprocess.Popen([*LAUNCHER, *command], cwd=tmp_path, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not gate.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gate.exists(), "the run never reached the gate: " + run.communicate()[1][-2000:]
        run.send_signal(stop)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    done = (GATE_ROW - 1) // CHUNK * CHUNK
    assert run.returncode == code, err
    assert "Traceback" not in err
    assert [r["id"] for r in read_jsonl(tmp_path / "grades.jsonl")] == [
        f"s{n}" for n in range(1, done + 1)]
    assert f"interrupted ({stop.name}): rows 1-{done} are graded and saved in grades.jsonl" in err
    printed = err.strip().splitlines()[-1].strip()
    expected = "grader batch answers.jsonl -o grades.jsonl --chunk-size 4 --resume"
    assert printed == expected

    resumed = _run(shlex.split(printed)[1:], tmp_path)  # the printed command, as printed
    assert resumed.returncode == 0, resumed.stderr
    assert f"rows: {ROWS} ({done} done before --resume)" in resumed.stderr
    whole = _run([*command[:3], "whole.jsonl", *command[4:]], tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert (tmp_path / "grades.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()

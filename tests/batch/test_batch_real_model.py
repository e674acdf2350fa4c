"""With the real embedding model: batch grades equal single grades, and a SIGKILLed run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import Grader, QuestionBank
from grader.batch import BatchOptions, plan_batch, run_batch
from tests.batch.batch_files import read_csv, write_jsonl

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLI = "import sys; from grader.cli import main; sys.exit(main())"


def answers_for(bank: QuestionBank) -> list[dict[str, str]]:
    """One row per rubric: a full answer, a one-point answer or a non-answer, in turn."""
    rows = []
    for n, rubric in enumerate(bank):
        answer = (rubric.reference_answers[0], rubric.criteria[0].description,
                  "I am not sure, maybe it depends.")[n % 3]
        rows.append({"question_id": rubric.id, "answer": answer})
    return rows


def test_batch_grades_equal_one_by_one_grades(real_grader: Grader, bank: QuestionBank,
                                              tmp_path: Path) -> None:
    rows = answers_for(bank)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    target = tmp_path / "out.jsonl"
    run_batch(real_grader, plan_batch(source, target, BatchOptions(chunk_size=8)))

    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(rows)
    for row, record in zip(rows, records, strict=True):
        single = real_grader.grade(row["question_id"], row["answer"])
        assert record["question_id"] == single.question_id
        assert record["score"] == pytest.approx(single.score, abs=0.11)
        assert [c["status"] for c in record["criteria"]] == [c.status for c in single.criteria]


def test_sigkilled_run_resumes_to_one_row_per_input_row(bank: QuestionBank,
                                                        model_cache_dir: Path,
                                                        tmp_path: Path) -> None:
    total = 240
    question_ids = bank.ids
    rows: list[object] = []
    for n in range(1, total + 1):
        if n % 25 == 0:
            rows.append('{"id": "broken JSON"')  # an error row, kept through the kill
            continue
        identifier = f"stud\u00e9nt {n}\n(line two)" if n % 7 == 0 else f"s{n}"
        rows.append({"id": identifier, "question_id": question_ids[n % len(question_ids)],
                     "answer": f"Attempt {n}: gradients flow backwards through the layers."})
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    target = tmp_path / "out.csv"
    env = {**os.environ, "GRADER_CACHE_DIR": str(model_cache_dir), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", CLI, "batch", str(source), "-o", str(target),
               "--chunk-size", "4"]

    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        # Records end in CRLF (ids hold bare LFs): wait for the header and two chunks.
        while time.monotonic() < deadline and first.poll() is None:
            if target.exists() and target.read_bytes().count(b"\r\n") > 8:
                break
            time.sleep(0.01)
        assert first.poll() is None, "the run ended before it could be killed: " + (
            first.communicate()[1].decode()[-2000:])
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    before = target.read_bytes()
    complete = before[: before.rfind(b"\r\n") + 2]
    done_before = complete.count(b"\r\n") - 1  # less the header
    assert 8 <= done_before < total

    second = subprocess.run(command + ["--resume"], cwd=REPO, env=env, capture_output=True,
                            timeout=600)
    assert second.returncode == 0, second.stderr.decode()[-2000:]

    after = target.read_bytes()
    assert after.startswith(complete)  # what the killed run finished is kept as it was
    records = read_csv(target)
    assert [int(r["row"]) for r in records] == list(range(1, total + 1))
    expected_ids = [str(n) if isinstance(row, str) else row["id"]  # type: ignore[index]
                    for n, row in enumerate(rows, start=1)]
    assert [r["id"] for r in records] == expected_ids
    assert len(set(expected_ids)) == total
    assert sum(r["error_kind"] == "malformed_json" for r in records) == total // 25
    assert all(r["score"] and r["verdict"] for r in records if not r["error_kind"])
    summary = second.stderr.decode()
    assert f"rows: {total} ({done_before} done before --resume)" in summary

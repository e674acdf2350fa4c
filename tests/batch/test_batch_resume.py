"""A run cut off at any byte resumes to exactly the file an uninterrupted run writes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from grader import Grader
from grader.batch import (
    BatchOptions,
    OutputExistsError,
    ResumeError,
    plan_batch,
    run_batch,
)
from grader.cli import main
from tests.batch.batch_files import read_csv, read_jsonl, write_jsonl

ROWS = [
    {"id": "plain", "question_id": "adam-optimizer", "answer": "Adam uses momentum and RMSprop."},
    {"id": "two\nlines, \"quoted\"", "question_id": "adam-optimizer",
     "answer": "First line.\nSecond line, with a comma."},
    {"id": "naïve-学生", "question_id": "ann-basics",
     "answer": "Neuronen gewichten Eingänge — ja."},
    {"id": "bad", "question_id": "no-such-question", "answer": "x"},
    {"question_id": "cnn-architecture", "answer": "Convolutions, pooling, then dense layers."},
    {"id": "last", "question_id": "adam-optimizer", "answer": ""},
]


def run(grader: Grader, source: Path, target: Path, **options: object):
    plan = plan_batch(source, target, BatchOptions(chunk_size=2, **options))  # type: ignore[arg-type]
    return run_batch(grader, plan)


def cut_points(full: bytes, start: int, samples: int) -> list[int]:
    """Record boundaries and the bytes around them, every embedded newline, and random offsets."""
    newlines = [i + 1 for i, byte in enumerate(full) if byte == ord("\n")]
    points = {p + d for p in newlines for d in (-2, -1, 0, 1)}
    points |= set(random.Random(5).sample(range(start, len(full)), samples))
    return sorted(p for p in points if start <= p <= len(full))


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_resume_after_a_cut_at_any_byte_gives_the_uninterrupted_file(
    fake_grader: Grader, tmp_path: Path, suffix: str
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    reference = tmp_path / f"reference.{suffix}"
    run(fake_grader, source, reference)
    full = reference.read_bytes()
    target = tmp_path / f"out.{suffix}"

    points = cut_points(full, 0, 60)
    assert len(points) > 40
    for cut in points:
        target.write_bytes(full[:cut])
        summary = run(fake_grader, source, target, resume=True)
        assert target.read_bytes() == full, f"cut at byte {cut}"
        assert summary.rows == len(ROWS)
        # Records end in "\n" (JSONL) or "\r\n" (CSV; the ids hold bare "\n"s); a CSV has a header.
        ends = full[:cut].count(b"\n") if suffix == "jsonl" else full[:cut].count(b"\r\n") - 1
        assert summary.resumed == max(ends, 0), f"cut at byte {cut}"

    records = read_jsonl(target) if suffix == "jsonl" else read_csv(target)
    assert [str(r["row"]) for r in records] == [str(n) for n in range(1, len(ROWS) + 1)]
    assert [r["id"] for r in records] == [r.get("id", str(n)) for n, r in enumerate(ROWS, 1)]


def test_resume_counts_the_rows_already_done(fake_grader: Grader, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    target = tmp_path / "out.jsonl"
    run(fake_grader, source, target)
    lines = target.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[:3]) + lines[3][:10])  # three rows and a torn fourth

    progress = RecordingProgress()
    plan = plan_batch(source, target, BatchOptions(chunk_size=2, resume=True))
    summary = run_batch(fake_grader, plan, progress)

    assert (summary.rows, summary.resumed) == (len(ROWS), 3)
    assert (summary.graded, summary.errors) == (5, 1)
    assert [r["row"] for r in read_jsonl(target)] == list(range(1, len(ROWS) + 1))
    assert progress.events == [("start", 3), ("advance", 2), ("advance", 1)]
    text = summary.render()
    assert "rows: 6 (3 done before --resume)" in text
    assert "graded: 5   errors: 1" in text and "unknown_question 1" in text
    assert "verdicts: pass" in text and "elapsed:" in text


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def start(self, done: int) -> None:
        self.events.append(("start", done))

    def advance(self, rows: int) -> None:
        self.events.append(("advance", rows))


def test_resume_without_an_output_starts_fresh(fake_grader: Grader, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    summary = run(fake_grader, source, tmp_path / "out.jsonl", resume=True)
    assert (summary.rows, summary.resumed) == (len(ROWS), 0)


def test_resume_refuses_an_output_of_another_input(fake_grader: Grader, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    target = tmp_path / "out.jsonl"
    run(fake_grader, source, target)
    before = target.read_bytes()
    other = write_jsonl(tmp_path / "other.jsonl", [{**row, "id": f"other-{n}"}
                                                    for n, row in enumerate(ROWS)])
    with pytest.raises(ResumeError, match="another input"):
        run(fake_grader, other, target, resume=True)
    shorter = write_jsonl(tmp_path / "short.jsonl", ROWS[:2])
    with pytest.raises(ResumeError, match="only 2"):
        run(fake_grader, shorter, target, resume=True)
    assert target.read_bytes() == before


def test_resume_refuses_a_damaged_middle(fake_grader: Grader, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    target = tmp_path / "out.jsonl"
    run(fake_grader, source, target)
    lines = target.read_bytes().splitlines(keepends=True)
    target.write_bytes(lines[0] + b"garbage\n" + b"".join(lines[1:]))
    with pytest.raises(ResumeError, match="line 2"):
        run(fake_grader, source, target, resume=True)
    target.write_bytes(lines[1] + lines[0])
    with pytest.raises(ResumeError, match="expected row 1"):
        run(fake_grader, source, target, resume=True)
    csv_target = tmp_path / "out.csv"
    csv_target.write_text("name,score\r\nx,1\r\n", encoding="utf-8")
    with pytest.raises(ResumeError, match="header"):
        run(fake_grader, source, csv_target, resume=True)


def test_an_existing_output_is_never_overwritten_without_a_flag(
    fake_grader: Grader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    target = tmp_path / "out.csv"
    target.write_text("precious\n", encoding="utf-8")

    with pytest.raises(OutputExistsError):
        plan_batch(source, target, BatchOptions())
    assert main(["batch", str(source), "-o", str(target)]) == 2
    message = capsys.readouterr().err
    assert "already exists" in message and "--resume" in message and "--force" in message
    assert target.read_text(encoding="utf-8") == "precious\n"

    run(fake_grader, source, target, force=True)
    assert len(read_csv(target)) == len(ROWS)


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", ROWS)
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", str(source), "-o", str(tmp_path / "o.csv"), "--resume", "--force"])
    assert exit_info.value.code == 2
    assert main(["batch", str(source), "-o", str(tmp_path / "o.txt")]) == 2
    assert "--output-format" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "Cannot read input" in capsys.readouterr().err
    assert main(["batch", str(source), "-o", str(source), "--force"]) == 2
    assert "is the input" in capsys.readouterr().err

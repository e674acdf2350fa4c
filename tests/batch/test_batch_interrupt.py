"""An interrupt ends a run with every graded row on disk and counted, and progress moves as
rows are graded, not once a large chunk is done (issue 22)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from grader import Grader, QuestionBank
from grader.batch import (
    DEFAULT_CHUNK_SIZE,
    BatchInterrupted,
    BatchOptions,
    plan_batch,
    run_batch,
)
from tests.batch.batch_files import read_jsonl, write_jsonl
from tests.fakes import FakeEmbedder


class StopAt(FakeEmbedder):
    """Raises ``KeyboardInterrupt`` (as Ctrl-C does) when asked to embed the word ``stop``."""

    def before_embedding(self, texts: Sequence[str]) -> None:
        if any("stop" in text.split() for text in texts):
            raise KeyboardInterrupt


def _rows(count: int, stop_at: int | None = None) -> list[dict[str, str]]:
    return [{"id": f"r{n}", "question_id": "adam-optimizer",
             "answer": f"Answer {n}: Adam keeps moving averages"
                       + (" stop" if n == stop_at else "") + " of gradients."}
            for n in range(1, count + 1)]


@pytest.mark.parametrize("output", ["out.jsonl", "out.csv"])
def test_an_interrupt_keeps_and_counts_the_graded_rows(bank: QuestionBank, fake_grader: Grader,
                                                       tmp_path: Path, output: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", _rows(20, stop_at=11))
    target = tmp_path / output
    stopping = Grader(bank, StopAt(), settings=fake_grader.settings)
    with pytest.raises(BatchInterrupted) as stopped:
        run_batch(stopping, plan_batch(source, target, BatchOptions(chunk_size=4)))
    assert stopped.value.rows_done == 8  # the chunks before the one interrupted
    assert isinstance(stopped.value, KeyboardInterrupt)  # an interrupt still, to any caller

    clean = write_jsonl(tmp_path / "clean.jsonl", _rows(20))
    resumed = run_batch(fake_grader, plan_batch(clean, target, BatchOptions(chunk_size=4,
                                                                             resume=True)))
    assert resumed.resumed == 8
    # the stop word changed row 11's text, not rows 1-8 the resume checks: grade the same rows
    run_batch(fake_grader, plan_batch(clean, tmp_path / f"whole{target.suffix}",
                                      BatchOptions(chunk_size=4)))
    assert target.read_bytes() == (tmp_path / f"whole{target.suffix}").read_bytes()


class Recorder:
    def __init__(self) -> None:
        self.advances: list[int] = []

    def start(self, done: int) -> None:
        self.advances.clear()

    def advance(self, rows: int) -> None:
        self.advances.append(rows)


def test_progress_moves_in_steps_of_a_few_seconds_of_work(fake_grader: Grader,
                                                          tmp_path: Path) -> None:
    rows = 2 * DEFAULT_CHUNK_SIZE + 1
    source = write_jsonl(tmp_path / "in.jsonl", _rows(rows))
    progress = Recorder()
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()), progress)
    assert sum(progress.advances) == rows == len(read_jsonl(tmp_path / "out.jsonl"))
    # one pass of the model per step: at about 46 rows/s on 2 cores, 256 rows are 5-6 s
    assert max(progress.advances) <= 256 and len(progress.advances) == 3

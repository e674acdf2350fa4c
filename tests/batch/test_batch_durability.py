"""A batch run never loses what it has graded: a failing row is an error row, and with an LLM
critic every graded row is on disk before the next one is waited for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from grader import Grader, QuestionBank
from grader.batch import BatchOptions, plan_batch, run_batch
from grader.critic import Critique, CritiqueRequest, OfflineCritic
from grader.result import CriticInfo
from tests.batch.batch_files import read_jsonl, write_jsonl
from tests.fakes import FakeEmbedder

POISON = "poison"


class BrittleEmbedder(FakeEmbedder):
    """Raises a non-grader error whenever it is asked to embed a text holding ``POISON``."""

    def before_embedding(self, texts: Sequence[str]) -> None:
        if any(POISON in text for text in texts):
            raise TypeError("the tokenizer choked")


class Crash(BaseException):
    """Stands for the process dying (SIGKILL, out of memory): nothing catches it."""


class FakeLLMCritic:
    """Judges like the offline critic, labelled as an LLM; dies on the answer ``crash_on``."""

    def __init__(self, crash_on: str | None = None) -> None:
        self.crash_on = crash_on
        self._offline = OfflineCritic()

    def critique(self, request: CritiqueRequest) -> Critique:
        if request.answer == self.crash_on:
            raise Crash()
        return replace(self._offline.critique(request), info=CriticInfo(kind="llm", model="fake"))


def rows(count: int, poisoned: int | None = None) -> list[dict[str, str]]:
    return [{"id": f"r{n}", "question_id": "adam-optimizer",
             "answer": f"Answer {n}: Adam keeps moving averages of gradients"
                       + (f" {POISON}." if n == poisoned else ".")}
            for n in range(count)]


@pytest.mark.parametrize("critic", ["offline", "llm"])
def test_an_unexpected_error_in_one_row_is_that_rows_error(
    bank: QuestionBank, tmp_path: Path, critic: str
) -> None:
    grader = Grader(bank, BrittleEmbedder(), llm_critic=FakeLLMCritic())
    source = write_jsonl(tmp_path / "in.jsonl", rows(10, poisoned=4))

    summary = run_batch(grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions(
        chunk_size=6, critic=critic, concurrency=3)))  # type: ignore[arg-type]

    records = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == [f"r{n}" for n in range(10)]
    assert records[4]["error"]["kind"] == "unexpected_error"
    assert "TypeError: the tokenizer choked" in records[4]["error"]["message"]
    assert all("error" not in r for n, r in enumerate(records) if n != 4)
    assert (summary.graded, summary.errors) == (9, 1)


def test_rows_graded_before_a_crash_are_on_disk_and_resume_from_them(
    bank: QuestionBank, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", rows(12))
    answers = [row["answer"] for row in rows(12)]
    target = tmp_path / "out.jsonl"
    # A chunk of 1,024 rows would once have been written only when all of it was graded.
    crashing = Grader(bank, FakeEmbedder(), llm_critic=FakeLLMCritic(crash_on=answers[7]))
    with pytest.raises(Crash):
        run_batch(crashing, plan_batch(source, target, BatchOptions(critic="llm",
                                                                    concurrency=1)))
    assert [r["id"] for r in read_jsonl(target)] == [f"r{n}" for n in range(7)]

    healthy = Grader(bank, FakeEmbedder(), llm_critic=FakeLLMCritic())
    run_batch(healthy, plan_batch(source, target, BatchOptions(critic="llm", resume=True)))
    run_batch(healthy, plan_batch(source, tmp_path / "whole.jsonl", BatchOptions(critic="llm")))
    assert target.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()

"""The labeled-answer JSONL format shared by the in-house set and public sets.

One JSON object per line::

    {"question_id": "mohler-1.1", "question": "...", "reference_answer": "...",
     "answer": "...", "score": 3.5, "scale_max": 5.0}

``reference_answers`` (a list) may replace ``reference_answer``; ``criteria`` (a list of key
points) is optional. A row whose ``question_id`` is in the question bank may omit the question
fields: it is graded against the bank's rubric. Extra fields (``rationale``, per-grader scores)
are kept but not used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from grader.adhoc import AdhocQuestion, QuestionFields
from grader.bank import QuestionBank
from grader.errors import DatasetError, describe_validation_error


class EvalRow(QuestionFields):
    """One human-scored answer."""

    model_config = ConfigDict(extra="allow", frozen=True)

    question_id: str = Field(min_length=1)
    answer: str
    score: float = Field(ge=0)
    scale_max: float = Field(gt=0)
    rationale: str | None = None
    criteria_labels: dict[str, Literal["met", "partial", "missed"]] | None = Field(
        default=None, description="gold status of each criterion of the question's rubric")
    misconceptions: list[str] | None = Field(
        default=None, description="gold: the rubric's misconception ids the answer states")

    @model_validator(mode="after")
    def _score_on_scale(self) -> EvalRow:
        if self.score > self.scale_max:
            raise ValueError(f"score {self.score} is above scale_max {self.scale_max}")
        return self

    @property
    def fraction(self) -> float:
        """The human score as a share of the scale, 0..1."""
        return self.score / self.scale_max

    def question_ref(self) -> str | AdhocQuestion:
        """The bank id when the row relies on the bank, else an ad-hoc question."""
        if self.question is None and not self.references:
            return self.question_id
        if self.question is None or not self.references:
            raise ValueError("needs both 'question' and a reference answer, or neither")
        return AdhocQuestion(question=self.question, reference_answers=self.references,
                             criteria=self.criteria, id=self.question_id)


def load_dataset(path: Path, bank: QuestionBank, *, limit: int | None = None) -> list[EvalRow]:
    """Read and validate a dataset (``-``: standard input); every bad line is reported, with its
    number, in one error.

    ``limit`` keeps the first N rows after a stable spread over questions (every k-th row), so
    a small sample still covers many questions.
    """
    try:
        text = (sys.stdin.buffer.read().decode("utf-8") if str(path) == "-"
                else path.read_text(encoding="utf-8"))
        lines = text.splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read dataset {path}: {exc}. Pass a JSONL file path.") from exc
    rows: list[EvalRow] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = EvalRow.model_validate(json.loads(line))
            if row.question_ref() == row.question_id and row.question_id not in bank:
                raise ValueError(f"question_id {row.question_id!r} is not in the bank, so the row "
                                 "needs 'question' and 'reference_answer'")
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg})")
            continue
        except ValidationError as exc:
            detail = describe_validation_error(exc, root="row")
            problems.append(f"{path}:{number}: {detail}")
            continue
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        rows.append(row)
    if problems:
        more = [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        shown = problems[:20] + more
        raise DatasetError("Invalid dataset rows:\n" + "\n".join(shown))
    if not rows:
        raise DatasetError(f"Dataset {path} has no rows; expected one JSON object per line.")
    if limit is not None and limit < len(rows):
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit)]
    return rows


def dataset_name(path: Path) -> str:
    return "stdin" if str(path) == "-" else path.stem

"""The engine-agnostic core of a batch: input records in, output records out, one for one.

Every engine grades through here: the local runner with rows it parsed itself (``grade_rows``),
the Ray engine with plain dicts that travel between processes (``grade_records``). An input
record is one row of the batch row schema plus where it came from:

```python
grade_records(grader, [
    {"row": 1, "fields": {"id": "a1", "question_id": "adam-optimizer", "answer": "Adam..."}},
    {"row": 2, "error": {"kind": "malformed_json", "message": "line 2 is not valid JSON..."}},
])  # -> [{"id": "a1", "row": 1, ..., "score": ...}, {"id": "2", "row": 2, ..., "error": ...}]
```

``fields`` are the row's fields as read (``answer``, ``question_id`` or an ad-hoc ``question``
with ``reference_answers``, ``id``); ``error`` marks a row already refused before grading (it could
not be read, or its id repeats an earlier row's). ``line``, ``id`` and ``input_digest`` are
optional: ``line`` defaults to ``row`` and ``id`` to the row's own id, else its row number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from grader.batch.output import OutputRecord
from grader.batch.rows import ParsedRow, RowProblem, row_id, to_item, without_lone_surrogates
from grader.errors import GraderError
from grader.grading import GradeItem, Grader, PreparedAnswer
from grader.result import CriticChoice, GradeResult

Outcome = GradeResult | GraderError | RowProblem
Prepared = PreparedAnswer | GraderError | RowProblem


class Mapper(Protocol):
    """Maps a function over items, results in order: a thread pool, or the calling thread."""

    def map(self, fn: Callable[[Prepared], Outcome], items: Iterable[Prepared]
            ) -> Iterator[Outcome]: ...


def duplicate_id(identifier: str, earlier: int) -> RowProblem:
    """The error of a row whose id an earlier row (``earlier``) already used."""
    return RowProblem("duplicate_id", f"id {identifier!r} was already used by row {earlier}; "
                                      "give every row its own id")


def grade_records(grader: Grader, records: Iterable[Mapping[str, Any]], *,
                  critic: CriticChoice = "auto", pool: Mapper | None = None
                  ) -> list[dict[str, Any]]:
    """Grade input records (see the module docstring); one output record each, in order.

    An output record is what a JSONL batch output holds: ``id``, ``row`` and ``line`` carried
    through, then the grade or ``error: {kind, message}``, then ``input_digest``.
    """
    return [record.as_json() for record in grade_output_records(grader, records, critic=critic,
                                                                 pool=pool)]


def grade_output_records(grader: Grader, records: Iterable[Mapping[str, Any]], *,
                         critic: CriticChoice = "auto", pool: Mapper | None = None
                         ) -> list[OutputRecord]:
    """``grade_records``, as ``OutputRecord`` objects (to encode as JSONL or CSV)."""
    return list(grade_rows(grader, [parse_record(record, critic) for record in records], pool))


def parse_record(record: Mapping[str, Any], critic: CriticChoice) -> ParsedRow:
    """An input record as a row ready to grade, or refused with the reason."""
    row = int(record["row"])
    line = int(record.get("line") or row)
    fields = record.get("fields")
    fields = fields if isinstance(fields, dict) else {}
    identifier = record.get("id") or row_id(fields, row)
    question_id = fields.get("question_id")
    shown = without_lone_surrogates(question_id) if isinstance(question_id, str) else None
    digest = str(record.get("input_digest") or "")
    error = record.get("error")
    if error:
        problem = RowProblem(error["kind"], error["message"])
        return ParsedRow(row, line, identifier, problem=problem, question_id=shown,
                         input_digest=digest)
    try:
        outcome = to_item(fields, critic)
    except Exception as unexpected:  # a bug: this row's error row, never the end of the run
        outcome = RowProblem.unexpected(unexpected)
    if isinstance(outcome, RowProblem):
        return ParsedRow(row, line, identifier, problem=outcome, question_id=shown,
                         input_digest=digest)
    return ParsedRow(row, line, identifier, item=outcome, question_id=shown, input_digest=digest)


class _InOrder:
    """A pool of one: the calling thread, one item after another."""

    def map(self, fn: Callable[[Prepared], Outcome], items: Iterable[Prepared]
            ) -> Iterator[Outcome]:
        return map(fn, items)


def grade_rows(grader: Grader, rows: Sequence[ParsedRow], pool: Mapper | None = None
               ) -> Iterator[OutputRecord]:
    """Each row's record, in order, as soon as it is graded.

    The rows' answers go through the model in one pass (``Grader.prepare_many``). Then with
    no ``pool`` each is finished at once; with a pool (an LLM critic, slow per row) up to the
    pool's size of critiques run at a time and each row is yielded when it and those before
    it are done.
    """
    items = [row.item for row in rows if row.item is not None]
    prepared = _prepare(grader, items)
    outcomes = (pool or _InOrder()).map(lambda entry: _finish(grader, entry), prepared)
    for row in rows:
        result, problem = None, row.problem
        if row.item is not None:
            outcome = next(outcomes)
            if isinstance(outcome, GraderError):
                problem = RowProblem.from_grader_error(outcome)
            elif isinstance(outcome, RowProblem):
                problem = outcome
            else:
                result = outcome
        yield OutputRecord(row.id, row.row, row.line, result=result, problem=problem,
                           question_id=row.question_id, input_digest=row.input_digest)


def _prepare(grader: Grader, items: list[GradeItem]) -> list[Prepared]:
    """``prepare_many`` over the items; if it fails unexpectedly, each item alone, so that only
    the item that fails gets an error row."""
    try:
        return list(grader.prepare_many(items))
    except Exception:  # any failure: find the row it belongs to
        return [_prepare_one(grader, item) for item in items]


def _prepare_one(grader: Grader, item: GradeItem) -> Prepared:
    try:
        return grader.prepare_many([item])[0]
    except Exception as error:  # a bug or a library failure: its error row
        return RowProblem.unexpected(error)


def _finish(grader: Grader, entry: Prepared) -> Outcome:
    if isinstance(entry, (GraderError, RowProblem)):
        return entry
    try:
        return grader.finish(entry)
    except GraderError as error:  # a GradingFailedError among them: kept as it is
        return error
    except Exception as error:  # a bug or a library failure: its error row
        return RowProblem.unexpected(error)

"""The rows of a run, in order: each parsed into an item or an error, each with its digest.

On ``--resume`` the rows the output already has are read first (``skip_done``) and checked
against the output's last record: the same number of rows, and the same ``input_digest`` over
them. Only then may the output be touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from grader.batch.errors import ResumeError
from grader.batch.readers import RawRow, RowReader
from grader.batch.resume import ExistingOutput
from grader.batch.rows import ParsedRow, RowProblem, row_id, to_item, without_lone_surrogates
from grader.grading import GradeItem
from grader.result import CriticChoice

_START_OVER = "Use --force to start over, or choose another output file."


class RowStream:
    """Parsed rows after the ones already done; a repeated id becomes an error row.

    ```python
    rows = RowStream(reader, "auto", existing, input_path)
    rows.skip_done()  # raises ResumeError if the output was made from another input
    for parsed in rows: ...
    ```
    """

    def __init__(self, raw_rows: RowReader, critic: CriticChoice, existing: ExistingOutput,
                 input_path: Path) -> None:
        self._raw_rows = iter(raw_rows)
        self._chain = raw_rows.fingerprint()
        self._critic = critic
        self._existing = existing
        self._input_path = input_path
        # The first row of each id, keyed by a digest so that a huge id costs no more than a
        # short one: this map is what grows with the input.
        self._first_seen: dict[bytes, int] = {}
        self._skipped = False

    def skip_done(self) -> None:
        """Read the rows the output already has; raise ``ResumeError`` unless they are the rows
        it was made from."""
        if self._skipped:
            return
        self._skipped = True
        done, digest, last_row = self._existing.rows_done, "", 0
        while last_row < done:
            raw = next(self._raw_rows, None)
            if raw is None:
                raise ResumeError(
                    f"The output has {done} rows but {self._input_path} has only {last_row}: the "
                    f"output was written from another input. {_START_OVER}"
                )
            last_row, digest = raw.row, self._chain.add(raw.line, raw.digest)
            self._first_row_of(row_id(raw.fields or {}, raw.row), raw.row)
        if digest != self._existing.last_digest:
            raise ResumeError(
                f"Rows 1-{done} of {self._input_path} are not the rows the output was made from "
                "(their input_digest differs): a row above was added, removed or changed, or "
                f"this is another input. {_START_OVER}"
            )

    def __iter__(self) -> Iterator[ParsedRow]:
        self.skip_done()
        for raw in self._raw_rows:
            yield self._parse(raw)

    def _parse(self, raw: RawRow) -> ParsedRow:
        digest = self._chain.add(raw.line, raw.digest)
        fields = raw.fields or {}
        identifier = row_id(fields, raw.row)
        earlier = self._first_row_of(identifier, raw.row)
        question_id = fields.get("question_id")
        shown = without_lone_surrogates(question_id) if isinstance(question_id, str) else None
        problem = raw.problem
        if problem is None and earlier != raw.row:
            problem = RowProblem("duplicate_id", f"id {identifier!r} was already used by row "
                                 f"{earlier}; give every row its own id")
        item: GradeItem | None = None
        if problem is None:
            try:
                outcome = to_item(fields, self._critic)
            except Exception as error:  # a bug: this row's error row, never the end of the run
                outcome = RowProblem.unexpected(error)
            if isinstance(outcome, RowProblem):
                problem = outcome
            else:
                item = outcome
        return ParsedRow(raw.row, raw.line, identifier, item=item, problem=problem,
                         question_id=shown, input_digest=digest)

    def _first_row_of(self, identifier: str, row: int) -> int:
        key = hashlib.blake2b(identifier.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        return self._first_seen.setdefault(key, row)

"""Errors that stop a batch before or while it runs (a bad row never does: it becomes an error row).

    GraderError
    └── BatchError             the batch cannot start or continue as asked
        ├── OutputExistsError  the output exists and neither --resume nor --force was given
        └── ResumeError        the existing output cannot be continued safely
"""

from __future__ import annotations

from grader.errors import GraderError


class BatchError(GraderError):
    """The batch cannot start or continue: a bad input file, format or output path."""


class OutputExistsError(BatchError):
    """The output file exists; overwriting it needs ``--force``, continuing it ``--resume``."""


class ResumeError(BatchError):
    """The existing output does not belong to this input, or is damaged beyond its last row."""

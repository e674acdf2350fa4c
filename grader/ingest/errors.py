"""Errors of document ingestion. Both are ``GraderError``s, so adapters map them as such.

    GraderError
    └── IngestError           a document cannot be turned into drafts
        ├── DocumentError     unreadable, or no recognisable questions in it
        └── DraftExistsError  a draft file is already there and --force was not given
"""

from __future__ import annotations

from pathlib import Path

from grader.errors import GraderError


class IngestError(GraderError):
    """A document could not be ingested into draft rubrics."""


class DocumentError(IngestError):
    """The document is unreadable or holds no recognisable questions."""


class DraftExistsError(IngestError):
    """Writing would overwrite existing files."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        names = ", ".join(str(path) for path in paths)
        super().__init__(
            f"Not overwriting existing file(s): {names}. Pass --force (force=True) to replace "
            "them, or write to another folder."
        )

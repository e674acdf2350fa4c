"""Writing draft rubrics: validated, never over an existing file unless forced, each atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from grader.errors import RubricError
from grader.ingest.errors import DraftExistsError, IngestError
from grader.rubric import Rubric


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """Block style for multi-line text, so reference answers stay readable in review."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_yaml(rubric: Rubric) -> str:
    """The rubric as YAML in the bank's field order; it loads back to an equal rubric."""
    dumped: dict[str, Any] = rubric.model_dump(mode="json", exclude_none=True)
    # 'draft: true' goes right under the id, where a reviewer sees it first.
    data = {"id": dumped.pop("id"), "draft": dumped.pop("draft"), **dumped}
    text = str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100))
    if Rubric.model_validate(yaml.safe_load(text)) != rubric:  # never write what will not load
        raise RubricError(f"Draft {rubric.id!r} does not survive a YAML round trip; not written.")
    return text


def draft_path(folder: Path, rubric: Rubric) -> Path:
    """Where a rubric's file goes: the bank requires the file stem to equal the id."""
    return folder / f"{rubric.id}.yaml"


def write_drafts(rubrics: Sequence[Rubric], folder: Path, *, force: bool = False) -> list[Path]:
    """Write every rubric as ``folder/<id>.yaml``; all or (without ``force``) none if any exists.

    Every file is rendered and checked before the first one is written, and each is written to
    a temporary file then renamed over its target, so a reader never sees half a file.
    """
    rendered = [(draft_path(folder, rubric), render_yaml(rubric)) for rubric in rubrics]
    existing = [path for path, _ in rendered if path.exists()]
    if existing and not force:
        raise DraftExistsError(existing)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(f"Cannot create output folder {folder}: {exc.strerror}.") from exc
    written = []
    for path, text in rendered:
        write_atomically(path, text)
        written.append(path)
    return written


#: A draft is a file for review and for the bank, read by others (a server, a colleague):
#: readable by all, like any file an editor saves. (The temporary file it is written through
#: starts as 0600.)
DRAFT_MODE = 0o644


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename;
    the file gets ``DRAFT_MODE``."""
    try:
        handle = tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
            delete=False,
        )
    except OSError as exc:
        raise IngestError(f"Cannot write in {path.parent}: {exc.strerror or exc}.") from exc
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, DRAFT_MODE)
        os.replace(handle.name, path)
    except OSError as exc:
        Path(handle.name).unlink(missing_ok=True)
        raise IngestError(f"Cannot write {path}: {exc.strerror or exc}.") from exc

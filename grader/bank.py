"""The question bank: every rubric file under a folder, loaded and validated."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from grader.errors import RubricError, UnknownQuestionError, describe_validation_error
from grader.rubric import AREAS, Area, Difficulty, Rubric

#: Deepest nesting a rubric file may have (a rubric needs 5: the file's mapping, criteria, a
#: criterion, its phrasings, a phrasing). Deeper input is refused before PyYAML recurses into
#: it: at a few hundred levels it raises ``RecursionError``, which would stop the server starting.
MAX_YAML_DEPTH = 20


class _YAMLLimitError(yaml.YAMLError):
    """A rubric file breaks a rule of ``_RubricLoader``; the message names the line."""


class _RubricLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys (YAML says a key is unique; PyYAML keeps
    the last silently) and nesting deeper than ``MAX_YAML_DEPTH``."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                line = parent.start_mark.line + 1  # where the too-deep collection starts
                raise _YAMLLimitError(f"line {line}: nested deeper than {MAX_YAML_DEPTH} levels; "
                                      "a rubric needs 5.")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Hashable, Any]:
        first_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *defaults" may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                seen = key in first_lines
            except TypeError:  # an unhashable key: SafeLoader's own error names it
                continue
            if seen:
                raise _YAMLLimitError(f"line {line}: key {key!r} is given twice (first on line "
                                      f"{first_lines[key]}); keep one.")
            first_lines[key] = line
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def load_rubric(path: Path) -> Rubric:
    """Load and validate one rubric file.

    A bad file raises ``RubricError`` naming the file and the offending field (or line).
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_RubricLoader)
    except OSError as exc:
        raise RubricError(f"{path}: cannot read the file ({exc.strerror}).") from exc
    except _YAMLLimitError as exc:
        raise RubricError(f"{path}: {exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise RubricError(
            f"{path}: expected a mapping of rubric fields, got {type(data).__name__}."
        )
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(f"{path}: {describe_validation_error(exc, root='(top level)')}") from exc
    if rubric.id != path.stem:
        raise RubricError(f"{path}: field 'id' is {rubric.id!r} but the file is named "
                          f"{path.name!r}; rename one so they match.")
    if rubric.area is None and not rubric.draft:  # a draft gets its area when it is reviewed
        raise RubricError(f"{path}: field 'area' is missing; set it to one of "
                          f"{', '.join(AREAS)}.")
    return rubric


class QuestionBank:
    """An ordered, read-only collection of rubrics, looked up by id."""

    def __init__(self, rubrics: list[Rubric]) -> None:
        self._rubrics = {rubric.id: rubric for rubric in sorted(rubrics, key=lambda r: r.id)}
        if len(self._rubrics) != len(rubrics):
            raise RubricError("Two rubrics share an id; each question needs its own id.")

    @classmethod
    def from_dir(cls, folder: Path) -> QuestionBank:
        """Load every ``*.yaml`` file in ``folder``; every error is reported, not just the first."""
        if not folder.is_dir():
            raise RubricError(f"Rubric folder {folder} does not exist; set GRADER_RUBRICS_DIR.")
        rubrics, problems = [], []
        for path in sorted(folder.glob("*.yaml")):
            try:
                rubrics.append(load_rubric(path))
            except RubricError as exc:
                problems.append(str(exc))
        if problems:
            raise RubricError("\n".join(problems))
        return cls(rubrics)

    def __iter__(self) -> Iterator[Rubric]:
        return iter(self._rubrics.values())

    def __len__(self) -> int:
        return len(self._rubrics)

    def __contains__(self, question_id: object) -> bool:
        return question_id in self._rubrics

    @property
    def ids(self) -> list[str]:
        return list(self._rubrics)

    def get(self, question_id: str) -> Rubric:
        try:
            return self._rubrics[question_id]
        except KeyError:
            raise UnknownQuestionError(question_id, self.ids) from None

    def filter(
        self,
        *,
        tag: str | None = None,
        difficulty: Difficulty | None = None,
        area: Area | None = None,
        search: str | None = None,
    ) -> list[Rubric]:
        """The rubrics that pass every filter given; ``search`` is a case-insensitive substring
        of the question text or of a tag."""
        needle = " ".join(search.split()).casefold() if search else ""
        return [
            rubric
            for rubric in self
            if (tag is None or tag in rubric.tags)
            and (difficulty is None or rubric.difficulty == difficulty)
            and (area is None or rubric.area == area)
            and (not needle or needle in " ".join(rubric.question.split()).casefold()
                 or any(needle in t.casefold() for t in rubric.tags))
        ]

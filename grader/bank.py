"""The question bank: every rubric file under a folder, loaded and validated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from grader.errors import RubricError, UnknownQuestionError, describe_validation_error
from grader.rubric import Difficulty, Rubric


def load_rubric(path: Path) -> Rubric:
    """Load and validate one rubric file.

    A bad file raises ``RubricError`` naming the file and the offending field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RubricError(f"{path}: cannot read the file ({exc.strerror}).") from exc
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
        self, *, tag: str | None = None, difficulty: Difficulty | None = None
    ) -> list[Rubric]:
        return [
            rubric
            for rubric in self
            if (tag is None or tag in rubric.tags)
            and (difficulty is None or rubric.difficulty == difficulty)
        ]

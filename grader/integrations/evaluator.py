"""A LangSmith / openevals evaluator that grades an LLM's answer with the grader.

```python
from grader.integrations import evaluator

grade = evaluator("adam-optimizer")
grade(inputs={}, outputs={"answer": "Adam keeps moving averages of ..."})
# {'key': 'grader', 'score': 0.72, 'comment': 'pass (72/100): ...'}
```

Both harnesses call an evaluator with keyword arguments ``inputs``, ``outputs`` and
``reference_outputs`` and accept a dict with ``key``, ``score`` and ``comment``; neither
package is imported here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol, TypedDict

from grader.errors import InvalidAnswerError
from grader.grading import Grader
from grader.integrations.questions import question_from
from grader.result import CriticChoice, GradeResult
from grader.settings import get_settings

#: Keys of ``outputs`` that may hold the answer, in the order they are tried.
ANSWER_KEYS = ("answer", "output", "response", "content", "text")


class EvaluatorResult(TypedDict):
    key: str
    score: float
    comment: str


class Evaluator(Protocol):
    def __call__(self, inputs: Mapping[str, Any] | None = None,
                 outputs: Mapping[str, Any] | str | None = None,
                 reference_outputs: Mapping[str, Any] | None = None) -> EvaluatorResult: ...


def answer_from(outputs: Mapping[str, Any] | str | None) -> str:
    """The answer text: ``outputs`` itself when it is text, else its first key of
    ``ANSWER_KEYS``, else its only text value."""
    if isinstance(outputs, str):
        return outputs
    fields = dict(outputs or {})
    for key in ANSWER_KEYS:
        if isinstance(fields.get(key), str):
            return str(fields[key])
    texts = [value for value in fields.values() if isinstance(value, str)]
    if len(texts) == 1:
        return texts[0]
    raise InvalidAnswerError(
        f"The outputs hold no answer text: put it under 'answer' (or one of "
        f"{', '.join(ANSWER_KEYS[1:])}); the keys given were {sorted(fields) or 'none'}.")


def comment_on(result: GradeResult) -> str:
    """One paragraph: verdict and score, the summary, then the hints for what is missing."""
    text = f"{result.verdict} ({result.score:.0f}/100): {result.feedback.summary}"
    if result.feedback.missing:
        text += " " + "; ".join(result.feedback.missing)  # each hint names its kind
    return text


def evaluator(question_id: str | None = None, key: str = "grader", *,
              grader: Grader | None = None, critic: CriticChoice = "offline") -> Evaluator:
    """An evaluator ``(inputs, outputs, reference_outputs=None) -> {"key", "score", "comment"}``.

    The question is ``question_id`` when given, else ``inputs["question_id"]``, else an ad-hoc
    ``question`` in ``inputs`` with its reference answer(s) in ``reference_outputs`` (or
    ``inputs``). The answer is ``outputs["answer"]`` (see ``answer_from``). ``score`` is the
    grade over 100, from 0 to 1. Without a ``grader``, the default one loads on the first call.
    """
    lock = threading.Lock()
    loaded: list[Grader] = [grader] if grader is not None else []

    def get_grader() -> Grader:
        with lock:
            if not loaded:
                loaded.append(Grader.from_settings(get_settings()))
            return loaded[0]

    def evaluate(inputs: Mapping[str, Any] | None = None,
                 outputs: Mapping[str, Any] | str | None = None,
                 reference_outputs: Mapping[str, Any] | None = None) -> EvaluatorResult:
        references = dict(reference_outputs or {})
        if "reference_answer" not in references and "reference_answers" not in references:
            # a dataset's reference output is usually {"answer": ...} or {"output": ...}
            found = next((references[k] for k in ("answer", "output")
                          if isinstance(references.get(k), str)), None)
            references["reference_answer"] = found
        fields = {**references, **(inputs or {})}
        if question_id is not None:
            fields["question_id"] = question_id
        question = question_from(fields, "the inputs and reference outputs")
        result = get_grader().grade(question, answer_from(outputs), critic=critic)
        return {"key": key, "score": round(result.score / 100, 4),
                "comment": comment_on(result)}

    evaluate.__name__ = key  # LangSmith names the feedback after the function, too
    return evaluate


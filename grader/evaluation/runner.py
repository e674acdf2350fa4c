"""Grade a labeled dataset and measure every method against the human scores."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from grader.errors import DatasetError, GraderError
from grader.evaluation.baselines import embedding_cosine, tfidf_cosine
from grader.evaluation.calibration import CalibrationSet, fit_calibration
from grader.evaluation.criteria import Judged, criterion_metrics, judged, per_question
from grader.evaluation.crossval import DEFAULT_FOLDS, cross_validated_share
from grader.evaluation.dataset import EvalRow
from grader.evaluation.metrics import MetricValue, compute_metrics
from grader.grading import GradeItem, Grader
from grader.result import GradeResult

#: Raw signals of the grader that a calibration may use; all are 0..1-ish and rise with quality.
GRADER_SIGNALS = ("score", "coverage", "reference_strength", "reference_similarity")
#: The signals the default calibration mixes.
DEFAULT_GRADER_SIGNALS = ("score",)

METHOD_LABELS = {
    "grader": "grader (offline, calibrated)",
    "grader_uncalibrated": "grader (offline, as users get it: score/100 x scale)",
    "grader_llm": "grader (LLM critic, calibrated)",
    "tfidf": "baseline: tf-idf cosine (calibrated)",
    "embedding": "baseline: embedding cosine (calibrated)",
}

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class EvalOptions:
    calibration: CalibrationSet | None = None
    calibration_source: str = ""
    folds: int = DEFAULT_FOLDS
    grader_signals: tuple[str, ...] = DEFAULT_GRADER_SIGNALS
    pass_fraction: float = 0.7
    bootstrap_samples: int = 1000
    chunk: int = 256
    progress: Progress | None = _stderr


@dataclass
class DatasetEvaluation:
    """Everything measured on one dataset; the report and ``--json`` are views of this."""

    name: str
    rows: list[EvalRow]
    scale_max: float
    human: np.ndarray
    results: list[GradeResult]
    signals: dict[str, dict[str, np.ndarray]]
    predictions: dict[str, np.ndarray]
    metrics: dict[str, dict[str, MetricValue]]
    calibration_note: str
    probes: dict[str, object] = field(default_factory=dict)
    #: per method that yields statuses, its results (``grader``: offline; ``grader_llm``)
    judged: dict[str, list[Judged]] = field(default_factory=dict)

    @property
    def criterion_metrics(self) -> dict[str, dict[str, MetricValue]]:
        """Per-point agreement of each method with gold criterion labels, where rows have them."""
        return {method: criterion_metrics(items) for method, items in self.judged.items()
                if items}

    @property
    def question_ids(self) -> list[str]:
        return [row.question_id for row in self.rows]

    def per_question(self, method: str = "grader") -> list[dict[str, object]]:
        """n, mean human, mean predicted, Pearson and MAE per question, in question order."""
        out = []
        ids = np.array(self.question_ids)
        for question in dict.fromkeys(self.question_ids):
            mask = ids == question
            human, predicted = self.human[mask], self.predictions[method][mask]
            r = (float(np.corrcoef(human, predicted)[0, 1])
                 if mask.sum() > 2 and human.std() > 0 and predicted.std() > 0 else None)
            out.append({"question_id": question, "n": int(mask.sum()),
                        "human_mean": round(float(human.mean()), 3),
                        "predicted_mean": round(float(predicted.mean()), 3),
                        "pearson": None if r is None else round(r, 3),
                        "mae": round(float(np.abs(human - predicted).mean()), 3)})
        return out

    def as_json(self) -> dict[str, object]:
        return {
            "n": len(self.rows),
            "scale_max": self.scale_max,
            "calibration": self.calibration_note,
            "methods": {method: {name: value.as_dict() for name, value in metrics.items()}
                        for method, metrics in self.metrics.items()},
            "per_question": self.per_question(),
            "criteria": {
                method: {"n_answers": len(self.judged[method]),
                         "metrics": {name: value.as_dict() for name, value in metrics.items()},
                         "per_question": per_question(self.judged[method])}
                for method, metrics in self.criterion_metrics.items()
            },
            "probes": self.probes,
        }


def grade_rows(grader: Grader, rows: Sequence[EvalRow], *, critic: str = "offline",
               chunk: int = 256, progress: Progress | None = None) -> list[GradeResult]:
    """Grade every row with ``grade_many`` in chunks; any row the grader refuses is an error."""
    results: list[GradeResult] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        items = [GradeItem(row.question_ref(), row.answer, critic)  # type: ignore[arg-type]
                 for row in part]
        for row, result in zip(part, grader.grade_many(items), strict=True):
            if isinstance(result, GraderError):
                raise DatasetError(f"question {row.question_id}: the grader refused an answer "
                                   f"({result}); fix or drop that row.")
            results.append(result)
        if progress:
            progress(f"  graded {len(results)}/{len(rows)} ({critic})")
    return results


def grader_signals(results: Sequence[GradeResult]) -> dict[str, np.ndarray]:
    return {
        "score": np.array([r.score / 100.0 for r in results]),
        "coverage": np.array([r.signals.coverage for r in results]),
        "reference_strength": np.array([r.signals.reference_strength for r in results]),
        "reference_similarity": np.array([r.signals.reference_similarity for r in results]),
    }


def references_for(grader: Grader, rows: Sequence[EvalRow]) -> list[list[str]]:
    return [list(grader.resolve(row.question_ref()).reference_answers)
            for row in rows]


@dataclass
class Collected:
    """A dataset graded: the offline results, each method's raw signals, and the statuses of
    each method that judges criteria."""

    results: list[GradeResult]
    signals: dict[str, dict[str, np.ndarray]]
    judged: dict[str, list[Judged]]


def judge_rows(rows: Sequence[EvalRow], results: Sequence[GradeResult]) -> list[Judged]:
    return judged([row.question_id for row in rows], [row.criteria_labels for row in rows],
                  [row.misconceptions for row in rows], results)


def collect_signals(grader: Grader, rows: Sequence[EvalRow], options: EvalOptions) -> Collected:
    """Grade every row and compute both baselines: each method's raw signals."""
    results = grade_rows(grader, rows, chunk=options.chunk, progress=options.progress)
    answers = [row.answer for row in rows]
    references = references_for(grader, rows)
    signals = {
        "grader": grader_signals(results),
        "tfidf": {"cosine": tfidf_cosine(answers, references)},
        "embedding": {"cosine": embedding_cosine(grader.embedder, answers, references)},
    }
    judgements = {"grader": judge_rows(rows, results)}
    if grader.llm_critic is not None:
        llm = grade_rows(grader, rows, critic="llm", chunk=options.chunk, progress=options.progress)
        signals["grader_llm"] = grader_signals(llm)
        judgements["grader_llm"] = judge_rows(rows, llm)
    return Collected(results, signals, judgements)


def signal_names(method: str, options: EvalOptions) -> list[str]:
    return list(options.grader_signals) if method.startswith("grader") else ["cosine"]


def fit_calibration_set(signals: dict[str, dict[str, np.ndarray]], rows: Sequence[EvalRow],
                        options: EvalOptions, fitted_on: str) -> CalibrationSet:
    """One calibration per method, fitted on all rows of a development set."""
    share = np.array([row.fraction for row in rows])
    return CalibrationSet(fitted_on=fitted_on, methods={
        method: fit_calibration(values, share, signal_names(method, options))
        for method, values in signals.items()
    })


def evaluate_signals(name: str, rows: list[EvalRow], collected: Collected, options: EvalOptions
                     ) -> DatasetEvaluation:
    """Calibrate each method (given file, or grouped CV on this dataset) and measure it."""
    results, signals = collected.results, collected.signals
    scales = {row.scale_max for row in rows}
    if len(scales) != 1:
        raise DatasetError(f"Dataset {name} mixes scales {sorted(scales)}; split it by scale.")
    scale_max = scales.pop()
    human = np.array([row.score for row in rows])
    share = human / scale_max
    groups = [row.question_id for row in rows]
    predictions = {"grader_uncalibrated": signals["grader"]["score"] * scale_max}
    for method, values in signals.items():
        if options.calibration is not None and method in options.calibration.methods:
            predictions[method] = options.calibration.methods[method].share(values) * scale_max
        else:
            predictions[method] = cross_validated_share(
                values, share, groups, signal_names(method, options), options.folds) * scale_max
    if options.calibration is not None:
        note = f"fitted on {options.calibration.fitted_on} ({options.calibration_source})"
    else:
        note = (f"grouped cross-validation by question, {options.folds} folds "
                f"({len(set(groups))} questions): each answer calibrated by a map fitted on "
                "other questions only")
    order = ["grader", "grader_llm", "grader_uncalibrated", "tfidf", "embedding"]
    metrics = {
        method: compute_metrics(predictions[method], human, scale_max=scale_max,
                                pass_fraction=options.pass_fraction,
                                samples=options.bootstrap_samples)
        for method in order if method in predictions
    }
    return DatasetEvaluation(name=name, rows=rows, scale_max=scale_max, human=human,
                             results=results, signals=signals, predictions=predictions,
                             metrics=metrics, calibration_note=note, judged=collected.judged)


def evaluate_dataset(name: str, rows: list[EvalRow], grader: Grader, options: EvalOptions
                     ) -> DatasetEvaluation:
    """Grade ``rows`` and measure the grader and both baselines against the human scores."""
    return evaluate_signals(name, rows, collect_signals(grader, rows, options), options)

"""Bias probes: does the grader reward things a careful human would not?

1. Appending irrelevant text to an answer must not raise its score.
2. Score against answer length: how much of the score (and of its error) length explains.
3. An answer that only restates the question should score near zero.
4. A paraphrase of a good answer should score like the original (hand-written pairs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.adhoc import AdhocQuestion
from grader.errors import DatasetError, GraderError, describe_validation_error
from grader.evaluation.calibration import fit_calibration
from grader.evaluation.metrics import spearman
from grader.evaluation.runner import DatasetEvaluation, EvalOptions, grade_rows, grader_signals
from grader.grading import GradeItem, Grader
from grader.result import GradeResult
from grader.text import words

#: Fluent, on-no-topic filler; the same text for every dataset.
IRRELEVANT = (
    "In other news, the weather this weekend should be mild and sunny, which is perfect for a "
    "long walk in the park. My grandmother always said that a good soup needs time, fresh herbs "
    "and a little patience, and she was right about most things."
)
#: At most this many answers are re-graded with the filler appended.
PROBE_SAMPLE = 120
LENGTH_BINS = (0, 10, 20, 40, 80, 10_000)


class ParaphrasePair(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question_id: str
    original: str = Field(min_length=1)
    paraphrase: str = Field(min_length=1)


def load_paraphrases(path: Path) -> list[ParaphrasePair]:
    pairs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read paraphrase file {path}: {exc}.") from exc
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                pairs.append(ParaphrasePair.model_validate_json(line))
            except ValidationError as exc:
                raise DatasetError(f"{path}:{number}: {describe_validation_error(exc, root='row')}"
                                   ) from exc
    return pairs


def _calibrated(evaluation: DatasetEvaluation, options: EvalOptions, results: list[GradeResult]
                ) -> np.ndarray:
    """Scores on the dataset scale with the run's calibration, or score/100 x scale without one."""
    signals = grader_signals(results)
    if options.calibration is not None and "grader" in options.calibration.methods:
        calibration = options.calibration.methods["grader"]
    else:  # calibrated by CV: show the probe through a map fitted on the whole dataset
        calibration = fit_calibration(evaluation.signals["grader"],
                                      evaluation.human / evaluation.scale_max,
                                      list(options.grader_signals))
    return calibration.share(signals) * evaluation.scale_max


def irrelevant_text_probe(grader: Grader, evaluation: DatasetEvaluation) -> dict[str, object]:
    step = max(1, len(evaluation.rows) // PROBE_SAMPLE)
    indices = list(range(0, len(evaluation.rows), step))[:PROBE_SAMPLE]
    rows = [evaluation.rows[i].model_copy(
        update={"answer": f"{evaluation.rows[i].answer} {IRRELEVANT}"}) for i in indices]
    appended = grade_rows(grader, rows, progress=None)
    before = np.array([evaluation.results[i].score for i in indices])
    after = np.array([r.score for r in appended])
    delta = after - before
    return {"answers": len(indices), "mean_change": round(float(delta.mean()), 2),
            "raised_by_more_than_1": int((delta > 1.0).sum()),
            "max_rise": round(float(delta.max()), 2), "max_drop": round(float(delta.min()), 2)}


def length_probe(evaluation: DatasetEvaluation) -> dict[str, object]:
    lengths = np.array([len(words(row.answer)) for row in evaluation.rows])
    predicted = evaluation.predictions["grader"]
    residual = predicted - evaluation.human
    bins = []
    for low, high in zip(LENGTH_BINS, LENGTH_BINS[1:], strict=False):
        mask = (lengths >= low) & (lengths < high)
        if mask.any():
            bins.append({"words": f"{low}-{high - 1}" if high < 10_000 else f"{low}+",
                         "n": int(mask.sum()),
                         "human_mean": round(float(evaluation.human[mask].mean()), 2),
                         "predicted_mean": round(float(predicted[mask].mean()), 2)})
    return {"spearman_length_vs_human": round(spearman(lengths, evaluation.human), 3),
            "spearman_length_vs_predicted": round(spearman(lengths, predicted), 3),
            "spearman_length_vs_error": round(spearman(lengths, residual), 3),
            "bins": bins}


def restated_question_probe(grader: Grader, evaluation: DatasetEvaluation,
                            options: EvalOptions) -> dict[str, object]:
    questions = {}
    for row in evaluation.rows:
        if row.question_id not in questions:
            questions[row.question_id] = row.question_ref()
    items = []
    for ref in questions.values():
        text = ref.question if isinstance(ref, AdhocQuestion) else grader.bank.get(ref).question
        items.append(GradeItem(ref, text, "offline"))
    results = [r for r in grader.grade_many(items) if not isinstance(r, GraderError)]
    scores = np.array([r.score for r in results])
    scaled = _calibrated(evaluation, options, results)
    return {"questions": len(results), "mean_score_0_100": round(float(scores.mean()), 2),
            "max_score_0_100": round(float(scores.max()), 2),
            "mean_on_scale": round(float(scaled.mean()), 3),
            "human_mean_on_scale": round(float(evaluation.human.mean()), 3)}


def paraphrase_probe(grader: Grader, pairs: list[ParaphrasePair]) -> dict[str, object]:
    items = [GradeItem(p.question_id, text, "offline")
             for p in pairs for text in (p.original, p.paraphrase)]
    results = grader.grade_many(items)
    errors = [r for r in results if isinstance(r, GraderError)]
    if errors:
        raise DatasetError(f"paraphrase probe: {errors[0]}")
    scores = np.array([r.score for r in results]).reshape(-1, 2)  # type: ignore[union-attr]
    gaps = scores[:, 1] - scores[:, 0]
    return {"pairs": len(pairs), "mean_original": round(float(scores[:, 0].mean()), 1),
            "mean_paraphrase": round(float(scores[:, 1].mean()), 1),
            "mean_abs_gap": round(float(np.abs(gaps).mean()), 1),
            "max_abs_gap": round(float(np.abs(gaps).max()), 1),
            "per_pair": [{"question_id": p.question_id, "original": float(a),
                          "paraphrase": float(b)}
                         for p, (a, b) in zip(pairs, scores, strict=True)]}


def run_probes(grader: Grader, evaluation: DatasetEvaluation, options: EvalOptions, *,
               paraphrases: Path | None = None) -> dict[str, object]:
    """Every probe that applies to this dataset; the paraphrase probe needs a pairs file."""
    probes: dict[str, object] = {
        "irrelevant_text": irrelevant_text_probe(grader, evaluation),
        "length": length_probe(evaluation),
        "restated_question": restated_question_probe(grader, evaluation, options),
    }
    if paraphrases is not None:
        pairs = [p for p in load_paraphrases(paraphrases)
                 if p.question_id in {row.question_id for row in evaluation.rows}]
        if pairs:
            probes["paraphrase"] = paraphrase_probe(grader, pairs)
    plain: dict[str, object] = json.loads(json.dumps(probes))  # plain JSON types only
    return plain

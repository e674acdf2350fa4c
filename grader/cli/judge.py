"""``grader judge train``: fit the offline critic's criterion judge on labeled answers."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from grader.cli.loading import load_grader
from grader.errors import DatasetError, MissingExtraError
from grader.grading import Grader, PreparedAnswer
from grader.result import CriterionStatus
from grader.score_calibration import ScoreCalibration
from grader.settings import get_settings

#: Where the package looks for its judge and score calibration.
DATA = Path(__file__).resolve().parent.parent / "data"
PACKAGED = DATA / "criterion-judge.json"
CALIBRATION = DATA / "score-calibration.json"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "judge", help="train the offline critic's per-criterion judge",
        description="Fit the criterion judge on JSONL datasets whose rows carry "
                    "criteria_labels (eval/labeled/*-dev.jsonl), print its cross-validated "
                    "agreement (question left out, kind of answer left out) and save it.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = actions.add_parser("train", help="fit and save the judge")
    train.add_argument("datasets", nargs="+", type=Path, metavar="DATASET",
                       help="labeled JSONL with criteria_labels; - reads standard input")
    train.add_argument("-o", "--output", type=Path, default=PACKAGED,
                       help=f"where to write it (default: the packaged {PACKAGED.name})")
    train.add_argument("--calibration-output", type=Path, default=CALIBRATION,
                       help="where to write the score calibration fitted with the new judge "
                            f"(default: the packaged {CALIBRATION.name})")
    train.add_argument("--max-false-credit", type=float, default=0.10)
    train.add_argument("--max-false-miss", type=float, default=0.15)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        from grader.evaluation.judge_training import cross_validate, labeled_points, train
    except ImportError as error:
        raise MissingExtraError("grader judge train", "eval", error) from error
    from grader.evaluation.dataset import load_dataset
    from grader.grading import GradeItem

    if any(path.name.endswith("test.jsonl") for path in args.datasets):
        raise DatasetError("The frozen test half is never trained on; pass the dev sets only.")
    settings = get_settings()
    # the features need neither the packaged judge nor its calibration (which may be stale)
    settings = settings.model_copy(update={"scoring": settings.scoring.model_copy(
        update={"calibrate_score": False, "offline_judge": False})})
    grader = load_grader(settings)
    points, graded, shares = [], [], []
    for path in args.datasets:
        rows = [row for row in load_dataset(path, grader.bank) if row.criteria_labels]
        prepared = grader.prepare_many([GradeItem(row.question_ref(), row.answer, "offline")
                                        for row in rows])
        for row, entry in zip(rows, prepared, strict=True):
            if not isinstance(entry, PreparedAnswer) or entry.evidence.criterion_features is None:
                raise DatasetError(f"{path}: question {row.question_id}: could not grade a row.")
            graded.append((entry, entry.evidence.criterion_features))
            shares.append(row.fraction)
            points += labeled_points(entry.evidence.criterion_features,
                                     dict(row.criteria_labels or {}),
                                     [c.id for c in entry.rubric.criteria], row.question_id,
                                     str(getattr(row, "kind", "") or "unknown"))
        print(f"{path}: {len(rows)} labeled answers", file=sys.stderr)
    limits = {"max_false_credit": args.max_false_credit, "max_false_miss": args.max_false_miss}
    for by in ("question_id", "kind"):
        folds = cross_validate(points, by, **limits)
        print(f"cross-validated, {by} left out: kappa {folds.kappa:.3f}, false credit "
              f"{folds.false_credit:.3f}, false miss {folds.false_miss:.3f}")
    trained = train(points, trained_on=", ".join(p.name for p in args.datasets), **limits)
    judge = trained.judge
    judge.save(args.output)
    print(f"wrote {args.output} ({judge.version}, {len(points)} labeled points, cutoffs "
          f"{judge.cutoffs})")
    raw = [raw_score(grader, entry, trained.held_out_credit(entry.rubric.id, features),
                     judge.cutoffs) for entry, features in graded]
    calibration = fit_score_calibration(raw, shares)
    calibration.save(args.calibration_output)
    print(f"wrote {args.calibration_output} ({calibration.name}, {calibration.rows} answers)")
    return 0


#: The raw score the calibration maps: the judge's weighted credit, less a small penalty per
#: misconception found. The reference match adds nothing the judge's credit lacks on the
#: labeled answers (its fitted weight was zero), so it is left out; chosen by
#: question-left-out cross-validation on the dev sets.
MIX = {"weight_coverage": 1.0, "weight_reference": 0.0, "misconception_penalty": 0.05}


def raw_score(grader: Grader, entry: PreparedAnswer, credit: np.ndarray,
              cutoffs: tuple[float, float]) -> float:
    """An answer's raw score (0..1, under ``MIX``) from held-out criterion credit."""
    from grader.evaluation.judge_training import levels
    from grader.scoring import combine

    found = sum(match.passage is not None for match in entry.evidence.misconceptions)
    order: tuple[CriterionStatus, ...] = ("missed", "partial", "met")
    statuses = [order[level] for level in levels(2 * credit, cutoffs)]
    return combine(statuses, [c.weight for c in entry.rubric.criteria],
                   entry.evidence.reference_strength, found,
                   grader.scoring.model_copy(update=MIX), credits=credit.tolist()) / 100.0


def fit_score_calibration(raw: list[float], shares: list[float]) -> ScoreCalibration:
    """A monotone map from the raw score to the expert's share of full marks."""
    from grader.evaluation.calibration import fit_calibration

    x, y = np.array(raw), np.array(shares)
    fitted = fit_calibration({"score": x}, y, ["score"])
    digest = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()[:12]
    return ScoreCalibration(name=f"score-calibration-{digest}", x=fitted.x, y=fitted.y,
                            rows=len(shares), **MIX)

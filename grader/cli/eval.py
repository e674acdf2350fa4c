"""``grader eval``: measure the grader against human scores, with baselines, calibration, report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import DatasetError, MissingExtraError
from grader.settings import get_settings

if TYPE_CHECKING:
    from grader.evaluation.runner import DatasetEvaluation

# The evaluation stack (scipy, scikit-learn) is imported when `grader eval` runs, not whenever
# the CLI builds its parser: every other command would pay for it at start-up.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "eval", help="measure agreement with human scores on labeled datasets",
        description="Grade every row of each DATASET (JSONL) and report Pearson, Spearman, RMSE, "
                    "MAE, quadratic weighted kappa and pass/fail agreement with bootstrap 95% "
                    "intervals, for the grader and the tf-idf and embedding-cosine baselines.")
    parser.add_argument("datasets", nargs="+", type=Path, metavar="DATASET",
                        help="a labeled JSONL file; - reads standard input")
    parser.add_argument("--calibrate-on", type=Path, metavar="DEV",
                        help="fit the calibration on this development set; a DATASET that is DEV "
                             "itself is measured by grouped cross-validation instead")
    parser.add_argument("--calibration", type=Path, metavar="FILE",
                        help="apply this calibration file (default: GRADER_CALIBRATION_FILE; "
                             "without either, each dataset is calibrated by grouped CV)")
    parser.add_argument("--save-calibration", type=Path, metavar="FILE",
                        help="write the calibration fitted with --calibrate-on to FILE")
    parser.add_argument("--report", type=Path, metavar="DIR",
                        help="write DIR/REPORT.md and PNG plots under DIR/report/")
    parser.add_argument("--paraphrases", type=Path, metavar="FILE",
                        help="JSONL of {question_id, original, paraphrase} pairs "
                             "for the paraphrase probe")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object with all figures")
    parser.add_argument("--limit", type=int, metavar="N", help="use N rows per dataset (a spread)")
    parser.add_argument("--no-probes", action="store_true", help="skip the bias probes")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from grader.bank import QuestionBank
    from grader.cli.loading import load_grader
    from grader.evaluation.calibration import load_calibration
    from grader.evaluation.dataset import dataset_name, load_dataset
    from grader.evaluation.runner import (
        EvalOptions,
        collect_signals,
        evaluate_signals,
        fit_calibration_set,
    )

    if args.limit is not None and args.limit < 2:
        raise DatasetError("--limit must be at least 2.")
    if args.save_calibration and not args.calibrate_on:
        raise DatasetError("--save-calibration needs --calibrate-on DEV to fit on.")
    if args.calibration and args.calibrate_on:
        raise DatasetError("Use either --calibration FILE or --calibrate-on DEV, not both.")
    settings = get_settings()
    options = EvalOptions(pass_fraction=settings.pass_threshold / 100.0)
    calibration_file = args.calibration or settings.calibration_file
    if calibration_file:
        options.calibration = load_calibration(calibration_file)
        options.calibration_source = str(calibration_file)

    # Every file is read and checked against the bank before the model loads (seconds).
    bank = QuestionBank.from_dir(settings.rubrics_dir)
    loaded = {path: load_dataset(path, bank, limit=args.limit) for path in args.datasets}
    dev_rows = (loaded.get(args.calibrate_on) or load_dataset(args.calibrate_on, bank,
                                                              limit=args.limit)
                if args.calibrate_on else [])
    grader = load_grader(settings)
    dev_signals = None
    if args.calibrate_on:
        dev_path = args.calibrate_on
        print(f"calibrating on {dev_path} ({len(dev_rows)} rows)", file=sys.stderr)
        dev_signals = collect_signals(grader, dev_rows, options)
        calibration = fit_calibration_set(dev_signals.signals, dev_rows, options,
                                          fitted_on=dataset_name(dev_path))
        if args.save_calibration:
            calibration.save(args.save_calibration)
            print(f"wrote {args.save_calibration}", file=sys.stderr)

    evaluations: list[DatasetEvaluation] = []
    for path, rows in loaded.items():
        print(f"evaluating {path} ({len(rows)} rows)", file=sys.stderr)
        is_dev = args.calibrate_on is not None and path.resolve() == args.calibrate_on.resolve()
        own = EvalOptions(**{**vars(options)})
        if args.calibrate_on and not is_dev:
            own.calibration = calibration
            own.calibration_source = f"--calibrate-on {args.calibrate_on}"
        collected = (dev_signals if is_dev and dev_signals
                     else collect_signals(grader, rows, own))
        evaluation = evaluate_signals(dataset_name(path), rows, collected, own)
        if not args.no_probes:
            from grader.evaluation.probes import run_probes

            evaluation.probes = run_probes(grader, evaluation, own, paraphrases=args.paraphrases)
        evaluations.append(evaluation)

    if args.report:
        try:
            from grader.evaluation.report import write_report
        except ImportError as error:
            raise MissingExtraError("grader eval --report", "eval", error) from error

        path = write_report(args.report, evaluations, command="make eval")
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps({e.name: e.as_json() for e in evaluations}, indent=2))
    else:
        for evaluation in evaluations:
            print(render(evaluation))
    return 0


def render(evaluation: DatasetEvaluation) -> str:
    """A table of every method's metrics with their 95% intervals."""
    from grader.evaluation.runner import METHOD_LABELS

    header = f"{'method':44s} " + " ".join(f"{m:>20s}" for m in next(
        iter(evaluation.metrics.values())))
    lines = [f"{evaluation.name}: {len(evaluation.rows)} answers, "
             f"scale 0-{evaluation.scale_max:g}; "
             f"calibration: {evaluation.calibration_note}", header]
    for method, metrics in evaluation.metrics.items():
        cells = " ".join(f"{v.value:6.3f} [{v.low:5.2f},{v.high:5.2f}]" for v in metrics.values())
        lines.append(f"{METHOD_LABELS.get(method, method):44s} {cells}")
    for method, values in evaluation.criterion_metrics.items():
        lines.append(f"per-point judgement ({method}, {len(evaluation.judged[method])} answers): "
                     + ", ".join(f"{name} {v.value:.3f} [{v.low:.2f},{v.high:.2f}]"
                                 for name, v in values.items()))
    return "\n".join(lines) + "\n"

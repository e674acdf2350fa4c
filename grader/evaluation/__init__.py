"""Evaluation: agreement of the grader with human scores, calibration, baselines and probes.

``grader eval`` is the thin adapter over this package. The pieces, one module each:

- ``dataset``: the labeled JSONL format, loaded and validated row by row;
- ``metrics``: Pearson, Spearman, RMSE, MAE, quadratic weighted kappa, pass/fail agreement,
  each with a bootstrap 95% interval;
- ``baselines``: tf-idf cosine and plain embedding cosine between answer and reference;
- ``calibration``: a monotone map from a raw signal to the human scale, saved as JSON;
- ``crossval``: cross-validation grouped by question;
- ``probes``: bias probes (irrelevant text, length, restated question, paraphrase);
- ``runner``: grades a dataset and puts it all together; ``report``: Markdown and PNG plots.
"""

from grader.evaluation.calibration import Calibration, CalibrationSet, load_calibration
from grader.evaluation.dataset import EvalRow, load_dataset
from grader.evaluation.metrics import MetricValue, compute_metrics
from grader.evaluation.runner import DatasetEvaluation, EvalOptions, evaluate_dataset

__all__ = [
    "Calibration",
    "CalibrationSet",
    "DatasetEvaluation",
    "EvalOptions",
    "EvalRow",
    "MetricValue",
    "compute_metrics",
    "evaluate_dataset",
    "load_calibration",
    "load_dataset",
]

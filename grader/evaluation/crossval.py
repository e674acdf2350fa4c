"""Cross-validation grouped by question: a question's answers are never in train and test both.

The grader will meet questions it has never seen, so a figure from folds that share questions
would flatter it. Every development-set figure in the report comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from grader.errors import DatasetError
from grader.evaluation.calibration import fit_calibration

DEFAULT_FOLDS = 5


def grouped_folds(groups: Sequence[str], folds: int = DEFAULT_FOLDS) -> list[np.ndarray]:
    """Test-row indices of each fold; questions are dealt to folds in a fixed order.

    Questions are sorted by size and dealt round-robin, so folds hold similar numbers of
    answers and the split does not depend on row order or any random state.
    """
    labels = np.asarray(groups)
    unique, counts = np.unique(labels, return_counts=True)
    folds = max(1, min(folds, len(unique)))
    order = sorted(zip(unique, counts, strict=True), key=lambda item: (-item[1], item[0]))
    fold_of = {question: i % folds for i, (question, _) in enumerate(order)}
    assignment = np.array([fold_of[q] for q in labels])
    return [np.flatnonzero(assignment == fold) for fold in range(folds)]


def cross_validated_share(
    signals: Mapping[str, np.ndarray],
    human_share: np.ndarray,
    groups: Sequence[str],
    names: Sequence[str],
    folds: int = DEFAULT_FOLDS,
) -> np.ndarray:
    """Each row's calibrated share, from a calibration fitted on the other folds' questions."""
    human_share = np.asarray(human_share, dtype=float)
    predicted = np.zeros(len(human_share))
    test_sets = grouped_folds(groups, folds)
    if len(test_sets) < 2:
        raise DatasetError(
            "Grouped cross-validation needs answers to at least two questions, and this dataset "
            "has one. Add answers to other questions, or calibrate with a file fitted elsewhere "
            "(--calibration FILE, or --calibrate-on DEV).")
    for test in test_sets:
        train = np.setdiff1d(np.arange(len(human_share)), test)
        calibration = fit_calibration({k: np.asarray(v)[train] for k, v in signals.items()},
                                      human_share[train], names)
        predicted[test] = calibration.share({k: np.asarray(v)[test] for k, v in signals.items()})
    return predicted

"""Gradient-boosted trees for a yes/no question, applied with numpy alone.

The criterion judge's model (``grader.judge``). Training uses scikit-learn's
``HistGradientBoostingClassifier`` (the ``eval`` extra); ``from_sklearn`` copies its fitted
trees into flat arrays, so grading needs neither scikit-learn nor pickles: the model is plain
numbers in a JSON file. All trees are walked at once, one level per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_FIELDS = ("feature", "threshold", "left", "right", "value", "leaf", "missing_left")


@dataclass(frozen=True)
class BoostedTrees:
    """``P(yes) = sigmoid(baseline + sum of every tree's leaf value)``.

    The nodes of every tree sit in flat arrays; ``roots[t]`` is tree t's first node. A row
    goes left at a split when its feature is at most the threshold (a missing value goes where
    ``missing_left`` says).
    """

    baseline: float
    roots: np.ndarray  # (trees,) int
    feature: np.ndarray  # (nodes,) int
    threshold: np.ndarray  # (nodes,) float
    left: np.ndarray  # (nodes,) int, absolute node index
    right: np.ndarray  # (nodes,) int
    value: np.ndarray  # (nodes,) float, used at leaves
    leaf: np.ndarray  # (nodes,) bool
    missing_left: np.ndarray  # (nodes,) bool
    depth: int  # the deepest leaf's depth: steps needed to reach every leaf

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(yes) for each row of ``x`` (rows, features)."""
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node],
                               values <= self.threshold[node])
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(self.leaf[node], node, step)
        logit = self.value[node].sum(axis=1) + self.baseline
        probability: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
        return probability

    def to_json(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "roots": self.roots.tolist(), "depth": self.depth,
                "nodes": {name: getattr(self, name).tolist() for name in _FIELDS}}

    @classmethod
    def from_json(cls, data: dict[str, Any], features: int) -> BoostedTrees:
        """Raises ValueError (or KeyError, TypeError) when ``data`` is not a usable model."""
        nodes = data["nodes"]
        trees = cls(
            baseline=float(data["baseline"]),
            roots=np.array(data["roots"], dtype=np.int64),
            feature=np.array(nodes["feature"], dtype=np.int64),
            threshold=np.array(nodes["threshold"], dtype=np.float64),
            left=np.array(nodes["left"], dtype=np.int64),
            right=np.array(nodes["right"], dtype=np.int64),
            value=np.array(nodes["value"], dtype=np.float64),
            leaf=np.array(nodes["leaf"], dtype=bool),
            missing_left=np.array(nodes["missing_left"], dtype=bool),
            depth=int(data["depth"]),
        )
        count = len(trees.feature)
        if any(len(getattr(trees, name)) != count for name in _FIELDS):
            raise ValueError("its node arrays differ in length")
        splits = ~trees.leaf
        indices = (trees.roots, trees.left[splits], trees.right[splits])
        if any(len(i) and (i.min() < 0 or i.max() >= count) for i in indices):
            raise ValueError("a node points outside the tree")
        if splits.any() and (trees.feature[splits].min() < 0
                             or trees.feature[splits].max() >= features):
            raise ValueError(f"a split reads a feature outside the {features} it is given")
        return trees

    @classmethod
    def from_sklearn(cls, model: Any) -> BoostedTrees:
        """Copy a ``HistGradientBoostingClassifier`` fitted on two classes (numerical features
        only).

        Reads its fitted trees (``_predictors``, ``_baseline_prediction``), which scikit-learn
        does not document: tests/test_boosted_trees.py checks the copy predicts as it does.
        """
        if len(model.classes_) != 2:
            raise ValueError("only a yes/no model (two classes) can be copied")
        parts: dict[str, list[Any]] = {name: [] for name in _FIELDS}
        roots, depth = [], 0
        for (predictor,) in model._predictors:
            nodes, offset = predictor.nodes, len(parts["feature"])
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            roots.append(offset)
            depth = max(depth, int(nodes["depth"].max()))
            parts["feature"] += nodes["feature_idx"].tolist()
            parts["threshold"] += nodes["num_threshold"].tolist()
            parts["left"] += (nodes["left"].astype(np.int64) + offset).tolist()
            parts["right"] += (nodes["right"].astype(np.int64) + offset).tolist()
            parts["value"] += nodes["value"].tolist()
            parts["leaf"] += nodes["is_leaf"].astype(bool).tolist()
            parts["missing_left"] += nodes["missing_go_to_left"].astype(bool).tolist()
        baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        return cls.from_json({"baseline": baseline, "roots": roots, "depth": depth,
                              "nodes": parts}, features=model.n_features_in_)

"""Gradient-boosted trees (a yes/no answer or a few classes), applied with numpy alone.

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
    """``P(class) = softmax(baseline + sum of the class's trees' leaf values)``; with one
    class, a yes/no model: ``P(yes) = sigmoid(...)``.

    The nodes of every tree sit in flat arrays; ``roots[t]`` is tree t's first node and
    ``classes[t]`` the class whose logit it adds to. A row goes left at a split when its
    feature is at most the threshold (a missing value goes where ``missing_left`` says).
    """

    baseline: np.ndarray  # (classes,)
    roots: np.ndarray  # (trees,) int
    classes: np.ndarray  # (trees,) int
    feature: np.ndarray  # (nodes,) int
    threshold: np.ndarray  # (nodes,) float
    left: np.ndarray  # (nodes,) int, absolute node index
    right: np.ndarray  # (nodes,) int
    value: np.ndarray  # (nodes,) float, used at leaves
    leaf: np.ndarray  # (nodes,) bool
    missing_left: np.ndarray  # (nodes,) bool
    depth: int  # the deepest leaf's depth: steps needed to reach every leaf

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(rows, classes) for ``x`` of shape (rows, features)."""
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node],
                               values <= self.threshold[node])
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(self.leaf[node], node, step)
        one_hot = np.eye(len(self.baseline))[self.classes]  # (trees, classes)
        logits: np.ndarray = self.value[node] @ one_hot + self.baseline
        return logits

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(rows, classes), or (rows, 2) for a yes/no model: P(no), P(yes)."""
        logits = self.logits(x)
        if logits.shape[1] == 1:
            yes = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1.0 - yes, yes], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def to_json(self) -> dict[str, Any]:
        return {"baseline": self.baseline.tolist(), "roots": self.roots.tolist(),
                "classes": self.classes.tolist(), "depth": self.depth,
                "nodes": {name: getattr(self, name).tolist() for name in _FIELDS}}

    @classmethod
    def from_json(cls, data: dict[str, Any], features: int) -> BoostedTrees:
        """Raises ValueError (or KeyError, TypeError) when ``data`` is not a usable model."""
        nodes = data["nodes"]
        trees = cls(
            baseline=np.array(data["baseline"], dtype=np.float64),
            roots=np.array(data["roots"], dtype=np.int64),
            classes=np.array(data["classes"], dtype=np.int64),
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
        if len(trees.roots) != len(trees.classes) or trees.baseline.ndim != 1:
            raise ValueError("its trees and classes do not match")
        splits = ~trees.leaf
        indices = (trees.roots, trees.left[splits], trees.right[splits])
        if any(len(i) and (i.min() < 0 or i.max() >= count) for i in indices):
            raise ValueError("a node points outside the tree")
        if len(trees.classes) and (trees.classes.min() < 0
                                   or trees.classes.max() >= len(trees.baseline)):
            raise ValueError("a tree adds to a class the model does not have")
        if splits.any() and (trees.feature[splits].min() < 0
                             or trees.feature[splits].max() >= features):
            raise ValueError(f"a split reads a feature outside the {features} it is given")
        return trees

    @classmethod
    def from_sklearn(cls, model: Any) -> BoostedTrees:
        """Copy a fitted ``HistGradientBoostingClassifier`` (numerical features only; two
        classes give a yes/no model).

        Reads its fitted trees (``_predictors``, ``_baseline_prediction``), which scikit-learn
        does not document: tests/test_boosted_trees.py checks the copy predicts as it does.
        """
        parts: dict[str, list[Any]] = {name: [] for name in _FIELDS}
        roots, classes, depth = [], [], 0
        for iteration in model._predictors:
            for k, predictor in enumerate(iteration):
                nodes, offset = predictor.nodes, len(parts["feature"])
                if nodes["is_categorical"].any():
                    raise ValueError("categorical splits are not supported")
                roots.append(offset)
                classes.append(k)
                depth = max(depth, int(nodes["depth"].max()))
                parts["feature"] += nodes["feature_idx"].tolist()
                parts["threshold"] += nodes["num_threshold"].tolist()
                parts["left"] += (nodes["left"].astype(np.int64) + offset).tolist()
                parts["right"] += (nodes["right"].astype(np.int64) + offset).tolist()
                parts["value"] += nodes["value"].tolist()
                parts["leaf"] += nodes["is_leaf"].astype(bool).tolist()
                parts["missing_left"] += nodes["missing_go_to_left"].astype(bool).tolist()
        baseline = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
        return cls.from_json({"baseline": baseline.tolist(), "roots": roots, "classes": classes,
                              "depth": depth, "nodes": parts}, features=model.n_features_in_)

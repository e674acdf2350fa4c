"""The judge's trees, copied out of scikit-learn and applied with numpy alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from grader.boosted_trees import BoostedTrees


def fitted(seed: int = 0) -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] * x[:, 2] > 0.3)
    model = HistGradientBoostingClassifier(max_iter=30, max_depth=3, min_samples_leaf=10,
                                           early_stopping=False, random_state=0)
    return model.fit(x, np.minimum(y, 1)), rng.normal(size=(200, 5))


def test_the_copy_predicts_what_scikit_learn_predicts() -> None:
    model, x = fitted()
    trees = BoostedTrees.from_sklearn(model)
    assert np.allclose(trees.probability(x), model.predict_proba(x)[:, 1], atol=1e-9)


def test_a_missing_value_goes_where_scikit_learn_sends_it() -> None:
    model, x = fitted(1)
    x[::3, 0] = np.nan
    x[1::3, 2] = np.nan
    assert np.allclose(BoostedTrees.from_sklearn(model).probability(x),
                       model.predict_proba(x)[:, 1], atol=1e-9)


def test_the_model_survives_json() -> None:
    model, x = fitted()
    trees = BoostedTrees.from_sklearn(model)
    again = BoostedTrees.from_json(json.loads(json.dumps(trees.to_json())), features=5)
    assert np.array_equal(again.probability(x), trees.probability(x))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("left", 10**6, "outside the tree"),
    ("feature", 9, "outside the 5"),
])
def test_a_corrupt_model_is_refused(field: str, value: int, message: str) -> None:
    data = BoostedTrees.from_sklearn(fitted()[0]).to_json()
    split = data["nodes"]["leaf"].index(False)
    data["nodes"][field][split] = value
    with pytest.raises(ValueError, match=message):
        BoostedTrees.from_json(data, features=5)

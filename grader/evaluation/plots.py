"""PNG plots for the report (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.evaluation.calibration import fit_calibration
from grader.evaluation.runner import METHOD_LABELS, DatasetEvaluation

_BASELINES = ("grader", "tfidf", "embedding")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter(evaluation: DatasetEvaluation, path: Path) -> None:
    """Predicted vs human for the grader and both baselines, jittered so ties show."""
    plt = _pyplot()
    methods = [m for m in _BASELINES if m in evaluation.predictions]
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 4.2), sharey=True)
    rng = np.random.default_rng(0)
    top = evaluation.scale_max
    for ax, method in zip(np.atleast_1d(axes), methods, strict=True):
        jitter = rng.uniform(-0.08, 0.08, len(evaluation.human)) * top / 5
        ax.scatter(evaluation.human + jitter, evaluation.predictions[method], s=6, alpha=0.35)
        ax.plot([0, top], [0, top], color="grey", linewidth=1, linestyle="--")
        r = evaluation.metrics[method]["pearson"].value
        ax.set_title(f"{METHOD_LABELS[method]}\nPearson {r:.3f}", fontsize=9)
        ax.set_xlabel("human score")
        ax.set_xlim(-0.3, top + 0.3)
        ax.set_ylim(-0.3, top + 0.3)
    np.atleast_1d(axes)[0].set_ylabel("predicted score")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def calibration_curve(evaluation: DatasetEvaluation, path: Path) -> None:
    """Mean human score per band of the raw grader score, and the monotone map fitted on it."""
    plt = _pyplot()
    raw = evaluation.signals["grader"]["score"] * 100
    human = evaluation.human
    edges = np.unique(np.percentile(raw, np.linspace(0, 100, 11)))
    centres, means = [], []
    for low, high in zip(edges, edges[1:], strict=False):
        mask = (raw >= low) & (raw <= high)
        if mask.any():
            centres.append(raw[mask].mean())
            means.append(human[mask].mean())
    share = human / evaluation.scale_max
    fitted = fit_calibration({"score": raw / 100}, share, ["score"])
    grid = np.linspace(0, 100, 201)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    ax.scatter(raw, human, s=5, alpha=0.2, label="answers")
    ax.plot(centres, means, marker="o", color="black", label="mean human score per decile")
    ax.plot(grid, fitted.share({"score": grid / 100}) * evaluation.scale_max, color="tab:red",
            label="monotone map fitted on all rows")
    ax.plot(grid, grid / 100 * evaluation.scale_max, color="grey", linestyle="--",
            label="uncalibrated (score/100 x scale)")
    ax.set_xlabel("raw grader score (0-100)")
    ax.set_ylabel(f"human score (0-{evaluation.scale_max:g})")
    ax.set_title(f"{evaluation.name}: calibration", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def per_question_bars(evaluation: DatasetEvaluation, path: Path) -> None:
    """Per question: mean human and mean predicted score, and the grader's MAE."""
    plt = _pyplot()
    rows = evaluation.per_question("grader")
    labels = [str(r["question_id"]) for r in rows]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.22 * len(rows)))
    ax.barh(y - 0.2, [float(r["human_mean"]) for r in rows], height=0.4, label="mean human")  # type: ignore[arg-type]
    ax.barh(y + 0.2, [float(r["predicted_mean"]) for r in rows], height=0.4,  # type: ignore[arg-type]
            label="mean grader (calibrated)")
    ax.errorbar([float(r["predicted_mean"]) for r in rows], y + 0.2,  # type: ignore[arg-type]
                xerr=[float(r["mae"]) for r in rows], fmt="none", ecolor="black",  # type: ignore[arg-type]
                elinewidth=0.6, capsize=1.5, label="grader MAE")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"score (0-{evaluation.scale_max:g})")
    ax.set_title(f"{evaluation.name}: per question", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def length_plot(evaluation: DatasetEvaluation, path: Path) -> None:
    """Mean human and predicted score per answer-length band (bias probe 2)."""
    plt = _pyplot()
    length: Any = evaluation.probes.get("length", {})
    bins = length.get("bins", [])
    if not bins:
        return
    x = np.arange(len(bins))
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.bar(x - 0.2, [b["human_mean"] for b in bins], width=0.4, label="mean human")
    ax.bar(x + 0.2, [b["predicted_mean"] for b in bins], width=0.4, label="mean grader")
    ax.set_xticks(x, [f"{b['words']}\n(n={b['n']})" for b in bins], fontsize=7)
    ax.set_xlabel("answer length (words)")
    ax.set_ylabel(f"score (0-{evaluation.scale_max:g})")
    ax.set_title(f"{evaluation.name}: score vs answer length", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""Do grades move when the embedding backend changes? The validity table of the ONNX backend.

Not a test: it prints figures. Each dataset is graded once per backend (offline critic, the
default settings otherwise) and measured as ``grader eval`` measures it: score Pearson against
the human scores (grouped cross-validation by question, and as users get it), per-point kappa,
and, between the two backends, how many verdicts and point statuses agree.

    .venv/bin/python bench/backend_validity.py eval/labeled/bank-dev.jsonl \
        eval/labeled/interview-dev.jsonl ../shared/datasets/mohler-dev/mohler-dev.jsonl

The onnx side runs at ``GRADER_EMBEDDING_ONNX_PRECISION`` (fp32 unless set; int8 for the
quantized model).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from grader import Grader, Settings  # noqa: E402
from grader.evaluation.dataset import dataset_name, load_dataset  # noqa: E402
from grader.evaluation.runner import DatasetEvaluation, EvalOptions, evaluate_dataset  # noqa: E402

BACKENDS = ("torch", "onnx")


def measure(backend: str, cache: Path, paths: list[Path]) -> list[DatasetEvaluation]:
    subprocess.run([sys.executable, "-m", "grader", "models", "prepare", "--backend", backend],
                   env={**os.environ, "GRADER_CACHE_DIR": str(cache)}, check=True,
                   stdout=subprocess.DEVNULL)
    grader = Grader.from_settings(Settings(cache_dir=cache, embedding_backend=backend))
    print(f"{backend}: {grader.embedder.model_name}", file=sys.stderr)
    options = EvalOptions(progress=None, bootstrap_samples=200)
    return [evaluate_dataset(dataset_name(path), load_dataset(path, grader.bank), grader, options)
            for path in paths]


def statuses(evaluation: DatasetEvaluation) -> list[str]:
    return [f"{i}:{point.id}:{point.status}" for i, result in enumerate(evaluation.results)
            for point in result.criteria]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {backend: measure(backend, Path(tmp), args.datasets) for backend in BACKENDS}
    print("| dataset | n | Pearson, torch → onnx (grouped CV) | as users get it | "
          "point kappa | verdicts agree | point statuses agree |")
    print("|---|---|---|---|---|---|---|")
    for torch_run, onnx_run in zip(runs["torch"], runs["onnx"], strict=True):
        def pearson(run: DatasetEvaluation, method: str) -> float:
            return run.metrics[method]["pearson"].value

        def kappa(run: DatasetEvaluation) -> str:
            metrics = run.criterion_metrics.get("grader")
            return f"{metrics['kappa'].value:.3f}" if metrics else "n/a"

        verdicts = np.mean([a.verdict == b.verdict
                            for a, b in zip(torch_run.results, onnx_run.results, strict=True)])
        points_a, points_b = statuses(torch_run), statuses(onnx_run)
        points = np.mean([a == b for a, b in zip(points_a, points_b, strict=True)])
        print(f"| {torch_run.name} | {len(torch_run.rows)} "
              f"| {pearson(torch_run, 'grader'):.3f} → {pearson(onnx_run, 'grader'):.3f} "
              f"| {pearson(torch_run, 'grader_uncalibrated'):.3f} → "
              f"{pearson(onnx_run, 'grader_uncalibrated'):.3f} "
              f"| {kappa(torch_run)} → {kappa(onnx_run)} | {verdicts:.1%} | {points:.1%} |")


if __name__ == "__main__":
    main()

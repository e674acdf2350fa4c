"""Where the single-answer tail comes from: one answer at a time, time against its length.

Not a test: it prints figures. It grades the API bench's answer mix (bench/api_throughput.py,
each answer made unique) through ``Grader.grade_many([one answer])`` in this process, as the
server does at concurrency 1 but without HTTP or a client process, and prints the latency
percentiles overall and per band of answer length.

    .venv/bin/python bench/answer_latency.py [--rounds 2]
    GRADER_EMBEDDING_BACKEND=onnx .venv/bin/python bench/answer_latency.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from api_throughput import build_answers, variant  # noqa: E402

from grader import GradeItem, Grader, Settings  # noqa: E402
from grader.text import words  # noqa: E402

BANDS = ((0, 30), (30, 80), (80, 160), (160, 250), (250, 10_000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="passes over the answer mix")
    args = parser.parse_args()
    settings = Settings()
    grader = Grader.from_settings(settings)
    grader.warm_up()
    pairs = build_answers()
    lengths, latencies = [], []
    for round_ in range(args.rounds):
        for k, (question, answer) in enumerate(pairs):
            item = GradeItem(question, variant(answer, 1_000_000 * (round_ + 1) + k))
            started = time.perf_counter()
            grader.grade_many([item])
            latencies.append((time.perf_counter() - started) * 1000)
            lengths.append(len(words(answer)))
    n, ms = np.array(lengths), np.array(latencies)
    print(f"backend {settings.embedding_backend}: {len(ms)} answers one at a time; p50 "
          f"{np.percentile(ms, 50):.0f} ms, p90 {np.percentile(ms, 90):.0f}, p99 "
          f"{np.percentile(ms, 99):.0f}; load average {os.getloadavg()[0]:.1f}")
    for low, high in BANDS:
        band = (n >= low) & (n < high)
        if band.any():
            print(f"  {low:4d}-{high:<5d} words: {band.sum():4d} answers ({band.mean():4.0%}), "
                  f"median {np.median(ms[band]):4.0f} ms, max {ms[band].max():4.0f} ms")
    slowest = ms >= np.percentile(ms, 99)
    print(f"  the slowest 1%: {slowest.sum()} answers of {n[slowest].min()}-{n[slowest].max()} "
          f"words (the mix's median: {int(np.median(n))} words)")


if __name__ == "__main__":
    main()

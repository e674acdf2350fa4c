"""Process memory (RSS) of batch grading: after start-up, and after N/2 and N answers.

Not a test: it prints figures. ``grader models prepare`` first builds the backend's files in
a process of its own, as an image build would; then the default wiring
(``Grader.from_settings``) grades N distinct answers built from the bank (as
bench/batch_throughput.py builds them) in chunks of the batch runner's size. Memory that grows
between N/2 and N answers would grow without bound in a long-running server.

    .venv/bin/python bench/memory.py --answers 20000 --backend onnx
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from batch_throughput import make_answers  # noqa: E402 - bench/ is the script's folder

from grader import GradeItem, Grader, Settings  # noqa: E402
from grader.batch import DEFAULT_CHUNK_SIZE  # noqa: E402
from grader.word_vectors import HasWordTable  # noqa: E402


def rss_mb() -> float:
    """Resident set size now, in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--backend", choices=["torch", "onnx"], default="onnx")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "grader", "models", "prepare", "--backend",
                        args.backend], env={**os.environ, "GRADER_CACHE_DIR": tmp},
                       check=True, stdout=subprocess.DEVNULL)
        settings = Settings(cache_dir=Path(tmp), embedding_backend=args.backend)
        grader = Grader.from_settings(settings)
        if isinstance(grader.embedder, HasWordTable):
            grader.embedder.word_table.prepare()  # loads the file built above
        grader.warm_up()
        rows = make_answers(grader.bank, args.answers, seed=300)
        print(f"memory, {args.backend} backend ({grader.embedder.model_name}), {len(rows)} "
              f"distinct answers in chunks of {args.chunk_size}")
        print(f"RSS after start-up (model, word table, bank embedded): {rss_mb():7.1f} MB"
              f"   (torch imported: {'torch' in sys.modules})")
        marks = [len(rows) // 2, len(rows)]
        started, done = time.perf_counter(), 0
        while done < len(rows):
            end = min(done + args.chunk_size, next(mark for mark in marks if mark > done))
            results = grader.grade_many([GradeItem(row["question_id"], row["answer"], "offline")
                                         for row in rows[done:end]])
            del results
            done = end
            if done in marks:
                rate = done / (time.perf_counter() - started)
                print(f"RSS after grading {done:6,} answers:            {rss_mb():7.1f} MB"
                      f"   (peak {peak_mb():.1f} MB, {rate:.0f} answers/s)")


if __name__ == "__main__":
    main()

"""The Ray engine's batch throughput next to the local engine's, same answers, same run.

Not a test: it prints figures. It generates distinct answers from the question bank (as
bench/batch_throughput.py does, so no cache helps), writes them to one JSONL file, and grades
that file with ``--engine local`` (``run_batch``, the model loaded first, as the CLI does) and
with ``--engine ray`` at 1 and 2 actors (and the local engine again at 1 torch thread, what
each actor runs) (``run_ray_batch``, part files out) on a local Ray
cluster started once before the clock runs, as a cluster one joins with ``--ray-address``
would be. Every wall time includes loading the model: in each Ray actor, and for the local
engine in the process. Ray's figures also include its two passes over the input and the
scheduling. Each actor runs 1 torch thread. On 2 cores one actor reserves 1 CPU, and two actors
reserve half a CPU each: an actor pool that reserved both CPUs would leave none for the read
tasks, and the job would wait for ever.

    .venv/bin/python bench/ray_throughput.py --answers 3000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_throughput import make_answers  # noqa: E402

from grader import Grader, QuestionBank, Settings  # noqa: E402
from grader.batch import BatchOptions, BatchSummary, plan_batch, run_batch  # noqa: E402
from grader.batch.ray_engine import RayOptions, run_ray_batch  # noqa: E402


def local_run(settings: Settings, source: Path, folder: Path, threads: int | None = None
              ) -> tuple[float, BatchSummary]:
    import torch

    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads or default_threads)
    try:
        started = time.perf_counter()
        grader = Grader.from_settings(settings)
        summary = run_batch(grader, plan_batch(
            source, folder / f"local-{time.monotonic_ns()}.jsonl", BatchOptions(critic="offline")))
        return time.perf_counter() - started, summary
    finally:
        torch.set_num_threads(default_threads)


def ray_run(settings: Settings, source: Path, folder: Path, actors: int, num_cpus: float,
            batch_size: int) -> tuple[float, BatchSummary]:
    started = time.perf_counter()
    summary = run_ray_batch([str(source)], str(folder / f"ray-{time.monotonic_ns()}"),
                            BatchOptions(critic="offline"),
                            RayOptions(concurrency=actors, num_cpus=num_cpus,
                                       batch_size=batch_size, progress=False), settings)
    return time.perf_counter() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=256, help="rows per map_batches call")
    args = parser.parse_args()

    import logging

    import ray
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(cache_dir=folder / "cache")
        if Settings().cache_dir.is_dir():  # a warm cache, as an image would have baked in
            shutil.copytree(Settings().cache_dir, settings.cache_dir)
        bank = QuestionBank.from_dir(settings.rubrics_dir)
        rows = make_answers(bank, args.answers, seed=100)
        source = folder / "answers.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        # The rubrics' vectors go into the shared on-disk cache once, before any clock runs.
        Grader.from_settings(settings).warm_up()
        ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        print(f"{len(rows)} distinct answers, {os.cpu_count()} CPUs, local torch threads "
              f"{torch.get_num_threads()}, Ray {ray.__version__}, batch size {args.batch_size},"
              f" load average at start {os.getloadavg()[0]:.1f}")
        runs = [("local engine (run_batch)", lambda: local_run(settings, source, folder)),
                ("local engine, 1 torch thread", lambda: local_run(settings, source, folder,
                                                                  threads=1)),
                ("ray, 1 actor x 1 CPU", lambda: ray_run(settings, source, folder, 1, 1.0,
                                                          args.batch_size)),
                ("ray, 2 actors x 0.5 CPU", lambda: ray_run(settings, source, folder, 2, 0.5,
                                                             args.batch_size))]
        rates: dict[str, float] = {}
        for name, run in runs:
            seconds, summary = run()
            if summary.graded != len(rows):
                sys.exit(f"{name}: expected every row graded, got {summary.errors} errors")
            rates[name] = len(rows) / seconds
            print(f"{name:<28} {seconds:7.1f} s  {rates[name]:6.1f} answers/s", flush=True)
        ray.shutdown()
        local, local_one, one, two = rates.values()
        print(f"ray 2 actors / local: {two / local:.2f} (target >= 0.80: "
              f"{'met' if two / local >= 0.8 else 'NOT met'}); ray 1 actor / local 1 thread: "
              f"{one / local_one:.2f}; 2 actors / 1 actor: {two / one:.2f}; load average at end "
              f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

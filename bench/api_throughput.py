"""Throughput of the HTTP API under load, next to the offline batch throughput of the same answers.

Starts ``grader serve`` in a subprocess, drives it over loopback from a separate process at
concurrency 1, 8 and 32 for a fixed time each (longer only if a client has not yet finished
``--min-rounds`` requests: on a slow machine one batch of 32 can outlast the window), and prints
requests/s and p50/p99 latency. The
offline figure is ``Grader.grade_many`` over the same answers in this process, measured before and
after the HTTP runs (the mean is the reference), in two batch sizes: the largest batch the
server can form at the top concurrency (like for like) and the batcher's maximum (the strictest).

    .venv/bin/python bench/api_throughput.py [--seconds 15] [--concurrency 1 8 32] [--min-rounds 3]

Not a test: it prints figures and asserts nothing. Target: at concurrency 32 the API reaches at
least 70% of the offline batch throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
OFF_TOPIC = "My favourite recipe is pasta with tomatoes, garlic and fresh basil from the garden."


def build_answers() -> list[tuple[str, str]]:
    """Answers of mixed quality and length: (question id, answer) pairs, used as templates."""
    from grader import QuestionBank, Settings
    from grader.text import split_sentences

    pairs: list[tuple[str, str]] = []
    for rubric in QuestionBank.from_dir(Settings().rubrics_dir):
        for reference in rubric.reference_answers:
            pairs.append((rubric.id, reference))
            pairs.append((rubric.id, split_sentences(reference)[0]))
        pairs.append((rubric.id, " ".join(c.description for c in rubric.criteria[:2])))
        pairs.append((rubric.id, OFF_TOPIC))
    return pairs


def variant(answer: str, n: int) -> str:
    """A never-seen-before copy of ``answer``: every sentence gets a marker, so neither the
    server nor the offline grader can answer from the embedding cache (it keeps every text).

    The marker spells ``n`` in groups of three digits ("take 10 0 7"): numbers below 1,000 are
    one piece of the model's vocabulary, so the marker's words come from the word table. A
    marker of one long number (until 2026-12-02) was a word of several pieces, never seen
    before, in every sentence: one more text per sentence for the model, which real answers
    do not bring."""
    from grader.text import split_sentences

    groups, rest = [], abs(n)
    while True:
        rest, group = divmod(rest, 1000)
        groups.append(str(group))
        if not rest:
            break
    marker = ("minus " if n < 0 else "") + " ".join(reversed(groups))
    return " ".join(f"{sentence.rstrip('.')} (take {marker})."
                    for sentence in split_sentences(answer))


def offline_throughput(answers: list[tuple[str, str]], seconds: float, batch_size: int,
                       cache_dir: str) -> float:
    """Answers per second through ``Grader.grade_many`` in this process."""
    from grader import GradeItem, Grader, Settings

    grader = _offline_grader.get(cache_dir)
    if grader is None:
        grader = Grader.from_settings(Settings(cache_dir=Path(cache_dir)))
        grader.warm_up()
        _offline_grader[cache_dir] = grader
    serial = _offline_serial.setdefault(cache_dir, [0])

    def next_chunk() -> list[GradeItem]:
        chunk = []
        for _ in range(batch_size):
            question, answer = answers[serial[0] % len(answers)]
            chunk.append(GradeItem(question, variant(answer, -1 - serial[0])))
            serial[0] += 1
        return chunk

    grader.grade_many(next_chunk())  # untimed: the first call pays for torch's warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        done += len(grader.grade_many(next_chunk()))
    return done / (time.perf_counter() - started)


_offline_grader: dict[str, Any] = {}
_offline_serial: dict[str, list[int]] = {}


def drive(url: str, answers: list[tuple[str, str]], concurrency: int, seconds: float,
          min_rounds: int, serial: int,
          results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Runs in its own process: ``concurrency`` clients posting answers for ``seconds``."""

    async def main() -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
            end = time.perf_counter() + seconds

            async def worker(offset: int) -> None:
                nonlocal errors
                index, rounds = offset, 0
                while time.perf_counter() < end or rounds < min_rounds:
                    rounds += 1
                    question, answer = answers[index % len(answers)]
                    index += concurrency
                    sent = time.perf_counter()
                    response = await client.post("/v1/grade", json={
                        "question_id": question, "answer": variant(answer, index + serial)})
                    if response.status_code == 200:
                        latencies.append(time.perf_counter() - sent)
                    else:
                        errors += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker(n) for n in range(concurrency)))
            elapsed = time.perf_counter() - started
        latencies.append(elapsed)  # the last entry carries the wall time
        return latencies, errors

    latencies, errors = asyncio.run(main())
    results.put((latencies, errors))


def run_load(url: str, answers: list[tuple[str, str]], concurrency: int, seconds: float,
             min_rounds: int = 1) -> tuple[float, float, float, int]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    # each run numbers its answers apart from the others, so no answer is ever sent twice
    serial = concurrency * 10_000_000
    process = context.Process(target=drive,
                              args=(url, answers, concurrency, seconds, min_rounds, serial,
                                    results))
    process.start()
    latencies, errors = results.get()
    process.join()
    elapsed = latencies.pop()
    latencies.sort()

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return len(latencies) / elapsed, percentile(0.50), percentile(0.99), errors


def start_server(cache_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "GRADER_CACHE_DIR": cache_dir, "GRADER_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("grader")), "serve", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"grader serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("grader serve did not become ready in 600 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--min-rounds", type=int, default=3,
                        help="requests each client completes at least, however long it takes")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")  # no model-loading progress bars in the output

    from api.settings import ApiSettings

    api_settings = ApiSettings()
    batch = api_settings.batcher_max_batch_size
    answers = build_answers()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as cache_dir:
        server, url = start_server(cache_dir)
        try:
            print(f"grader API throughput: {len(answers)} distinct answers to "
                  f"{len({q for q, _ in answers})} questions, {args.seconds:.0f} s per run, "
                  f"batcher max {batch} items / {api_settings.batcher_max_wait_ms:g} ms, "
                  f"{os.cpu_count()} CPUs, load average at start "
                  f"{os.getloadavg()[0]:.1f}")
            sizes = sorted({min(max(args.concurrency), batch), batch})
            before = {size: offline_throughput(answers, args.seconds, size, cache_dir)
                      for size in sizes}
            run_load(url, answers, 4, 2)  # untimed warm-up of the server
            rows = [(c, *run_load(url, answers, c, args.seconds, args.min_rounds))
                    for c in args.concurrency]
            after = {size: offline_throughput(answers, args.seconds, size, cache_dir)
                     for size in sizes}
            batches = _mean_batch(url)
        finally:
            server.terminate()
            server.wait(timeout=30)
    offline = {size: (before[size] + after[size]) / 2 for size in sizes}
    for size in sizes:
        print(f"offline Grader.grade_many, batches of {size}: {before[size]:.1f} answers/s "
              f"before, {after[size]:.1f} after, mean {offline[size]:.1f}")
    print(f"server: {batches}")
    print(f"{'concurrency':>11} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          + " ".join(f"{'vs offline@' + str(size):>15}" for size in sizes))
    for concurrency, rate, p50, p99, errors in rows:
        print(f"{concurrency:>11} {rate:>11.1f} {p50:>8.0f} {p99:>8.0f} {errors:>7} "
              + " ".join(f"{rate / offline[size]:>15.0%}" for size in sizes))
    top = max(rows, key=lambda row: row[0])
    ratios = ", ".join(f"{top[1] / offline[size]:.0%} of offline@{size}" for size in sizes)
    verdict = "met" if all(top[1] / offline[size] >= 0.70 for size in sizes) else "NOT met"
    print(f"target (concurrency {top[0]} >= 70% of offline): {verdict} ({ratios}); "
          f"load average at end {os.getloadavg()[0]:.1f}")


def _mean_batch(url: str) -> str:
    """How the server's batcher grouped the answers over the whole run, from /metrics."""
    values = {}
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line.startswith(("grader_batch_size_items_sum", "grader_batch_size_items_count")):
            name, value = line.split()
            values[name] = float(value)
    count = values.get("grader_batch_size_items_count", 0)
    mean = values.get("grader_batch_size_items_sum", 0) / count if count else 0
    return f"{count:.0f} embedding calls, {mean:.1f} answers per call on average"


if __name__ == "__main__":
    main()

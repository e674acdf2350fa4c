"""Batch grading throughput next to raw ``SentenceTransformer.encode`` throughput, same run.

Not a test: it prints figures. It generates a few thousand distinct answers from the question
bank (sentences of reference answers, criteria and misconceptions, recombined, with words dropped
so that no two answers or sentences repeat and no cache can help), grades them with the batch
runner (JSONL in, JSONL out, fsync per chunk) and encodes the same answer texts with the same
model and batch size. The measures are interleaved in rounds and summed, so drift in machine load
during the run counts against every side alike. A third figure encodes exactly the texts the
grader had the model embed (recorded between the embedding cache and the model: each answer, its
sentences and whatever else scoring asks for), the ceiling for this grader.

    .venv/bin/python bench/batch_throughput.py --answers 3000
    .venv/bin/python bench/batch_throughput.py --answers 1000 --rounds 4 --chunk-size 64
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from grader import GradeItem, Grader, QuestionBank, Settings  # noqa: E402
from grader.batch import DEFAULT_CHUNK_SIZE, BatchOptions, plan_batch, run_batch  # noqa: E402
from grader.embedding import (  # noqa: E402
    CachedEmbedder,
    EmbeddingCache,
    SentenceTransformerEmbedder,
    resolve_model_path,
)
from grader.text import split_sentences  # noqa: E402
from grader.vectors import TokenVectors  # noqa: E402


def make_answers(bank: QuestionBank, count: int, seed: int = 7) -> list[dict[str, str]]:
    """Distinct answers of 1-5 sentences each, drawn from each rubric's own texts."""
    rng = random.Random(seed)
    pools = []
    for rubric in bank:
        pool = [s for answer in rubric.reference_answers for s in split_sentences(answer)]
        pool += [text for criterion in rubric.criteria for text in criterion.texts]
        pool += [m.claim for m in rubric.misconceptions]
        pools.append((rubric.id, pool))
    rows, seen = [], set()
    while len(rows) < count:
        question_id, pool = pools[len(rows) % len(pools)]
        picked = rng.sample(pool, k=min(len(pool), rng.randint(1, 5)))
        sentences = []
        for sentence in picked:
            kept = [w for w in sentence.split() if rng.random() > 0.12] or sentence.split()[:1]
            text = " ".join(kept).rstrip(".") + "."
            sentences.append(text[0].upper() + text[1:])
        answer = " ".join(sentences)
        if answer not in seen:
            seen.add(answer)
            rows.append({"id": f"a{len(rows) + 1}", "question_id": question_id,
                         "answer": answer})
    return rows


class RecordingEmbedder:
    """Passes texts to the model and keeps them: exactly what the grader had computed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        self.texts.extend(texts)
        return self.inner.embed_tokens(texts)


def raw_encode_seconds(model: object, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True,  # type: ignore[attr-defined]
                 convert_to_numpy=True, show_progress_bar=False)
    return time.perf_counter() - started


def batch_seconds(grader: Grader, rows: list[dict[str, str]], folder: Path,
                  chunk_size: int) -> float:
    name = f"{time.monotonic_ns()}"
    source, target = folder / f"in-{name}.jsonl", folder / f"out-{name}.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    plan = plan_batch(source, target, BatchOptions(chunk_size=chunk_size, critic="offline"))
    summary = run_batch(grader, plan)
    if summary.graded != len(rows):
        sys.exit(f"expected every row graded, got {summary.errors} errors")
    return summary.elapsed_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=4,
                        help="interleaved rounds, so load drift hits every measure alike")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(cache_dir=folder / "cache", embedding_device=args.device)
        # The default wiring (Grader.from_settings), with a recorder between cache and model.
        recorder = RecordingEmbedder(SentenceTransformerEmbedder(
            settings.embedding_model, device=args.device,
            batch_size=settings.embedding_batch_size))
        embedder = CachedEmbedder(recorder, EmbeddingCache(folder / "cache" / "e.sqlite3"))
        grader = Grader(QuestionBank.from_dir(settings.rubrics_dir), embedder,
                        settings=settings)
        grader.warm_up()  # rubric embeddings come from the cache, as in a real batch
        model = SentenceTransformer(resolve_model_path(settings.embedding_model),
                                    device=args.device)
        batch_size = settings.embedding_batch_size
        warm = make_answers(grader.bank, 64, seed=1)
        raw_encode_seconds(model, [row["answer"] for row in warm], batch_size)
        grader.grade_many([GradeItem(row["question_id"], row["answer"]) for row in warm])

        rows = make_answers(grader.bank, args.answers, seed=100)
        answers = [row["answer"] for row in rows]
        sentences = [s for answer in answers for s in split_sentences(answer)]
        print(f"device {args.device}, torch threads {torch.get_num_threads()}, encode batch size "
              f"{batch_size}, chunk size {args.chunk_size}, {len(rows)} distinct answers, "
              f"{len(sentences) / len(rows):.2f} sentences each, {args.rounds} rounds")
        totals = {"raw": 0.0, "batch": 0.0, "texts": 0.0}
        embedded_count = 0
        size = -(-len(rows) // args.rounds)
        for round_number in range(args.rounds):
            part = rows[round_number * size : (round_number + 1) * size]
            texts = [row["answer"] for row in part]
            if round_number % 2 == 0:
                totals["raw"] += raw_encode_seconds(model, texts, batch_size)
            recorder.texts.clear()
            totals["batch"] += batch_seconds(grader, part, folder, args.chunk_size)
            # Exactly the texts the grader had the model embed for this round (cache misses).
            embedded = list(recorder.texts)
            embedded_count += len(embedded)
            totals["texts"] += raw_encode_seconds(model, embedded, batch_size)
            if round_number % 2 == 1:
                totals["raw"] += raw_encode_seconds(model, texts, batch_size)
        raw = len(rows) / totals["raw"]
        batch = len(rows) / totals["batch"]
        ceiling = len(rows) / totals["texts"]
        print(f"raw SentenceTransformer.encode of the answers: {raw:8.1f} answers/s")
        print(f"batch grading (grader batch runner, JSONL):   {batch:8.1f} answers/s   "
              f"ratio {batch / raw:.2f}")
        print(f"raw encode of the texts grade_many had embedded ({embedded_count / len(rows):.2f} "
              f"per answer): {ceiling:.1f} answers/s = {ceiling / raw:.2f} of raw; "
              f"batch grading reaches {batch / ceiling:.2f} of it")


if __name__ == "__main__":
    main()

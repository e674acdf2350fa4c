"""Batch grading throughput next to raw ``SentenceTransformer.encode`` throughput, same run.

Not a test: it prints figures. It generates a few thousand distinct answers from the question
bank (sentences of reference answers, criteria and misconceptions, recombined, with words dropped
so that no two answers or sentences repeat and no cache can help), grades them with the batch
runner (JSONL in, JSONL out, fsync per chunk) once per configuration, and encodes the same answer
texts with the raw torch model (``SentenceTransformer.encode``, same batch size). The
configurations are the embedding backends (``GRADER_EMBEDDING_BACKEND``), each with its word
table prepared as ``grader models prepare`` does, and torch with words embedded alone (the way
before the word table, ``GRADER_EMBEDDING_WORD_TABLE=false``). The measures are interleaved in
rounds and summed, so drift in machine load during the run counts against every side alike. For
each configuration, a last figure encodes exactly the texts the grader had its model embed
(recorded between the embedding cache and the model), with that backend: the ceiling for it.

With ``--rss N`` it then runs bench/memory.py for the onnx backend: process memory after
start-up and after grading N/2 and N answers.

    .venv/bin/python bench/batch_throughput.py --answers 3000 --rss 20000
    .venv/bin/python bench/batch_throughput.py --answers 1000 --configs onnx --chunk-size 64
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
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
from grader.embedders import make_embedder  # noqa: E402
from grader.embedding import Embedder, EmbeddingCache, resolve_model_path  # noqa: E402
from grader.text import split_sentences  # noqa: E402
from grader.vectors import TokenVectors  # noqa: E402
from grader.word_vectors import HasWordTable, WordPieceTable  # noqa: E402

#: name: (backend, word table); "torch-words-alone" is the way before issue 18.
#: name: (backend, word table, ONNX precision); "onnx" is the default backend on a CPU.
CONFIGS = {"torch-words-alone": ("torch", False, "fp32"), "torch": ("torch", True, "fp32"),
           "onnx": ("onnx", True, "fp32"), "onnx-int8": ("onnx", True, "int8")}


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

    def __init__(self, inner: Embedder) -> None:
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


class RecordingTableEmbedder(RecordingEmbedder):
    """A ``RecordingEmbedder`` that keeps the inner embedder's word table in use."""

    def __init__(self, inner: Embedder, table: WordPieceTable) -> None:
        super().__init__(inner)
        self._table = table

    @property
    def word_table(self) -> WordPieceTable:
        return self._table


def raw_encode_seconds(model: object, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True,  # type: ignore[attr-defined]
                 convert_to_numpy=True, show_progress_bar=False)
    return time.perf_counter() - started


def embed_seconds(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - started


def build_grader(name: str, bank: QuestionBank, folder: Path, device: str
                 ) -> tuple[Grader, RecordingEmbedder]:
    """The default wiring (``Grader.from_settings``) of one configuration, with a recorder
    between the embedding cache and the model, its word table prepared and rubrics embedded."""
    backend, table, precision = CONFIGS[name]
    settings = Settings(cache_dir=folder / f"cache-{name}", embedding_device=device,
                        embedding_backend=backend, embedding_word_table=table,  # type: ignore[arg-type]
                        embedding_onnx_precision=precision)  # type: ignore[arg-type]
    inner = make_embedder(settings)
    if isinstance(inner, HasWordTable):
        inner.word_table.prepare()
        recorder: RecordingEmbedder = RecordingTableEmbedder(inner, inner.word_table)
    else:
        recorder = RecordingEmbedder(inner)
    grader = Grader(bank, recorder, settings=settings,
                    embedding_cache=EmbeddingCache(folder / f"cache-{name}" / "e.sqlite3"))
    grader.warm_up()  # rubric embeddings come from the cache, as in a real batch
    return grader, recorder


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
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, of: {', '.join(CONFIGS)}")
    parser.add_argument("--rss", type=int, default=0, metavar="N",
                        help="then measure memory while grading N answers (bench/memory.py)")
    args = parser.parse_args()
    names = [name for name in args.configs.split(",") if name]
    unknown = [name for name in names if name not in CONFIGS]
    if unknown:
        sys.exit(f"unknown --configs {unknown}; choose from {', '.join(CONFIGS)}")

    import onnxruntime
    import torch
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bank = QuestionBank.from_dir(Settings().rubrics_dir)
        graders = {name: build_grader(name, bank, folder, args.device) for name in names}
        settings = Settings()
        model = SentenceTransformer(resolve_model_path(settings.embedding_model),
                                    device=args.device)
        batch_size = settings.embedding_batch_size
        warm = make_answers(bank, 64, seed=1)
        raw_encode_seconds(model, [row["answer"] for row in warm], batch_size)
        for grader, _ in graders.values():
            grader.grade_many([GradeItem(row["question_id"], row["answer"]) for row in warm])

        rows = make_answers(bank, args.answers, seed=100)
        answers = [row["answer"] for row in rows]
        sentences = [s for answer in answers for s in split_sentences(answer)]
        print(f"device {args.device}, {os.cpu_count()} CPUs, torch threads "
              f"{torch.get_num_threads()}, onnxruntime {onnxruntime.__version__}, encode batch "
              f"size {batch_size}, chunk size {args.chunk_size}, {len(rows)} distinct answers, "
              f"{len(sentences) / len(rows):.2f} sentences each, {args.rounds} rounds, load "
              f"average at start {os.getloadavg()[0]:.1f}, OPENBLAS_NUM_THREADS "
              f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
        raw = 0.0
        batch = dict.fromkeys(names, 0.0)
        ceiling = dict.fromkeys(names, 0.0)
        embedded = dict.fromkeys(names, 0)
        size = -(-len(rows) // args.rounds)
        for round_number in range(args.rounds):
            part = rows[round_number * size : (round_number + 1) * size]
            texts = [row["answer"] for row in part]
            order = names if round_number % 2 == 0 else names[::-1]
            if round_number % 2 == 0:
                raw += raw_encode_seconds(model, texts, batch_size)
            for name in order:
                grader, recorder = graders[name]
                recorder.texts.clear()
                batch[name] += batch_seconds(grader, part, folder, args.chunk_size)
                # Exactly the texts the grader had the model embed for this round.
                recorded = list(recorder.texts)
                embedded[name] += len(recorded)
                ceiling[name] += embed_seconds(recorder.inner, recorded)
            if round_number % 2 == 1:
                raw += raw_encode_seconds(model, texts, batch_size)
        raw_rate = len(rows) / raw
        print(f"raw SentenceTransformer.encode of the answers (torch): {raw_rate:8.1f} answers/s")
        for name in names:
            rate = len(rows) / batch[name]
            print(f"batch grading, {name + ':':18s} {rate:8.1f} answers/s   "
                  f"ratio {rate / raw_rate:.2f} of raw torch encode")
        for name in names:
            rate, top = len(rows) / batch[name], len(rows) / ceiling[name]
            print(f"  {name}: its backend's encode of the texts grade_many had embedded "
                  f"({embedded[name] / len(rows):.2f} per answer): {top:.1f} answers/s; batch "
                  f"grading reaches {rate / top:.2f} of it")
    if args.rss:
        memory = Path(__file__).with_name("memory.py")
        subprocess.run([sys.executable, str(memory), "--answers", str(args.rss)], check=True)


if __name__ == "__main__":
    main()

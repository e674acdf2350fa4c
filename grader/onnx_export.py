"""Exporting the embedding model to ONNX and quantizing it, once, into the cache folder.

The file is built at first use (or ahead of time by ``grader models prepare``) and reused by
every later process: ``<cache_dir>/onnx/<model>-<fingerprint>-ort<version>-<precision>.onnx``.
The fingerprint covers the model's files (name, size, modification time) and the recipe below,
so a new model, a new onnxruntime or a new recipe builds a new file instead of reusing a stale
one. The file appears whole or not at all: it is written under a temporary name and renamed.

The recipe (int8): weights of the matrix products quantized to int8 per output channel, and
activations quantized at run time, one scale per tensor (``quantize_dynamic``). A few products
stay in float32, those whose quantization moved the bank's vectors most, one at a time: the
second matrix of every layer's feed-forward block (its input, after GELU, has a few huge
channels, so one int8 scale rounds every other channel coarsely) and the first of layers 1, 3
and 4. On the 1,823 texts of the bank, the worst cosine to the torch vector is 0.980 with every
product quantized, 0.989 with the feed-forward outputs kept, and 0.9925 with this recipe, which
runs as fast as the second (README, "Embedding backends").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from grader.errors import EmbeddingError, MissingExtraError

Precision = Literal["fp32", "int8"]

#: Changes whenever the export or quantization steps change, so old files are not reused.
RECIPE_VERSION = "2"
#: Matrix products kept in float32 by the int8 recipe (see the module docstring).
FLOAT_MATMULS = re.compile(
    r"/layer\.\d+/output/dense/MatMul$|/layer\.[134]/intermediate/dense/MatMul$")
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_folder(model: str) -> Path:
    """The local folder of a sentence-transformers model, for backends that read its files."""
    from grader.embedding import resolve_model_path

    folder = Path(resolve_model_path(model))
    if not (folder / "tokenizer.json").is_file() or not (folder / "config.json").is_file():
        raise EmbeddingError(
            f"The onnx embedding backend needs the model as a local folder with config.json and "
            f"tokenizer.json; {model!r} is not one. Set GRADER_EMBEDDING_MODEL to such a folder, "
            "or use GRADER_EMBEDDING_BACKEND=torch.")
    return folder


def fingerprint(folder: Path) -> str:
    """A short hash of the model's files (name, size, modification time) and the recipe."""
    digest = hashlib.sha256(f"recipe {RECIPE_VERSION}\n{folder.resolve()}\n".encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)} {stat.st_size} {stat.st_mtime_ns}\n"
                          .encode())
    return digest.hexdigest()[:16]


def onnx_model_path(model: str, cache_dir: Path, precision: Precision) -> Path:
    """Where the ONNX file of ``model`` is cached (it may not exist yet)."""
    ort = import_extra("onnxruntime")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model).name or model)
    return (Path(cache_dir) / "onnx" /
            f"{name}-{fingerprint(model_folder(model))}-ort{ort.__version__}-{precision}.onnx")


def prepare_onnx_model(model: str, cache_dir: Path, precision: Precision = "fp32", *,
                       progress: Callable[[str], None] | None = None) -> Path:
    """The cached ONNX file of ``model``, exported (and quantized) first if it is missing.

    ``progress`` receives one line before the work starts and one after; by default they go
    to stderr. Safe to run in several processes at once: each builds under its own temporary
    name and the last rename wins, with the same content.
    """
    target = onnx_model_path(model, cache_dir, precision)
    if target.is_file():
        return target
    say = progress or _to_stderr
    say(f"grader: building the ONNX embedding model ({precision}) for {model}, once: {target}")
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        exported = Path(tmp) / "model-fp32.onnx"
        _export(model_folder(model), exported)
        built = exported
        if precision == "int8":
            built = Path(tmp) / "model-int8.onnx"
            _quantize(exported, built)
        os.replace(built, target)
    say(f"grader: ONNX embedding model ready in {time.perf_counter() - started:.0f} s")
    return target


def _export(folder: Path, target: Path) -> None:
    """Export the transformer (token vectors out; pooling stays in numpy) to ``target``."""
    import torch
    from transformers import AutoModel

    # eager attention: sdpa's trace branches on the mask's values and would fix one case
    class TokenVectors(torch.nn.Module):
        """The transformer with keyword inputs and its last hidden state as the one output."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.bert = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            output = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids)
            hidden: torch.Tensor = output.last_hidden_state
            return hidden

    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager",
                                      local_files_only=True)
    wrapped = TokenVectors(model).eval()
    # A batch with padding, so the traced graph keeps the attention mask in play.
    ids = torch.tensor([[101, 7592, 2088, 2003, 102], [101, 7592, 102, 0, 0]])
    mask = (ids > 0).long()
    axes = {name: {0: "batch", 1: "tokens"} for name in (*ONNX_INPUTS, "token_vectors")}
    # The TorchScript exporter (dynamo=False) warns that it is deprecated, and the trace warns
    # about branches it fixes; the exported graph is checked against torch by the test suite
    # (tests/integration/test_onnx_embedding.py). The filter is process-wide while it lasts,
    # which is brief and happens once per cache folder.
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, (ids, mask, torch.zeros_like(ids)), str(target),
                          input_names=list(ONNX_INPUTS), output_names=["token_vectors"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(source: Path, target: Path) -> None:
    onnx = import_extra("onnx")
    quantization = import_extra("onnxruntime.quantization")
    graph = onnx.load(str(source)).graph
    keep_float = [node.name for node in graph.node
                  if node.op_type == "MatMul" and FLOAT_MATMULS.search(node.name)]
    # onnxruntime logs a suggestion to pre-process the model first; its pre-processing cannot
    # infer this graph's shapes and is not needed, so the suggestion is dropped.
    quiet = _DropMessage("Please consider to run pre-processing")
    logging.getLogger().addFilter(quiet)
    try:
        quantization.quantize_dynamic(
            str(source), str(target), weight_type=quantization.QuantType.QInt8,
            per_channel=True, op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_float)
    finally:
        logging.getLogger().removeFilter(quiet)


class _DropMessage(logging.Filter):
    """Drops the log records whose message starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._prefix)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def import_extra(name: str) -> Any:
    """Import onnxruntime or onnx (the package's own dependencies since the ONNX backend became
    the default; missing only from a partial install), or say how to install them."""
    from importlib import import_module

    try:
        return import_module(name)
    except ImportError as error:
        raise MissingExtraError("GRADER_EMBEDDING_BACKEND=onnx", "onnx", error) from error


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file of the model folder, or {} when it is absent."""
    if not path.is_file():
        return {}
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}

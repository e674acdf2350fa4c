"""The ONNX backend's wiring, without exporting the model: settings, the factory, the cache file.

The export itself, and its vectors against torch's, are in
tests/integration/test_onnx_embedding.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnxruntime as ort
import pytest
from pydantic import ValidationError

from grader import Settings, onnx_export
from grader.cli import build_parser
from grader.embedders import chosen_backend, make_embedder
from grader.errors import ConfigurationError, EmbeddingError
from grader.onnx_embedding import OnnxEmbedder


def model_folder(tmp_path: Path, pooling: dict[str, bool] | None = None) -> Path:
    """A local model folder with the files the ONNX path reads (no weights: never exported)."""
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"hidden_size": 8}))
    (folder / "tokenizer.json").write_text("{}")
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        pooling or {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}))
    return folder


def test_an_unknown_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_EMBEDDING_BACKEND", "tensorflow")
    with pytest.raises(ValidationError, match="'torch' or 'onnx'"):
        Settings()


def test_onnx_on_a_gpu_says_to_use_torch(tmp_path: Path) -> None:
    settings = Settings(embedding_backend="onnx", embedding_device="cuda", cache_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="GRADER_EMBEDDING_BACKEND=torch for a GPU"):
        make_embedder(settings)


def test_auto_is_onnx_on_the_cpu_and_torch_wherever_onnx_cannot_run(tmp_path: Path) -> None:
    assert Settings.defaults().embedding_backend == "auto"
    assert chosen_backend(Settings(cache_dir=tmp_path)) == "onnx"
    assert chosen_backend(Settings(cache_dir=tmp_path, embedding_device="cuda")) == "torch"
    cls = model_folder(tmp_path, {"pooling_mode_cls_token": True})
    assert chosen_backend(Settings(cache_dir=tmp_path, embedding_model=str(cls))) == "torch"
    assert chosen_backend(Settings(cache_dir=tmp_path, embedding_model="org/hub-model")) == "torch"
    for backend in ("torch", "onnx"):  # a backend that is set is kept, even where it fails
        assert chosen_backend(Settings(cache_dir=tmp_path, embedding_backend=backend,  # type: ignore[arg-type]
                                       embedding_model=str(cls))) == backend


def test_cache_file_is_keyed_by_model_files_and_onnxruntime(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    first = onnx_export.onnx_model_path(str(folder), tmp_path / "cache", "int8")
    assert first.parent == tmp_path / "cache" / "onnx"
    assert first.name.startswith("model-") and first.name.endswith(
        f"-ort{ort.__version__}-int8.onnx")
    assert onnx_export.onnx_model_path(str(folder), tmp_path / "cache", "fp32") != first
    (folder / "config.json").write_text(json.dumps({"hidden_size": 16}))  # another model
    assert onnx_export.onnx_model_path(str(folder), tmp_path / "cache", "int8") != first


def test_a_failed_build_leaves_nothing_and_a_good_one_is_reused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model_folder(tmp_path)
    built: list[Path] = []

    def export(_: Path, target: Path) -> None:
        built.append(target)
        target.write_bytes(b"fp32")

    def broken_quantize(source: Path, target: Path) -> None:
        target.write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(onnx_export, "_export", export)
    monkeypatch.setattr(onnx_export, "_quantize", broken_quantize)
    with pytest.raises(RuntimeError, match="disk full"):
        onnx_export.prepare_onnx_model(str(folder), tmp_path / "cache", "int8", progress=print)
    assert list((tmp_path / "cache" / "onnx").iterdir()) == []  # no file, no temporary

    lines: list[str] = []
    monkeypatch.setattr(onnx_export, "_quantize",
                        lambda source, target: target.write_bytes(b"int8"))
    path = onnx_export.prepare_onnx_model(str(folder), tmp_path / "cache", "int8",
                                          progress=lines.append)
    assert path.read_bytes() == b"int8"
    assert [path.name for path in path.parent.iterdir()] == [path.name]
    assert "building the ONNX embedding model (int8)" in lines[0] and "ready" in lines[1]
    assert onnx_export.prepare_onnx_model(str(folder), tmp_path / "cache", "int8") == path
    assert len(built) == 2  # the failed build and the good one; the third call reused it


def test_only_mean_pooling_models_are_accepted(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, {"pooling_mode_mean_tokens": False,
                                     "pooling_mode_cls_token": True})
    with pytest.raises(EmbeddingError, match="pools token vectors by their mean"):
        OnnxEmbedder(str(folder), cache_dir=tmp_path / "cache")


def test_a_folder_without_a_tokenizer_is_refused(tmp_path: Path) -> None:
    folder = model_folder(tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(EmbeddingError, match="tokenizer.json"):
        OnnxEmbedder(str(folder), cache_dir=tmp_path / "cache")


def test_models_prepare_is_a_command() -> None:
    args = build_parser().parse_args(["models", "prepare", "--backend", "onnx"])
    assert args.backend == "onnx" and args.handler.__name__ == "run_prepare"

"""``grader models prepare``: build the embedding backend's files ahead of first use."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "models", help="prepare the embedding model's files ahead of first use",
        description="Manage the files the embedding backends build into GRADER_CACHE_DIR.")
    actions = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    prepare = actions.add_parser(
        "prepare", help="build the ONNX model and the word-vector table now",
        description="Build into GRADER_CACHE_DIR the ONNX export of the model (backend "
                    "onnx, the default on a CPU; otherwise built at first use) and the table "
                    "of the vocabulary's word vectors (both backends; otherwise built by the "
                    "server's warm-up, or filled in memory as words first appear in answers). "
                    "Run it when building an image, so the first requests do not wait. Files "
                    "already there are kept.")
    prepare.add_argument("--backend", choices=["auto", "torch", "onnx"],
                         help="prepare this backend (default: GRADER_EMBEDDING_BACKEND)")
    prepare.set_defaults(handler=run_prepare)


def run_prepare(args: argparse.Namespace) -> int:
    from grader.cli.loading import quiet_libraries
    from grader.embedders import chosen_backend, make_embedder
    from grader.word_vectors import HasWordTable

    quiet_libraries()
    settings = get_settings()
    if args.backend:
        settings = settings.model_copy(update={"embedding_backend": args.backend})
    backend = chosen_backend(settings)  # resolved once: make_embedder need not resolve auto again
    settings = settings.model_copy(update={"embedding_backend": backend})
    embedder = make_embedder(settings)  # builds the ONNX file when it is missing
    print(f"backend: {backend} ({embedder.model_name})")
    if backend == "onnx":
        from grader.onnx_export import onnx_model_path

        path = onnx_model_path(settings.embedding_model, Path(settings.cache_dir),
                               settings.embedding_onnx_precision)
        print(f"onnx model: {path}")
    if isinstance(embedder, HasWordTable):
        print(f"word table: {embedder.word_table.prepare()}")
    else:
        print("word table: none (GRADER_EMBEDDING_WORD_TABLE=false, or no tokenizer.json)")
    return 0

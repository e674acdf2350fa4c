"""Word vectors from a table of the vocabulary, without a model call per word (issue 18, 3).

A real ``tokenizers`` WordPiece tokenizer over a tiny vocabulary and the bag-of-words
``FakeEmbedder``: for it, a word's pooled token vectors equal its ``embed`` vector exactly, so
the table path must give exactly today's word vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from grader import GradeItem, Grader, QuestionBank, Settings
from grader.word_vectors import WordPieceTable, WordTableEmbedder
from tests.fakes import FakeEmbedder

VOCABULARY = ["[UNK]", "[CLS]", "[SEP]", "adam", "momentum", "uses", "back", "##prop", "rate",
              "learning", "answer", "number", "second", "sentence", "0", "1", "2", "3", "4"]


def tokenizer() -> Tokenizer:
    built = Tokenizer(models.WordPiece({token: index for index, token in enumerate(VOCABULARY)},
                                       unk_token="[UNK]"))
    built.normalizer = normalizers.BertNormalizer(lowercase=True)
    built.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return built


def table(tmp_path: Path, embedder: FakeEmbedder, *, cache_size: int = 100) -> WordPieceTable:
    return WordPieceTable(embedder, tokenizer(), tmp_path / "words.npz", cache_size=cache_size,
                          progress=lambda line: None)


def test_prepared_table_gives_what_embedding_each_word_gives(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    words = table(tmp_path, embedder)
    words.prepare()
    # built from the whole words of the vocabulary, never its word pieces or special tokens
    assert sorted(embedder.calls[0]) == sorted(
        token for token in VOCABULARY if token.isalnum())
    embedder.calls.clear()
    known, others = words.lookup(["momentum", "backprop", "adam", "zebra"])
    assert others == ["backprop", "zebra"]  # two pieces; unknown to the vocabulary
    assert np.array_equal(np.stack([known["momentum"], known["adam"]]),
                          FakeEmbedder().embed(["momentum", "adam"]))
    assert embedder.calls == []  # looked up, not embedded


def test_table_file_is_built_once_and_whole(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    table(tmp_path, embedder).prepare()
    again = FakeEmbedder()
    table(tmp_path, again).prepare()
    assert again.calls == []
    assert [path.name for path in tmp_path.iterdir()] == ["words.npz"]  # no temporary left


def test_without_a_file_the_table_fills_in_memory_only(tmp_path: Path) -> None:
    words = table(tmp_path, FakeEmbedder())
    assert words.lookup(["adam", "backprop"]) == ({}, ["adam", "backprop"])
    vectors = dict(zip(["adam", "backprop"], FakeEmbedder().embed(["adam", "backprop"]),
                       strict=True))
    words.remember(vectors)
    known, others = words.lookup(["adam", "backprop"])
    assert others == [] and set(known) == {"adam", "backprop"}
    assert list(tmp_path.iterdir()) == []  # answers' words never reach the disk


def test_words_of_several_pieces_are_kept_up_to_the_cache_size(tmp_path: Path) -> None:
    words = table(tmp_path, FakeEmbedder(), cache_size=2)
    several = ["backprop", "zebra", "quokka"]  # none is one vocabulary piece
    words.remember(dict(zip(several, FakeEmbedder().embed(several), strict=True)))
    known, others = words.lookup(several)
    assert set(known) == {"zebra", "quokka"} and others == ["backprop"]


def grader_with_table(bank: QuestionBank, tmp_path: Path, embedder: FakeEmbedder) -> Grader:
    wrapped = WordTableEmbedder(embedder, table(tmp_path, embedder))
    return Grader(bank, wrapped, settings=Settings(cache_dir=tmp_path))


def test_answer_words_ride_in_the_sentences_pass(bank: QuestionBank, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    grader = grader_with_table(bank, tmp_path, embedder)
    grader.warm_up()
    embedder.calls.clear()
    embedder.token_calls.clear()
    answers = [f"Answer zebra {i}. Second quokka sentence." for i in range(3)]
    grader.grade_many([GradeItem("adam-optimizer", answer) for answer in answers])
    # one model call: the sentences, then each distinct content word the table lacks (the
    # warm-up built it from the vocabulary: answer, second, sentence and the digits are in it)
    assert embedder.token_calls == [
        [f"Answer zebra {i}." if j == 0 else "Second quokka sentence."
         for i in range(3) for j in (0, 1)] + ["zebra", "quokka"]]
    assert embedder.calls == []  # no call of its own for the words (before: one per batch)

    embedder.token_calls.clear()
    grader.grade_many([GradeItem("adam-optimizer", "Second answer, same words: number 2.")])
    assert embedder.token_calls == [["Second answer, same words: number 2.", "words"]]


def test_the_table_changes_no_grade(bank: QuestionBank, tmp_path: Path) -> None:
    answers = ["Adam uses momentum and a per-weight learning rate. It rescales backprop steps.",
               "It is a learning rate schedule.", "Momentum, momentum, momentum!"]
    items = [GradeItem("adam-optimizer", answer, "offline") for answer in answers]
    today = Grader(bank, FakeEmbedder(), settings=Settings(cache_dir=tmp_path)).grade_many(items)
    prepared = grader_with_table(bank, tmp_path, FakeEmbedder())
    assert isinstance(prepared.embedder, WordTableEmbedder)
    prepared.embedder.word_table.prepare()
    for grader in (grader_with_table(bank, tmp_path / "lazy", FakeEmbedder()), prepared):
        assert grader.grade_many(items) == today


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_settings_name_the_backend(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_EMBEDDING_BACKEND", backend)
    assert Settings().embedding_backend == backend


def test_the_warm_up_builds_the_table_so_first_answers_need_no_word_texts(
        bank: QuestionBank, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    grader = grader_with_table(bank, tmp_path, embedder)
    grader.warm_up()
    assert (tmp_path / "words.npz").is_file()
    embedder.token_calls.clear()
    grader.grade_many([GradeItem("adam-optimizer", "Adam uses momentum.")])
    assert embedder.token_calls == [["Adam uses momentum."]]


def test_a_table_that_cannot_be_written_is_kept_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    embedder = FakeEmbedder()
    lines: list[str] = []
    words = WordPieceTable(embedder, tokenizer(), blocked / "words.npz", progress=lines.append)
    words.prepare()
    assert any("could not write the word-vector table" in line for line in lines)
    embedder.calls.clear()
    known, others = words.lookup(["adam", "momentum"])
    assert set(known) == {"adam", "momentum"} and others == [] and embedder.calls == []

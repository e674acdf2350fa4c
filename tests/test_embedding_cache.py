"""The embedding caches under attack (issue 16, H2 and H3): keys that cannot collide, entries
that do not decode, ad-hoc rubrics kept off the disk and out of memory once unused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from grader import AdhocQuestion, CachedEmbedder, EmbeddingCache, Grader, QuestionBank
from grader.adhoc import rubric_from_adhoc
from grader.encoding import RubricVectorCache
from grader.rubric import Criterion, Rubric
from grader.vectors import TokenVectors
from tests.fakes import FakeEmbedder

T = "Adam keeps moving averages of the gradients and of their squares."
ATTACK = "tokens\x00" + T  # the old key of T's token vectors was sha256("tokens\x00" + T)


def _rubric(rubric_id: str, reference: str, criterion: str) -> Rubric:
    # Built without validation: rubric files refuse control characters now, but the cache must
    # not depend on that (the attack came in through an ad-hoc question before either check).
    return Rubric.model_construct(
        id=rubric_id, question="What does Adam keep track of?", reference_answers=[reference],
        criteria=[Criterion.model_construct(id="point", description=criterion, weight=1.0,
                                            phrasings=[], hint="")])


def test_the_tokens_prefix_attack_is_refused_in_an_adhoc_question() -> None:
    with pytest.raises(ValueError, match=r"control character \(U\+0000\)"):
        AdhocQuestion(question="What does Adam keep?", reference_answers=["x y z"],
                      criteria=[ATTACK])


def test_a_text_that_spells_another_kinds_key_cannot_poison_it(tmp_path: Path) -> None:
    # Even a rubric whose texts reach the disk cache (a bank rubric) with the attack text as a
    # criterion leaves the token vectors of T alone, across a restart: before, grading against
    # T failed from then on.
    victim = _rubric("victim", T, "Adam keeps moving averages.")
    attacker = _rubric("attacker", "Something else entirely here.", ATTACK)
    bank = QuestionBank([attacker, victim])
    path = tmp_path / "embeddings.sqlite3"
    Grader(bank, FakeEmbedder(), embedding_cache=EmbeddingCache(path)).grade("attacker", "x")
    Grader(bank, FakeEmbedder(), embedding_cache=EmbeddingCache(path)).grade("victim", "x")

    restarted = Grader(bank, FakeEmbedder(), embedding_cache=EmbeddingCache(path))
    fresh = Grader(bank, FakeEmbedder())
    answer = "Adam keeps moving averages of gradients."
    assert restarted.grade("victim", answer) == fresh.grade("victim", answer)


def test_kinds_are_apart_in_the_cache(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite3")
    cache.put_many("m", {ATTACK: np.ones(4, np.float32)})
    assert cache.get_tokens("m", [T]) == {}
    tokens = TokenVectors(np.ones((3, 4), np.float32), np.zeros((3, 2), np.int32))
    cache.put_tokens("m", {T: tokens})
    assert cache.get_many("m", [T]) == {}
    assert set(cache.get_many("m", [ATTACK])) == {ATTACK}


@pytest.mark.parametrize("blob", [b"", b"\x01\x02\x03", b"\xff" * 8, b"\x00\x00\xc0\x7f"],
                         ids=["empty", "partial-float", "nan-bytes", "nan"])
def test_an_entry_that_does_not_decode_is_dropped_and_recomputed(tmp_path: Path,
                                                                 blob: bytes) -> None:
    path = tmp_path / "e.sqlite3"
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(path))
    expected_vector = cached.embed([T])[0]
    expected_tokens = cached.embed_tokens([T])[0]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE embeddings SET vector = ?", (blob,))

    again = CachedEmbedder(FakeEmbedder(), EmbeddingCache(path))
    assert np.array_equal(again.embed([T])[0], expected_vector)
    assert np.array_equal(again.embed_tokens([T])[0].vectors, expected_tokens.vectors)
    assert again.computed == 2  # recomputed, and written back
    assert CachedEmbedder(FakeEmbedder(), EmbeddingCache(path)).embed([T]).shape == (1, 256)


def test_vectors_of_another_size_are_recomputed(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite3")
    cache.put_many("fake-bag-of-words", {T: np.ones(8, np.float32)})  # not the model's 256
    embedder = CachedEmbedder(FakeEmbedder(), cache)
    assert embedder.embed([T, "another text"]).shape == (2, 256)
    assert embedder.computed == 2


def test_an_old_cache_file_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE vectors (model TEXT, key TEXT, vector BLOB, "
                           "PRIMARY KEY (model, key))")
        connection.execute("INSERT INTO vectors VALUES ('m', 'k', x'00')")
    EmbeddingCache(path)
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"embeddings"}


def test_adhoc_rubrics_never_reach_the_disk_cache(bank: QuestionBank, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "e.sqlite3")
    grader = Grader(bank, FakeEmbedder(), embedding_cache=cache)
    grader.warm_up()
    stored = cache.count(grader.embedder.model_name)
    assert stored > 0  # the bank's texts are there
    question = AdhocQuestion(question="What is a stack?",
                             reference_answers=["A last-in, first-out collection of items."],
                             criteria=["last in, first out", "push and pop at one end"])
    grader.grade(question, "A stack is last in, first out.")
    grader.grade(rubric_from_adhoc(question), "Push and pop.")  # a rubric given directly, too
    assert cache.count(grader.embedder.model_name) == stored


def _adhoc(number: int) -> Rubric:
    return rubric_from_adhoc(AdhocQuestion(
        question=f"Question {number}?", reference_answers=[f"Reference answer number {number}."]))


def test_adhoc_vectors_are_least_recently_used_and_the_banks_stay(bank: QuestionBank) -> None:
    embedder = FakeEmbedder()
    adam = bank.get("adam-optimizer")
    one = RubricVectorCache(embedder, bank_hashes=[adam.content_hash]).get([_adhoc(0)])
    size = sum(a.nbytes for a in (one[_adhoc(0).content_hash].question,))  # a lower bound
    cache = RubricVectorCache(embedder, bank_hashes=[adam.content_hash],
                              adhoc_bytes=40 * size * 20)
    cache.get([adam])
    for number in range(200):
        cache.get([_adhoc(number)])
    kept, kept_bytes = cache.adhoc_kept
    assert 0 < kept < 200 and kept_bytes <= 40 * size * 20

    embedder.calls.clear()
    cache.get([adam, _adhoc(199)])  # the bank's and the most recent ad-hoc one: in memory
    assert embedder.calls == []
    cache.get([_adhoc(0)])  # the oldest was evicted: embedded again
    assert embedder.calls


def test_a_call_gets_every_rubric_it_asked_for_even_past_the_budget() -> None:
    cache = RubricVectorCache(FakeEmbedder(), adhoc_bytes=1)
    rubrics = [_adhoc(number) for number in range(5)]
    assert set(cache.get(rubrics)) == {r.content_hash for r in rubrics}
    assert cache.adhoc_kept == (0, 0)

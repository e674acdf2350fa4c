"""Batches of like length (``grader.padding``): the model pays for padding as for tokens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grader.padding import length_batches


def test_a_batch_ends_where_lengths_fall_below_four_fifths_of_its_longest() -> None:
    lengths = [12, 60, 10, 55, 49, 11, 47]
    assert length_batches(lengths, max_size=64) == [[1, 3, 4], [6], [0, 5, 2]]


def test_a_batch_holds_at_most_max_size() -> None:
    assert length_batches([5] * 5, max_size=2) == [[0, 1], [2, 3], [4]]


@given(st.lists(st.integers(1, 300), max_size=200), st.integers(1, 64))
def test_every_index_once_longest_first_and_little_padding(lengths: list[int],
                                                             size: int) -> None:
    batches = length_batches(lengths, max_size=size)
    flat = [index for batch in batches for index in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert 1 <= len(batch) <= size
        assert all(lengths[i] >= 0.8 * lengths[batch[0]] for i in batch)

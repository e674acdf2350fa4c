"""The input fingerprint every output record carries, so that ``--resume`` can check it.

A record's ``input_digest`` is a digest chained over the input's format, its CSV header and its
rows 1..row (each row's line number and bytes). The last complete record of an output therefore
vouches for every input row before it: an input with a row added, removed or edited above it,
or another input altogether, gives another digest, and resuming is refused. Rows after it may
change freely; they have not been graded yet.
"""

from __future__ import annotations

import hashlib

#: Bytes of the digest each record carries (shown as twice as many hex digits).
DIGEST_BYTES = 8


def row_hasher() -> hashlib.blake2b:
    """A fresh hash for the bytes of one row."""
    return hashlib.blake2b(digest_size=16)


def is_digest(text: str) -> bool:
    """Whether ``text`` is an ``input_digest`` as written (lowercase hex of the right length)."""
    return len(text) == 2 * DIGEST_BYTES and all(c in "0123456789abcdef" for c in text)


class InputFingerprint:
    """The chain of digests over an input's rows, one step per row.

    ```python
    chain = InputFingerprint("csv", header_digest)
    chain.add(line=2, row_digest=raw.digest)  # -> "3f9c..." for row 1's record
    ```
    """

    def __init__(self, fmt: str, header_digest: bytes = b"") -> None:
        seed = hashlib.blake2b(digest_size=DIGEST_BYTES)
        seed.update(fmt.encode() + b"\x00" + header_digest)
        self._state = seed.digest()

    def add(self, line: int, row_digest: bytes) -> str:
        """Take in the next row; the digest of the input up to and including it, as hex."""
        step = hashlib.blake2b(self._state, digest_size=DIGEST_BYTES)
        step.update(line.to_bytes(8, "big") + row_digest)
        self._state = step.digest()
        return self._state.hex()

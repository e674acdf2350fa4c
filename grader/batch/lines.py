"""Lines of an input file, read so that no row is ever held past a set size.

A row is one JSONL line, or the lines of one CSV record. ``BoundedLines`` reads each line with a
bounded ``readline``: once a row passes its limit, the rest of its line is skipped a piece at a
time (never held whole) and ``RowTooLong`` is raised, so the next row starts on the next line.
Each row's bytes, skipped ones included, also feed its digest, the input's fingerprint.
"""

from __future__ import annotations

from typing import IO, AnyStr, Generic

from grader.batch.fingerprint import row_hasher

#: The default size limit of one row: bytes of a JSONL line, characters of a CSV record.
MAX_ROW_BYTES = 8 * 1024 * 1024
_SKIP_PIECE = 64 * 1024


class RowTooLong(Exception):
    """A row ran past its limit; the line it was on has been skipped to its end."""

    def __init__(self, first_line: int, last_line: int, limit: int) -> None:
        super().__init__(f"the row on lines {first_line}-{last_line} is over {limit:,}")
        self.first_line = first_line
        self.last_line = last_line
        self.limit = limit


class BoundedLines(Generic[AnyStr]):
    """Iterates over the lines of ``handle``, holding at most ``limit`` units of a row at once.

    ``line_num`` counts the lines read so far (skipped ones included). Call ``start_row``
    before each row; ``row_digest`` is the digest of what the row has read since, less the
    final line end (so that a last line without one hashes alike). With a ``quote`` (CSV), a
    row too long is skipped to the end of the record: to a line end with no quoted field open,
    and ``reread_after_first_line`` gives back the lines a record that failed ran on over.
    """

    def __init__(self, handle: IO[AnyStr], limit: int, line_ends: tuple[AnyStr, ...],
                 quote: AnyStr | None = None) -> None:
        self.line_num = 0
        self._handle: IO[AnyStr] = handle
        self._default_limit = limit
        self._line_ends: tuple[AnyStr, ...] = line_ends
        self._quote: AnyStr | None = quote
        self._given_back: list[AnyStr] = []  # lines to read again before the handle's next
        self.start_row()

    def start_row(self, limit: int | None = None) -> None:
        self._limit = self._default_limit if limit is None else limit
        self._used = 0
        self._quotes = 0
        self._first_line = self.line_num + 1
        self._hash = row_hasher()
        self._held_end = b""
        self._row_lines: list[AnyStr] = []

    def reread_after_first_line(self) -> int:
        """Give back every line of this row after its first, to be read again as rows of their
        own; the row is its first line alone, digest included. Returns the lines given back."""
        if len(self._row_lines) < 2:
            return 0
        first, rest = self._row_lines[0], self._row_lines[1:]
        self._given_back[:0] = rest
        self.line_num -= len(rest)
        self._row_lines, self._used, self._quotes = [first], len(first), 0
        self._hash, self._held_end = row_hasher(), b""
        self._take(first)
        return len(rest)

    def row_digest(self) -> bytes:
        return self._hash.digest()

    def __iter__(self) -> BoundedLines[AnyStr]:
        return self

    def __next__(self) -> AnyStr:
        # Room for a "\r\n" too: the row's last line end does not count toward its size.
        if self._given_back:
            line = self._given_back.pop(0)
        else:
            line = self._handle.readline(self._limit - self._used + 2)
        if not line:
            raise StopIteration
        if self._quote is not None:
            self._row_lines.append(line)
        self.line_num += 1
        self._used += len(line)
        end = self._take(line)
        if self._used - end > self._limit:
            self._skip_rest(end)
            raise RowTooLong(self._first_line, self.line_num, self._limit)
        return line

    def _skip_rest(self, end: int) -> None:
        """Skip to the end of the row, a piece at a time: to the end of its line, and on to
        the end of the record while a quoted field is open (an odd number of quotes so far)."""
        while True:
            while not end:
                piece = self._handle.readline(_SKIP_PIECE)
                if not piece:
                    return
                end = self._take(piece)
            if self._quotes % 2 == 0:
                return
            piece = self._handle.readline(_SKIP_PIECE)
            if not piece:
                return
            self.line_num += 1
            end = self._take(piece)

    def _take(self, piece: AnyStr) -> int:
        """Hash a piece of the row and count its quotes; the length of the line end it has."""
        end = 0
        for line_end in self._line_ends:
            if piece.endswith(line_end):
                end = len(line_end)
                break
        if self._quote is not None:
            self._quotes += piece.count(self._quote)
        data = piece if isinstance(piece, bytes) else piece.encode("utf-8", "surrogateescape")
        self._hash.update(self._held_end)
        cut = len(data) - end
        self._hash.update(data[:cut])
        self._held_end = data[cut:]
        return end

"""One SQLite file shared by threads: the storage under the embedding and LLM reply caches."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


class SqliteStore:
    """A SQLite database with one connection, one lock and write-ahead logging.

    ``schema`` is run once at open (``CREATE TABLE IF NOT EXISTS ...``). Every call holds the
    lock, so the store is safe to share across threads.
    """

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.executescript(schema)
        self._lock = threading.Lock()

    def fetch_one(self, sql: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._connection.execute(sql, parameters).fetchone()
        return row

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        with self._lock:
            self._connection.execute(sql, parameters)

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` for every row in one transaction."""
        with self._lock:
            self._connection.execute("BEGIN")
            self._connection.executemany(sql, rows)
            self._connection.execute("COMMIT")

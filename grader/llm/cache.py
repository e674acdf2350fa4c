"""A SQLite cache of validated LLM replies, so a repeated grade costs nothing and reproduces.

The key is everything that shapes a reply: the server (base URL, without credentials), the
model, its temperature and reply token limit, the prompt version, the rubric content hash and
the answer. Change any of them and the model is asked again. Only replies that passed
validation are stored; grounding runs again on every read, so a change to the grounding rules
applies to cached replies too.

The cache only saves calls: a row that cannot be read back is a miss, and a store that cannot
be read or written is logged and skipped, never a failed grade.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path

from pydantic import ValidationError

from grader.llm.client import ClientSettings
from grader.llm.replies import CritiqueReply
from grader.result import TokenUsage
from grader.store import SqliteStore

_log = logging.getLogger("grader.llm")


def reply_key(settings: ClientSettings, prompt_version: str, rubric_hash: str, answer: str
              ) -> str:
    """The cache key of one critique: a hash of a JSON list, so no field can run into another."""
    payload = json.dumps([settings.where, settings.model, settings.temperature,
                          settings.max_tokens, prompt_version, rubric_hash, answer],
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


class LLMReplyCache:
    """Replies by key, with the tokens the original call used. Safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store = SqliteStore(
            path, "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT, "
                  "reply TEXT, prompt_tokens INTEGER, completion_tokens INTEGER)")

    def get(self, key: str) -> tuple[CritiqueReply, TokenUsage] | None:
        try:
            row = self._store.fetch_one(
                "SELECT reply, prompt_tokens, completion_tokens FROM replies WHERE key = ?",
                (key,))
        except sqlite3.Error as error:
            _log.warning("LLM reply cache %s cannot be read (%s); asking the model", self.path,
                         error)
            return None
        if row is None:
            return None
        try:  # stored by an older reply model, or damaged: ask the model again
            reply = CritiqueReply.model_validate_json(row[0])
            usage = TokenUsage(prompt_tokens=row[1], completion_tokens=row[2])
        except (ValidationError, TypeError):
            return None
        return reply, usage

    def put(self, key: str, model: str, reply: CritiqueReply, usage: TokenUsage) -> None:
        try:
            self._store.execute(
                "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)",
                (key, model, reply.model_dump_json(), usage.prompt_tokens,
                 usage.completion_tokens))
        except sqlite3.Error as error:
            _log.warning("LLM reply cache %s cannot be written (%s); reply not cached",
                         self.path, error)

    def count(self) -> int:
        row = self._store.fetch_one("SELECT COUNT(*) FROM replies")
        return int(row[0]) if row else 0

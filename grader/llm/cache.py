"""A SQLite cache of validated LLM replies, so a repeated grade costs nothing and reproduces.

The key is (model, prompt version, rubric content hash, answer): change any of them and the
model is asked again. Only replies that passed validation are stored; grounding runs again on
every read, so a change to the grounding rules applies to cached replies too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from grader.llm.replies import CritiqueReply
from grader.result import TokenUsage
from grader.store import SqliteStore


def reply_key(model: str, prompt_version: str, rubric_hash: str, answer: str) -> str:
    payload = json.dumps([model, prompt_version, rubric_hash, answer], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class LLMReplyCache:
    """Replies by key, with the tokens the original call used. Safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store = SqliteStore(
            path, "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT, "
                  "reply TEXT, prompt_tokens INTEGER, completion_tokens INTEGER)")

    def get(self, key: str) -> tuple[CritiqueReply, TokenUsage] | None:
        row = self._store.fetch_one(
            "SELECT reply, prompt_tokens, completion_tokens FROM replies WHERE key = ?", (key,))
        if row is None:
            return None
        try:
            reply = CritiqueReply.model_validate_json(row[0])
        except ValidationError:  # stored by an older reply model: ask the model again
            return None
        return reply, TokenUsage(prompt_tokens=row[1], completion_tokens=row[2])

    def put(self, key: str, model: str, reply: CritiqueReply, usage: TokenUsage) -> None:
        self._store.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)",
            (key, model, reply.model_dump_json(), usage.prompt_tokens, usage.completion_tokens))

    def count(self) -> int:
        row = self._store.fetch_one("SELECT COUNT(*) FROM replies")
        return int(row[0]) if row else 0

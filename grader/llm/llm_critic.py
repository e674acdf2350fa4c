"""``LLMCritic``: the ``grader.critic.Critic`` that asks an OpenAI-compatible model.

It never decides the score (``grader.scoring.combine`` does) and never makes a grade fail: any
problem it cannot recover from raises ``CriticError``, and the grader falls back to the offline
critic, says so in ``critic.fallback_reason`` and logs why (``grader.critic.FallbackCritic``).
"""

from __future__ import annotations

from pathlib import Path

from grader.critic import Critique, CritiqueRequest, offline_feedback
from grader.errors import CriticError, LLMError
from grader.llm.cache import LLMReplyCache, reply_key
from grader.llm.client import ClientSettings, LLMClient, complete_structured, shared_client
from grader.llm.grounding import ground
from grader.llm.injection import scan_injection
from grader.llm.prompt import PROMPT_VERSION, build_messages, reply_schema
from grader.llm.replies import CritiqueReply
from grader.result import CriticInfo, Feedback, TokenUsage
from grader.rubric import Rubric
from grader.settings import Settings

INJECTION_FLAG = "injection_suspected"


def check_ids(rubric: Rubric, reply: CritiqueReply) -> None:
    """Reject a reply that does not judge each criterion exactly once, or names unknown ids."""
    expected = [c.id for c in rubric.criteria]
    given = [v.id for v in reply.criteria]
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise ValueError(f"unknown criterion ids {unknown}; use only {expected}")
    repeated = sorted({i for i in given if given.count(i) > 1})
    if repeated:
        raise ValueError(f"criterion ids judged more than once: {repeated}")
    missing = [i for i in expected if i not in given]
    if missing:
        raise ValueError(f"criteria not judged: {missing}")
    known = {m.id for m in rubric.misconceptions}
    strange = sorted({m.id for m in reply.misconceptions} - known)
    if strange:
        raise ValueError(f"unknown misconception ids {strange}; use only {sorted(known)} or none")


class LLMCritic:
    """Judges answers with an LLM; quotes are grounded and injections contained in code."""

    def __init__(self, client_settings: ClientSettings, *, client: LLMClient | None = None,
                 cache: LLMReplyCache | None = None) -> None:
        self.client_settings = client_settings
        self._client = client or shared_client(client_settings)
        self._cache = cache

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMCritic:
        client_settings = ClientSettings.from_settings(settings)
        cache = LLMReplyCache(Path(settings.cache_dir) / "llm_replies.sqlite3")
        return cls(client_settings, cache=cache)

    def critique(self, request: CritiqueRequest) -> Critique:
        rubric, answer = request.rubric, request.answer
        scan = scan_injection(answer)
        model = self.client_settings.model
        key = reply_key(self.client_settings, PROMPT_VERSION, rubric.content_hash, answer)
        hit = self._cache.get(key) if self._cache is not None else None
        if hit is not None:
            reply, usage, cached = hit[0], TokenUsage(), True
        else:
            try:
                reply, usage = complete_structured(
                    self.client_settings, build_messages(rubric, answer), CritiqueReply,
                    schema=reply_schema(rubric), check=lambda r: check_ids(rubric, r),
                    client=self._client,
                )
            except LLMError as error:
                flags = (INJECTION_FLAG,) if scan.suspected else ()
                raise CriticError(str(error), model=model, usage=error.usage,
                                  flags=flags) from error
            cached = False
            if self._cache is not None:
                self._cache.put(key, model, reply, usage)

        suspected = scan.suspected or reply.injection_attempt
        grounded = ground(reply, request, scan)
        if grounded.changed or suspected:
            # The model's prose may praise what was not counted or repeat the attacker's words.
            feedback = offline_feedback(rubric, grounded.criteria,
                                        tuple(m.id for m in grounded.misconceptions))
        else:
            feedback = Feedback(**reply.feedback.model_dump())
        return Critique(
            criteria=grounded.criteria,
            misconceptions=grounded.misconceptions,
            feedback=feedback,
            info=CriticInfo(kind="llm", model=model, cached=cached, usage=usage),
            flags=(INJECTION_FLAG,) if suspected else (),
        )


__all__ = ["INJECTION_FLAG", "LLMCritic", "check_ids"]

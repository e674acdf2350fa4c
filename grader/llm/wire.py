"""What an OpenAI-compatible server sends, read defensively, and its address as it may be shown.

A server (or a proxy in front of it) may send anything: a rate-limit hint of "soon" or "nan",
a completion without choices, token counts that are not numbers. Each reader here turns what it
does not understand into "absent", so the client's usual path (backoff, re-ask, fallback to the
offline critic) applies and nothing raises. A base URL may carry credentials
(``https://user:key@host/v1?api-key=...``): ``redact_url`` is what a message or a log may show.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from typing import Any

from grader.result import TokenUsage

_USERINFO = re.compile(r"(?<=//)[^/?#\s]*@")  # up to the last '@' of the authority


def redact_url(url: str) -> str:
    """``url`` without its userinfo and query: what may be shown in a message or a log.

    >>> redact_url("https://user:secret@llm.example/v1?key=abc")
    'https://llm.example/v1'
    """
    return redact_text(re.split(r"[?#]", url, maxsplit=1)[0])


def redact_text(text: str) -> str:
    """``text`` with the userinfo of every URL in it removed (an error message may quote one)."""
    return _USERINFO.sub("", text)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a server asked us to wait (``Retry-After``, ``retry-after-ms``), if any.

    A hint that is not a finite number or an HTTP date ("soon", "nan", "inf", a date no
    calendar has) is ignored, as if absent: the usual backoff applies.
    """
    if headers is None:
        return None
    millis = _finite(headers.get("retry-after-ms"))
    if millis is not None:
        return max(millis / 1000.0, 0.0)
    value = headers.get("retry-after")
    seconds = _finite(value)
    if seconds is not None:
        return max(seconds, 0.0)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return max(when - time.time(), 0.0)


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def usage_of(completion: Any) -> TokenUsage:
    """The tokens a completion says it used; anything but a count reads as 0."""
    usage = getattr(completion, "usage", None)
    return TokenUsage(prompt_tokens=_count(getattr(usage, "prompt_tokens", 0)),
                      completion_tokens=_count(getattr(usage, "completion_tokens", 0)))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def reply_of(completion: Any) -> tuple[str | None, str | None]:
    """The first choice's (content, finish_reason); (None, None) for a malformed completion
    (the openai client does not check the shape of what it parsed)."""
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return None, None
    choice = choices[0]
    content = getattr(getattr(choice, "message", None), "content", None)
    finish_reason = getattr(choice, "finish_reason", None)
    return (content if isinstance(content, str) else None,
            finish_reason if isinstance(finish_reason, str) else None)


__all__ = ["redact_text", "redact_url", "reply_of", "retry_after_seconds", "usage_of"]

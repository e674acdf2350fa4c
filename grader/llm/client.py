"""Talking to any OpenAI-compatible server and getting back a validated pydantic model.

``complete_structured`` is the one entry point, shared by the critic and by rubric drafting:

1. ask for the reply as a strict JSON schema (``response_format`` ``json_schema``);
   a server that rejects schemas (HTTP 400/422, or a 5xx naming ``response_format``, as
   llama-cpp-python's does) is asked again with ``json_object`` (see ``MODES``), and the
   client remembers that;
2. retry 429 and 5xx answers, timeouts and dropped connections with exponential backoff,
   honouring ``Retry-After`` (up to ``MAX_RETRY_AFTER_S``);
3. validate the reply; an invalid, truncated or rejected reply is asked for once more, with the
   reason; a second failure raises ``LLMError`` (the grader then falls back to offline).

Concurrent callers with the same settings share one client (``shared_client``): the HTTP
connection pool is thread-safe and reusing it saves a TLS handshake per call.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import httpx
import openai
from pydantic import BaseModel, ValidationError

from grader.errors import ConfigurationError, LLMError, describe_validation_error
from grader.llm.wire import (
    redact_text,
    redact_url,
    reply_of,
    retry_after_seconds,
    usage_of,
)
from grader.result import TokenUsage
from grader.settings import Settings

ModelT = TypeVar("ModelT", bound=BaseModel)
Message = dict[str, str]
ResponseMode = Literal["json_schema", "json_object"]
#: Tried in order; a server that rejects one mode is asked in the next, and that is remembered.
#: (llama-cpp-python also takes ``json_object`` with a ``schema`` key and compiles a grammar,
#: but on 2 CPU cores that made one critique take over 600 s, so it is not used.)
MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object")

#: A server asking to wait longer than this is treated as unavailable rather than waited for.
MAX_RETRY_AFTER_S = 60.0
INITIAL_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
#: Key sent to servers that need none (llama.cpp, vLLM, Ollama); the openai client insists on one.
PLACEHOLDER_API_KEY = "not-needed"
#: JSON-schema keywords that OpenAI's strict mode does not accept; pydantic still enforces them.
_UNSUPPORTED_KEYWORDS = frozenset(
    {"maxLength", "minLength", "default", "title", "examples", "maxItems", "minItems"}
)


def _default(name: str) -> Any:
    """A ``Settings`` field's default: ``Settings`` is the one source of every default."""
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class ClientSettings:
    """How to reach the model, taken from ``Settings`` (``from_settings``). Hashable, so equal
    settings share one client."""

    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = _default("llm_timeout_s")
    max_retries: int = _default("llm_max_retries")
    temperature: float = _default("llm_temperature")
    max_tokens: int = _default("llm_max_tokens")

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientSettings:
        if not settings.llm_model:
            raise ConfigurationError(
                "No LLM model is configured: set GRADER_LLM_MODEL (and GRADER_LLM_BASE_URL for a "
                "server other than OpenAI's)."
            )
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        if not key and not settings.llm_base_url:
            raise ConfigurationError(
                "GRADER_LLM_MODEL is set for OpenAI's API but no key was found: set "
                "GRADER_LLM_API_KEY or OPENAI_API_KEY, or point GRADER_LLM_BASE_URL at a local "
                "OpenAI-compatible server."
            )
        return cls(
            model=settings.llm_model, base_url=settings.llm_base_url, api_key=key,
            timeout_s=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
            temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens,
        )

    @property
    def where(self) -> str:
        """The server, for messages and logs: the base URL without ``user:password@`` or a
        query string, which may carry credentials."""
        return redact_url(self.base_url) if self.base_url else "api.openai.com"


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the subset strict ``json_schema`` mode accepts.

    Every object closes (``additionalProperties: false``) and lists all its properties as
    required; length limits are dropped from the wire schema but still checked by pydantic.
    """

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: clean(v) for k, v in node.items() if k not in _UNSUPPORTED_KEYWORDS}
            if out.get("type") == "object" and "properties" in out:
                out["additionalProperties"] = False
                out["required"] = list(out["properties"])
            return out
        if isinstance(node, list):
            return [clean(item) for item in node]
        return node

    # Properties named like a dropped keyword must survive: clean only schema positions.
    schema = model.model_json_schema()
    cleaned: dict[str, Any] = clean({k: v for k, v in schema.items() if k != "properties"})
    if "properties" in schema:
        cleaned["properties"] = {name: clean(sub) for name, sub in schema["properties"].items()}
        cleaned["additionalProperties"] = False
        cleaned["required"] = list(schema["properties"])
    return cleaned


def _rejects_schema(error: openai.APIStatusError) -> bool:
    """Whether the server refused the request for its ``response_format``.

    Most servers answer 400 or 422; llama-cpp-python's server answers 500 with a validation
    error that names ``response_format``, so a 5xx counts only when it says so.
    """
    if error.status_code in (400, 422):
        return True
    if error.status_code < 500:
        return False
    text = f"{error.message} {getattr(error.response, 'text', '')}"
    return "response_format" in text or "json_schema" in text


class LLMClient:
    """One OpenAI-compatible endpoint: retries, backoff and the schema-or-object mode."""

    def __init__(self, settings: ClientSettings, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._sleep = sleep
        # A legacy ``httpx`` client is passed on purpose: the project depends on httpx, the
        # timeout is ours, and retries are done here (max_retries=0) so they are testable.
        self._openai = openai.OpenAI(
            api_key=settings.api_key or PLACEHOLDER_API_KEY,
            base_url=settings.base_url,
            timeout=settings.timeout_s,
            max_retries=0,
            # openai>=3 types this as httpx2.Client but accepts a legacy httpx.Client at runtime.
            http_client=httpx.Client(timeout=httpx.Timeout(settings.timeout_s)),  # type: ignore[arg-type]
        )
        self._mode: ResponseMode = "json_schema"
        self._lock = threading.Lock()

    @property
    def mode(self) -> ResponseMode:
        return self._mode

    def chat(self, messages: Sequence[Message], schema_name: str, schema: dict[str, Any]
             ) -> tuple[Any, ResponseMode]:
        """One chat completion, moving to the next of ``MODES`` when the server rejects one."""
        mode = self._mode
        while True:
            try:
                request = self._response_format(mode, schema_name, schema)
                completion = self._send(messages, request)
            except openai.APIStatusError as error:
                if mode == MODES[-1] or not _rejects_schema(error):
                    raise
                mode = MODES[MODES.index(mode) + 1]
                continue
            with self._lock:
                if MODES.index(mode) > MODES.index(self._mode):
                    self._mode = mode
            return completion, mode

    @staticmethod
    def _response_format(mode: ResponseMode, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if mode == "json_object":
            return {"type": "json_object"}
        return {"type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True}}

    def _send(self, messages: Sequence[Message], response_format: dict[str, Any]) -> Any:
        retries = 0
        while True:
            try:
                return self._openai.chat.completions.create(  # type: ignore[call-overload]
                    model=self.settings.model,
                    messages=list(messages),
                    temperature=self.settings.temperature,
                    max_tokens=self.settings.max_tokens,
                    response_format=response_format,
                )
            except openai.APIStatusError as error:
                retryable = error.status_code in (408, 409, 429) or error.status_code >= 500
                if _rejects_schema(error) and response_format["type"] == "json_schema":
                    raise  # deterministic: no point retrying, chat() falls back instead
                if not retryable or retries >= self.settings.max_retries:
                    raise
                wait = retry_after_seconds(error.response.headers)
                if wait is not None and wait > MAX_RETRY_AFTER_S:
                    raise
            except openai.APIConnectionError:  # includes APITimeoutError
                if retries >= self.settings.max_retries:
                    raise
                wait = None
            self._sleep(wait if wait is not None else self._backoff(retries))
            retries += 1

    @staticmethod
    def _backoff(retries: int) -> float:
        return min(INITIAL_BACKOFF_S * 2.0**retries, MAX_BACKOFF_S) * (1 - 0.25 * random.random())


_CLIENTS: dict[ClientSettings, LLMClient] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(settings: ClientSettings) -> LLMClient:
    """The process's one client for these settings (created on first use, never at import)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(settings)
        if client is None:
            client = _CLIENTS[settings] = LLMClient(settings)
        return client


def clear_shared_clients() -> None:
    """Forget the shared clients (and their remembered json_object mode); for tests."""
    with _CLIENTS_LOCK:
        _CLIENTS.clear()


def _add(a: TokenUsage, b: TokenUsage) -> TokenUsage:
    return TokenUsage(prompt_tokens=a.prompt_tokens + b.prompt_tokens,
                      completion_tokens=a.completion_tokens + b.completion_tokens)


def _json_text(content: str) -> str:
    # json_object servers may still wrap the object in a Markdown fence; unwrap that only.
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        if text.rstrip().endswith("```"):
            text = text.rstrip()[:-3]
    return text.strip()


def _problem(error: ValidationError | ValueError) -> str:
    if isinstance(error, ValidationError):
        return describe_validation_error(error, root="reply", limit=4)
    return str(error)


def _transport_error(error: openai.OpenAIError, settings: ClientSettings, usage: TokenUsage
                     ) -> LLMError:
    if isinstance(error, openai.APITimeoutError):
        what = f"timed out after {settings.timeout_s:g} s"
        todo = "raise GRADER_LLM_TIMEOUT_S or use a faster model"
    elif isinstance(error, openai.APIConnectionError):
        what = "could not be reached"
        todo = "check GRADER_LLM_BASE_URL and that the server is running"
    elif isinstance(error, openai.APIStatusError):
        what = f"answered HTTP {error.status_code}: {str(error.message)[:200]}"
        todo = ("check GRADER_LLM_API_KEY / OPENAI_API_KEY" if error.status_code in (401, 403)
                else "check GRADER_LLM_MODEL and the server's logs")
    else:
        what, todo = f"failed: {error}", "check the LLM settings"
    retries = settings.max_retries
    return LLMError(
        f"The LLM server at {settings.where} {redact_text(what)}"
        + (f" (after {retries} retries)" if retries else "") + f"; {todo}.",
        model=settings.model, usage=usage,
    )


def complete_structured(
    client_settings: ClientSettings,
    messages: Sequence[Message],
    response_model: type[ModelT],
    *,
    schema: dict[str, Any] | None = None,
    check: Callable[[ModelT], None] | None = None,
    client: LLMClient | None = None,
) -> tuple[ModelT, TokenUsage]:
    """Ask the model for a reply of type ``response_model``; return it and the tokens used.

    ``schema`` overrides the wire schema (for example with enums of valid ids); ``check`` may
    raise ``ValueError`` for a reply that parses but is unusable, which earns the same single
    re-ask as an invalid one. Raises ``LLMError`` when no usable reply came back.

    ```python
    reply, usage = complete_structured(
        ClientSettings(model="gpt-4o-mini"), [{"role": "user", "content": "..."}], MyReply)
    ```
    """
    client = client or shared_client(client_settings)
    wire_schema = schema if schema is not None else strict_schema(response_model)
    usage = TokenUsage()
    conversation = list(messages)
    problem = ""
    for attempt in (1, 2):
        try:
            completion, _ = client.chat(conversation, response_model.__name__, wire_schema)
        except openai.OpenAIError as error:
            raise _transport_error(error, client_settings, usage) from error
        usage = _add(usage, usage_of(completion))
        content, finish_reason = reply_of(completion)
        if finish_reason == "length":
            problem = (f"the reply was cut off at {client_settings.max_tokens} tokens "
                       "(GRADER_LLM_MAX_TOKENS)")
            retry_hint = "Your previous reply was cut off. Reply again, more briefly."
        elif not content:
            problem = "the reply was empty"
            retry_hint = "Your previous reply was empty."
        else:
            try:
                parsed = response_model.model_validate_json(_json_text(content))
                if check is not None:
                    check(parsed)
                return parsed, usage
            except (ValidationError, ValueError) as error:
                problem = f"the reply was not valid: {_problem(error)}"
                retry_hint = f"Your previous reply was not valid: {_problem(error)}."
        if attempt == 1:
            conversation = [*messages, {"role": "user", "content": (
                f"{retry_hint} Reply with only one JSON object that follows the required format "
                "exactly.")}]
    raise LLMError(
        f"The LLM ({client_settings.model} at {client_settings.where}) gave no usable reply "
        f"after one re-ask: {problem}. Try a stronger model or raise GRADER_LLM_MAX_TOKENS.",
        model=client_settings.model, usage=usage,
    )


__all__ = ["ClientSettings", "LLMClient", "clear_shared_clients", "complete_structured",
           "retry_after_seconds", "shared_client", "strict_schema"]

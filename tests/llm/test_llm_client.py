"""complete_structured: the request it sends, retries, the json_object fallback, the re-ask."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx
from pydantic import BaseModel, ConfigDict, Field

from grader import ConfigurationError, LLMError, Settings
from grader.llm import ClientSettings, LLMClient, complete_structured
from grader.llm.client import (
    MAX_RETRY_AFTER_S,
    clear_shared_clients,
    retry_after_seconds,
    shared_client,
    strict_schema,
)
from tests.llm.llm_helpers import BASE_URL, MODEL, completion, make_settings, sent

MESSAGES = [{"role": "user", "content": "Say hello as JSON."}]


class Greeting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=20)
    loud: bool


GOOD = json.dumps({"text": "hello", "loud": False})


@pytest.fixture
def router() -> respx.MockRouter:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mock:
        yield mock


def call(client: LLMClient, **kwargs: object) -> tuple[Greeting, object]:
    return complete_structured(client.settings, MESSAGES, Greeting, client=client, **kwargs)


def test_success_sends_model_temperature_and_strict_schema(router: respx.MockRouter) -> None:
    route = router.post("/chat/completions").mock(return_value=completion(GOOD))
    client = LLMClient(make_settings(temperature=0.0, max_tokens=321))
    greeting, usage = call(client)
    assert greeting == Greeting(text="hello", loud=False)
    assert usage.prompt_tokens == 500 and usage.completion_tokens == 120
    body = sent(route.calls.last)
    assert body["model"] == MODEL
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 321
    assert body["messages"] == MESSAGES
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema" and schema["strict"] is True
    assert schema["schema"]["required"] == ["text", "loud"]
    assert schema["schema"]["additionalProperties"] is False
    assert "maxLength" not in json.dumps(schema)  # dropped from the wire, still validated


def test_429_then_success_honours_retry_after(router: respx.MockRouter) -> None:
    route = router.post("/chat/completions").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow"}}),
        completion(GOOD),
    ])
    sleeps: list[float] = []
    greeting, _ = call(LLMClient(make_settings(), sleep=sleeps.append))
    assert greeting.text == "hello"
    assert sleeps == [7.0]
    assert route.call_count == 2


def test_retry_after_as_http_date_and_milliseconds() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(httpx.Headers({"retry-after": later})) or 0) <= 30
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(httpx.Headers({})) is None


def test_a_retry_after_beyond_the_limit_is_not_waited_for(router: respx.MockRouter) -> None:
    too_long = str(int(MAX_RETRY_AFTER_S) + 60)
    router.post("/chat/completions").mock(return_value=httpx.Response(
        429, headers={"Retry-After": too_long}, json={"error": {"message": "quota"}}))
    sleeps: list[float] = []
    with pytest.raises(LLMError, match="HTTP 429"):
        call(LLMClient(make_settings(), sleep=sleeps.append))
    assert sleeps == []


def test_500_is_retried_with_growing_backoff_then_fails(router: respx.MockRouter) -> None:
    route = router.post("/chat/completions").mock(
        return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
    sleeps: list[float] = []
    with pytest.raises(LLMError, match=r"HTTP 500.*after 3 retries") as caught:
        call(LLMClient(make_settings(max_retries=3), sleep=sleeps.append))
    assert route.call_count == 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2] <= 8.0
    assert caught.value.model == MODEL


def test_401_is_not_retried_and_says_what_to_check(router: respx.MockRouter) -> None:
    route = router.post("/chat/completions").mock(
        return_value=httpx.Response(401, json={"error": {"message": "bad key"}}))
    with pytest.raises(LLMError, match="GRADER_LLM_API_KEY"):
        call(LLMClient(make_settings(), sleep=lambda _: None))
    assert route.call_count == 1


def test_timeout_is_retried_then_reported(router: respx.MockRouter) -> None:
    route = router.post("/chat/completions").mock(side_effect=httpx.TimeoutException("slow"))
    with pytest.raises(LLMError, match="timed out after 5 s.*GRADER_LLM_TIMEOUT_S"):
        call(LLMClient(make_settings(max_retries=1), sleep=lambda _: None))
    assert route.call_count == 2


def test_json_object_fallback_when_server_rejects_schemas(router: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["response_format"]["type"] == "json_schema":
            return httpx.Response(400, json={"error": {"message": "json_schema not supported"}})
        return completion(GOOD)

    route = router.post("/chat/completions").mock(side_effect=answer)
    client = LLMClient(make_settings())
    assert call(client)[0].text == "hello"
    formats = [sent(c)["response_format"] for c in route.calls]
    assert [f["type"] for f in formats] == ["json_schema", "json_object"]
    assert client.mode == "json_object"
    call(client)  # remembered: the next call goes straight to json_object
    assert sent(route.calls.last)["response_format"] == {"type": "json_object"}
    assert route.call_count == 3


def test_json_object_fallback_on_a_500_that_names_response_format(
        router: respx.MockRouter) -> None:
    # What llama-cpp-python's server really answers to a json_schema request.
    rejection = httpx.Response(500, json={"error": {"message": (
        "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', "
        "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}")}})
    route = router.post("/chat/completions").mock(side_effect=[rejection, completion(GOOD)])
    sleeps: list[float] = []
    client = LLMClient(make_settings(), sleep=sleeps.append)
    assert call(client)[0].text == "hello"
    formats = [sent(c)["response_format"] for c in route.calls]
    assert formats[0]["type"] == "json_schema" and formats[1] == {"type": "json_object"}
    assert sleeps == [] and client.mode == "json_object"


def test_a_400_in_json_object_mode_is_an_error(router: respx.MockRouter) -> None:
    router.post("/chat/completions").mock(
        return_value=httpx.Response(400, json={"error": {"message": "context too long"}}))
    with pytest.raises(LLMError, match="HTTP 400.*context too long"):
        call(LLMClient(make_settings()))


@pytest.mark.parametrize("first", [
    completion("{not json"),
    completion('{"text": "hello", "loud": fa', finish_reason="length"),
    completion(json.dumps({"text": "far too long for twenty chars", "loud": False})),
    completion(json.dumps({"text": "hi", "loud": "maybe"})),
    completion(json.dumps({"text": "hi", "loud": False, "score": 10})),
    completion(None),
], ids=["malformed", "truncated", "too-long", "wrong-type", "extra-field", "empty"])
def test_an_unusable_reply_is_asked_for_once_more(router: respx.MockRouter,
                                                  first: httpx.Response) -> None:
    route = router.post("/chat/completions").mock(side_effect=[first, completion(GOOD)])
    greeting, usage = call(LLMClient(make_settings()))
    assert greeting.text == "hello"
    assert route.call_count == 2
    assert usage.prompt_tokens == 1000  # both calls are counted
    reask = sent(route.calls.last)["messages"]
    assert reask[:-1] == MESSAGES and reask[-1]["role"] == "user"
    assert "JSON object" in reask[-1]["content"]


def test_two_unusable_replies_raise_with_the_reason_and_usage(router: respx.MockRouter) -> None:
    router.post("/chat/completions").mock(return_value=completion("{}", finish_reason="length"))
    with pytest.raises(LLMError, match="cut off at 900 tokens") as caught:
        call(LLMClient(make_settings()))
    assert caught.value.usage.completion_tokens == 240


def test_check_can_reject_a_parsed_reply(router: respx.MockRouter) -> None:
    route = router.post("/chat/completions").mock(side_effect=[
        completion(json.dumps({"text": "goodbye", "loud": False})), completion(GOOD)])

    def must_greet(greeting: Greeting) -> None:
        if greeting.text != "hello":
            raise ValueError("say hello")

    assert call(LLMClient(make_settings()), check=must_greet)[0].text == "hello"
    assert "say hello" in sent(route.calls.last)["messages"][-1]["content"]


def test_a_markdown_fence_around_the_json_is_accepted(router: respx.MockRouter) -> None:
    router.post("/chat/completions").mock(return_value=completion(f"```json\n{GOOD}\n```"))
    assert call(LLMClient(make_settings()))[0].text == "hello"


def test_strict_schema_closes_nested_objects() -> None:
    class Inner(BaseModel):
        a: int = 1

    class Outer(BaseModel):
        inner: Inner
        items: list[Inner]

    schema = strict_schema(Outer)
    inner = schema["$defs"]["Inner"]
    assert inner["additionalProperties"] is False and inner["required"] == ["a"]
    assert "default" not in json.dumps(schema)


def test_equal_settings_share_one_client() -> None:
    first = shared_client(make_settings(model="shared-test"))
    assert shared_client(make_settings(model="shared-test")) is first
    assert shared_client(make_settings(model="other-test")) is not first
    clear_shared_clients()
    assert shared_client(make_settings(model="shared-test")) is not first


def test_settings_read_the_key_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_LLM_MODEL", "m")
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai")
    assert ClientSettings.from_settings(Settings()).api_key == "from-openai"
    monkeypatch.setenv("GRADER_LLM_API_KEY", "from-grader")
    settings = ClientSettings.from_settings(Settings())
    assert settings.api_key == "from-grader"
    assert "from-grader" not in repr(settings)


def test_settings_without_key_for_openai_say_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_LLM_MODEL", "gpt-4o-mini")
    with pytest.raises(ConfigurationError, match="GRADER_LLM_API_KEY or OPENAI_API_KEY"):
        ClientSettings.from_settings(Settings())
    monkeypatch.setenv("GRADER_LLM_BASE_URL", "http://127.0.0.1:8080/v1")
    assert ClientSettings.from_settings(Settings()).api_key is None  # local servers need none

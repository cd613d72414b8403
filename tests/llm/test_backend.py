"""The OpenAI backend against a real local server: parameters, cache, retries, rate limit."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from qianmo.errors import QianmoError
from qianmo.llm import LlmError, OpenAIBackend, ResponseCache, model_config
from qianmo.settings import Settings
from qianmo.store import Database
from tests.helpers.openai_server import OpenAIServer, Reply, last_user_text

USER = [{"role": "user", "content": "Which port does HTTPS use?"}]


def echo(body: dict[str, Any]) -> str:
    return f"echo: {last_user_text(body)}"


def test_chat_call_sends_parameters_and_reads_usage() -> None:
    with OpenAIServer(echo) as server:
        cfg = model_config(
            "m", base_url=server.url, model="served-model", temperature=0.3, max_tokens=7, seed=11
        )

        async def go() -> Any:
            async with OpenAIBackend(cfg) as backend:
                return await backend.complete(USER)

        got = asyncio.run(go())
    assert got.text == "echo: Which port does HTTPS use?"
    assert got.prompt_tokens == 5 and got.completion_tokens == 6 and not got.cached
    body = server.requests[0]
    assert body["model"] == "served-model" and body["messages"] == USER
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.3, 7, 11)


def test_completion_endpoint_flattens_messages() -> None:
    with OpenAIServer(lambda body: "443") as server:
        cfg = model_config("base", base_url=server.url, endpoint="completion")

        async def go() -> str:
            async with OpenAIBackend(cfg) as backend:
                return (await backend.complete(USER)).text

        assert asyncio.run(go()) == "443"
    assert server.requests[0]["prompt"].startswith("Which port")


def test_cache_answers_a_repeated_call_without_a_request(db: Database) -> None:
    with OpenAIServer(echo) as server:
        cfg = model_config("m", base_url=server.url)

        async def go() -> list[Any]:
            out = []
            for _ in range(2):  # two backends, as two processes would be
                async with OpenAIBackend(cfg, cache=ResponseCache(db)) as backend:
                    out.append(await backend.complete(USER))
            return out

        first, second = asyncio.run(go())
        assert len(server.requests) == 1
        assert second.cached and second.text == first.text
        # another parameter is another key
        hot = model_config("m", base_url=server.url, temperature=1.0)

        async def again() -> None:
            async with OpenAIBackend(hot, cache=ResponseCache(db)) as backend:
                await backend.complete(USER)

        asyncio.run(again())
        assert len(server.requests) == 2


def test_retries_on_429_and_5xx_then_succeeds() -> None:
    script = [Reply("slow down", status=429, headers={"Retry-After": "0"}), Reply("oops", 503)]

    def reply(body: dict[str, Any]) -> Reply | str:
        return script.pop(0) if script else "fine"

    with OpenAIServer(reply) as server:
        cfg = model_config("m", base_url=server.url, retry_base=0.01, max_retries=3)

        async def go() -> tuple[str, int]:
            async with OpenAIBackend(cfg) as backend:
                return (await backend.complete(USER)).text, backend.retries

        assert asyncio.run(go()) == ("fine", 2)
    assert len(server.requests) == 3


def test_gives_up_after_retries_and_does_not_retry_client_errors() -> None:
    with OpenAIServer(lambda body: Reply("down", status=500)) as server:
        cfg = model_config("m", base_url=server.url, retry_base=0.001, max_retries=2)

        async def go(c: Any) -> None:
            async with OpenAIBackend(c) as backend:
                await backend.complete(USER)

        with pytest.raises(LlmError, match="after 3 attempts") as info:
            asyncio.run(go(cfg))
        assert info.value.status == 500 and len(server.requests) == 3
    with OpenAIServer(lambda body: Reply("bad model", status=404)) as server:
        cfg = model_config("m", base_url=server.url, retry_base=0.001)
        with pytest.raises(LlmError, match="bad model"):
            asyncio.run(go(cfg))
        assert len(server.requests) == 1


def test_rpm_limit_spaces_request_starts() -> None:
    with OpenAIServer(echo) as server:
        cfg = model_config("m", base_url=server.url, rpm=1200)  # one start per 50 ms

        async def go() -> float:
            async with OpenAIBackend(cfg) as backend:
                start = time.perf_counter()
                await asyncio.gather(*(backend.complete(USER) for _ in range(5)))
                return time.perf_counter() - start

        # four gaps of 50 ms between five starts: a lower bound, never an upper one
        assert asyncio.run(go()) >= 0.19


def test_models_come_from_settings_with_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        models={"local": {"base_url": "http://127.0.0.1:1/v1", "model": "qwen", "seed": 3}}
    )
    cfg = model_config("local", settings, seed=None, temperature=0.5)
    assert (cfg.model_id, cfg.seed, cfg.temperature) == ("qwen", 3, 0.5)
    assert model_config("gpt-x").model_id == "gpt-x"
    with pytest.raises(QianmoError, match="temperature"):
        model_config("local", settings, temperature="hot")
    missing = model_config("local", settings, api_key_env="QIANMO_TEST_NO_SUCH_KEY")
    monkeypatch.delenv("QIANMO_TEST_NO_SUCH_KEY", raising=False)
    with pytest.raises(QianmoError, match="QIANMO_TEST_NO_SUCH_KEY is not set"):
        missing.api_key()
    monkeypatch.setenv("QIANMO_TEST_NO_SUCH_KEY", "sk-test")
    assert missing.api_key() == "sk-test"


def test_sends_the_key_as_a_bearer_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIANMO_TEST_MODEL_KEY", "sk-local-123")
    with OpenAIServer(echo) as server:
        cfg = model_config("m", base_url=server.url, api_key_env="QIANMO_TEST_MODEL_KEY")

        async def go() -> None:
            async with OpenAIBackend(cfg) as backend:
                await backend.complete(USER)

        asyncio.run(go())
    assert server.headers[0]["authorization"] == "Bearer sk-local-123"
    assert server.headers[0]["content-type"] == "application/json"


def test_error_text_in_either_server_shape_reaches_the_user() -> None:
    # OpenAI and vLLM send {"error": {"message": …}}; Ollama and llama.cpp {"error": "…"}.
    class Plain(OpenAIServer):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            raw = b'{"error": "model \\"nope\\" not found, try pulling it first"}'
            head = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 404, "headers": head})
            await send({"type": "http.response.body", "body": raw})

    async def go(c: Any) -> None:
        async with OpenAIBackend(c) as backend:
            await backend.complete(USER)

    with Plain() as server:
        cfg = model_config("m", base_url=server.url, retry_base=0.001)
        with pytest.raises(LlmError, match='HTTP 404: model "nope" not found') as info:
            asyncio.run(go(cfg))
    assert info.value.status == 404


def test_unreachable_server_is_retried_then_reported() -> None:
    with OpenAIServer(echo) as server:
        url = server.url  # a port that was just free: nothing listens once the server stops
    cfg = model_config("m", base_url=url, retry_base=0.001, max_retries=2, timeout=2)

    async def go() -> int:
        async with OpenAIBackend(cfg) as backend:
            try:
                await backend.complete(USER)
            except LlmError as e:
                assert "connection error" in str(e) and "after 3 attempts" in str(e)
                return backend.requests
        raise AssertionError("the call should have failed")

    assert asyncio.run(go()) == 3


def test_a_slow_answer_times_out_and_counts_as_a_failed_attempt() -> None:
    with OpenAIServer(echo, latency=1.0) as server:
        cfg = model_config("m", base_url=server.url, timeout=0.2, max_retries=1, retry_base=0.001)

        async def go() -> None:
            async with OpenAIBackend(cfg) as backend:
                await backend.complete(USER)

        with pytest.raises(LlmError, match=r"timed out \(0.2 s\) after 2 attempts") as info:
            asyncio.run(go())
    assert info.value.status is None


def test_a_model_without_base_url_goes_where_openai_clients_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert model_config("m").endpoint_url() == "https://api.openai.com/v1"
    with OpenAIServer(echo) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)

        async def go() -> str:
            async with OpenAIBackend(model_config("m")) as backend:
                return (await backend.complete(USER)).text

        assert asyncio.run(go()) == "echo: Which port does HTTPS use?"

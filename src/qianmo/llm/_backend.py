"""The OpenAI-compatible backend: vLLM, SGLang, Ollama, llama.cpp servers and hosted APIs."""

from __future__ import annotations

import asyncio
import random
import time
from types import TracebackType
from typing import Any

from qianmo.llm._cache import ResponseCache, cache_key
from qianmo.llm._config import ModelConfig
from qianmo.llm._http import ApiConnectionError, ApiStatusError, OpenAICompatClient
from qianmo.llm._ratelimit import RateLimiter
from qianmo.llm._types import Completion, LlmError, Message

RETRY_STATUSES = frozenset({408, 409, 429})


def _retryable(e: Exception) -> bool:
    if isinstance(e, ApiStatusError):
        return e.status in RETRY_STATUSES or e.status >= 500
    return isinstance(e, ApiConnectionError)  # includes timeouts


def _retry_after(e: Exception) -> float | None:
    if not isinstance(e, ApiStatusError):
        return None
    value = e.retry_after
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _parse(data: Any, *, chat: bool, latency: float, model: str) -> Completion:
    try:
        choice = data["choices"][0]
        text = (choice["message"].get("content") if chat else choice["text"]) or ""
        usage = data.get("usage") or {}
        return Completion(
            text=str(text),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency_s=latency,
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        raise LlmError(f"unexpected response shape: {str(data)[:200]}", model=model) from e


def completion_prompt(messages: list[Message]) -> str:
    """Messages flattened for a plain completion endpoint (base models)."""
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


class OpenAIBackend:
    """Calls one model over the OpenAI-compatible API, with cache, rate limit and retries.

    Retries count attempts, honour `Retry-After` and back off exponentially with jitter,
    so the numbers in a run's summary are the real ones.
    """

    def __init__(
        self,
        config: ModelConfig,
        *,
        cache: ResponseCache | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.cache = cache
        self.limiter = RateLimiter(config.rpm)
        self._api_key = config.api_key()  # an unset key variable fails here, not mid-run
        # Made on first use and dropped by aclose(): an HTTP client belongs to one event loop,
        # and a campaign or run may reuse the backend under a later `asyncio.run`.
        self._client: OpenAICompatClient | None = None
        self.requests = 0
        self.retries = 0

    @property
    def client(self) -> OpenAICompatClient:
        if self._client is None:
            self._client = OpenAICompatClient(
                self.config.endpoint_url(), self._api_key, timeout=self.config.timeout
            )
        return self._client

    async def complete(self, messages: list[Message]) -> Completion:
        """The model's answer to `messages`: from the cache when the same call was made before."""
        key = cache_key(self.config.params(), messages) if self.cache else ""
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        completion = await self._with_retries(messages)
        if self.cache is not None:
            self.cache.put(key, self.config.model_id, completion)
        return completion

    async def _with_retries(self, messages: list[Message]) -> Completion:
        cfg = self.config
        for attempt in range(cfg.max_retries + 1):
            await self.limiter.acquire()
            try:
                return await self._call(messages)
            except (ApiStatusError, ApiConnectionError) as e:
                status = e.status if isinstance(e, ApiStatusError) else None
                if not _retryable(e) or attempt == cfg.max_retries:
                    tries = f" after {attempt + 1} attempts" if _retryable(e) else ""
                    raise LlmError(f"{e.message}{tries}", status=status, model=cfg.name) from e
                self.retries += 1
                backoff = min(cfg.retry_max, cfg.retry_base * 2**attempt)
                wait = _retry_after(e)
                await asyncio.sleep(
                    min(cfg.retry_max, wait)
                    if wait is not None
                    else backoff * random.uniform(0.5, 1)
                )
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _call(self, messages: list[Message]) -> Completion:
        cfg = self.config
        body: dict[str, Any] = {"model": cfg.model_id, "temperature": cfg.temperature}
        if cfg.max_tokens is not None:
            body["max_tokens"] = cfg.max_tokens
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        body.update(cfg.extra_body)
        chat = cfg.endpoint == "chat"
        if chat:
            body["messages"] = messages
        else:
            body["prompt"] = completion_prompt(messages)
        self.requests += 1
        start = time.perf_counter()
        data = await self.client.post("/chat/completions" if chat else "/completions", body)
        return _parse(data, chat=chat, latency=time.perf_counter() - start, model=cfg.name)

    async def aclose(self) -> None:
        if self.cache is not None:
            self.cache.flush()
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def __aenter__(self) -> OpenAIBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

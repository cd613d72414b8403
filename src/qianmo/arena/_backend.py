"""The model a target wraps: anything with `async chat(messages) -> str`.

`OpenAIChat` speaks to every OpenAI-compatible endpoint (vLLM, llama.cpp server, hosted
APIs) through `openai.AsyncOpenAI`.
"""

from __future__ import annotations

import socket
from typing import Protocol

import httpx2
import openai

from qianmo.errors import QianmoError

Messages = list[dict[str, str]]


class ChatBackend(Protocol):
    name: str

    async def chat(self, messages: Messages) -> str: ...

    async def close(self) -> None: ...


async def ask(backend: ChatBackend, prompt: str) -> str:
    """One user message, for judge and guard prompts."""
    return await backend.chat([{"role": "user", "content": prompt}])


class BackendError(QianmoError):
    """The model endpoint failed (after the client's retries)."""


def _client(timeout: float) -> httpx2.AsyncClient:
    # TCP_NODELAY: the client writes headers and body separately, and with Nagle on each
    # request on a kept-alive connection waits for the server's delayed ACK (measured on
    # the planted server: 50 ms per sequential call with Nagle, under 2 ms without).
    transport = httpx2.AsyncHTTPTransport(
        limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=1000),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx2.AsyncClient(transport=transport, timeout=timeout)


class OpenAIChat:
    """A chat model behind an OpenAI-compatible `/v1/chat/completions`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "not-needed",
        max_tokens: int = 512,
        temperature: float = 0.0,
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        self.name = model
        self.base_url, self.api_key = base_url, api_key
        self.model, self.max_tokens, self.temperature = model, max_tokens, temperature
        self.timeout, self.max_retries = timeout, max_retries
        # Made on first use and dropped by close(): a client belongs to one event loop.
        self._client: openai.AsyncOpenAI | None = None

    @property
    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.api_key,
                timeout=self.timeout,
                max_retries=self.max_retries,
                http_client=_client(self.timeout),
            )
        return self._client

    async def chat(self, messages: Messages) -> str:
        try:
            out = await self.client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self.max_tokens,
                temperature=self.temperature,
            )
        except openai.OpenAIError as e:
            raise BackendError(f"{type(e).__name__}: {e}", object_id=self.model) from e
        if not out.choices:
            return ""
        return out.choices[0].message.content or ""

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

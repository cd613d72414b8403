"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat and completions API.

Tests (evaluation, arena) point the real `openai` client at it. A Python callable decides
each reply from the request body; `latency` delays every answer; replies can be errors
(status 429/500…, with optional headers such as Retry-After) to exercise retries.

Run it standalone for benchmarks:
    python tests/helpers/openai_server.py --latency 0.2 [--replies FILE.json]
prints its base URL on the first line of stdout and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn


@dataclass
class Reply:
    """What the server answers: text with status 200, or an error status with a message."""

    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    latency: float | None = None  # overrides the server's latency for this reply


ReplyFn = Callable[[dict[str, Any]], "str | Reply | Awaitable[str | Reply]"]


def last_user_text(body: dict[str, Any]) -> str:
    """The prompt a reply function usually looks at: the last user message, or `prompt`."""
    if "messages" in body:
        users = [m for m in body["messages"] if m.get("role") == "user"]
        content = users[-1]["content"] if users else ""
        if isinstance(content, list):  # content parts, as some clients send
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return str(content)
    prompt = body.get("prompt", "")
    return prompt if isinstance(prompt, str) else "".join(prompt)


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


class OpenAIServer:
    """`with OpenAIServer(reply_fn, latency=0.2) as server:` … `server.url` … `server.requests`."""

    def __init__(
        self,
        reply: ReplyFn | None = None,
        *,
        latency: float = 0.0,
        model: str = "test-model",
        port: int = 0,
    ) -> None:
        self.reply: ReplyFn = reply or (lambda body: "OK")
        self.latency = latency
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # each request's headers, names lower-cased
        self.in_flight = 0
        self.max_in_flight = 0
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._sock is not None, "server not started"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    # -- ASGI ------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"].rstrip("/")
        if scope["method"] == "GET" and path.endswith("/models"):
            await _send(
                send, 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]}
            )
            return
        if scope["method"] != "POST" or not path.endswith(("/chat/completions", "/completions")):
            await _send(send, 404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        body = json.loads(b"".join(chunks) or b"{}")
        self.requests.append(body)
        self.headers.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, payload, headers = await self._answer(
                body, chat=path.endswith("/chat/completions")
            )
        finally:
            self.in_flight -= 1
        await _send(send, status, payload, headers)

    async def _answer(
        self, body: dict[str, Any], *, chat: bool
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        got = self.reply(body)
        if inspect.isawaitable(got):
            got = await got
        reply = got if isinstance(got, Reply) else Reply(content=str(got))
        delay = self.latency if reply.latency is None else reply.latency
        if delay > 0:
            await asyncio.sleep(delay)
        if reply.status != 200:
            error = {"error": {"message": reply.content or "error", "type": "server_error"}}
            return reply.status, error, reply.headers
        prompt_tokens = _tokens(last_user_text(body))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _tokens(reply.content),
            "total_tokens": prompt_tokens + _tokens(reply.content),
        }
        common = {
            "id": f"cmpl-{len(self.requests)}",
            "created": int(time.time()),
            "model": body.get("model", self.model),
        }
        if chat:
            message = {"role": "assistant", "content": reply.content}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return (
                200,
                {**common, "object": "chat.completion", "choices": [choice], "usage": usage},
                reply.headers,
            )
        choice = {"index": 0, "text": reply.content, "finish_reason": "stop", "logprobs": None}
        return (
            200,
            {**common, "object": "text_completion", "choices": [choice], "usage": usage},
            reply.headers,
        )

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> OpenAIServer:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self._port))
        config = uvicorn.Config(
            self, log_level="warning", lifespan="off", ws="none", access_log=False, backlog=2048
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the OpenAI test server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _send(
    send: Any, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    raw = json.dumps(payload).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


def line_lookup_reply(table: dict[str, str], default: str = "I cannot tell.") -> ReplyFn:
    """Replies chosen by a prompt line: the first line (stripped, optional `Question:` prefix
    dropped) found in `table`. Lets one replay server answer prompts written by different
    harnesses, as long as each puts the question on a line of its own."""

    def reply(body: dict[str, Any]) -> str:
        for line in last_user_text(body).splitlines():
            text = line.strip()
            for prefix in ("Question:", "**Question:**", "问题：", "Q:"):
                text = text.removeprefix(prefix).strip()
            if text in table:
                return table[text]
        return default

    return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--replies", type=Path, help='JSON {"table": {line: reply}, "default": …}')
    args = parser.parse_args()
    reply: ReplyFn | None = None
    if args.replies:
        spec = json.loads(args.replies.read_text(encoding="utf-8"))
        reply = line_lookup_reply(spec["table"], spec.get("default", "I cannot tell."))
    server = OpenAIServer(reply, latency=args.latency, port=args.port).start()
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

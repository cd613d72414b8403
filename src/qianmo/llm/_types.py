"""What a model call takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from qianmo.errors import QianmoError

# An OpenAI chat message: {"role": "system"|"user"|"assistant", "content": "…"}.
Message = dict[str, str]


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    cached: bool = False


class LlmError(QianmoError):
    """A call that failed for good: a refused request, or retries used up."""

    def __init__(self, message: str, *, status: int | None = None, model: str | None = None):
        super().__init__(message, object_id=model)
        self.status = status


class Backend(Protocol):
    """Turns messages into a completion: the OpenAI-compatible backend, later local ones."""

    name: str

    async def complete(self, messages: list[Message]) -> Completion: ...

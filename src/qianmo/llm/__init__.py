"""Model backends: OpenAI-compatible endpoints through the async `openai` client, the
response cache, and the bounded concurrent batch runner with resume (see docs/llm.md)."""

from qianmo.llm._backend import OpenAIBackend, completion_prompt
from qianmo.llm._batch import BatchStats, ItemResult, run_batch, run_batch_sync
from qianmo.llm._cache import ResponseCache, cache_key
from qianmo.llm._config import ModelConfig, model_config
from qianmo.llm._jobs import JobProgress, run_inline
from qianmo.llm._ratelimit import RateLimiter
from qianmo.llm._sync import run_sync
from qianmo.llm._types import Backend, Completion, LlmError, Message

__all__ = [
    "Backend",
    "BatchStats",
    "Completion",
    "ItemResult",
    "JobProgress",
    "LlmError",
    "Message",
    "ModelConfig",
    "OpenAIBackend",
    "RateLimiter",
    "ResponseCache",
    "cache_key",
    "completion_prompt",
    "model_config",
    "run_batch",
    "run_batch_sync",
    "run_inline",
    "run_sync",
]

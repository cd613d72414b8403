"""The response cache: a re-run of the same prompt with the same model and parameters is free."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select

from qianmo.llm._types import Completion, Message
from qianmo.store import Database, LlmCacheRow


def cache_key(params: dict[str, Any], messages: Sequence[Message]) -> str:
    """SHA-256 over the canonical JSON of the parameters and the prompt."""
    blob = orjson.dumps({"params": params, "messages": list(messages)}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


class ResponseCache:
    """Reads go to the database; writes are buffered and flushed in batches (`flush()`).

    Batching matters on SQLite, where every write transaction takes the database lock:
    one insert per response would serialise a 64-wide batch on the lock.
    """

    def __init__(self, db: Database, *, flush_every: int = 64) -> None:
        self.db = db
        self.flush_every = flush_every
        self._pending: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Completion | None:
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return _completion(pending)
        with self.db.read() as s:
            row = s.execute(select(LlmCacheRow).where(LlmCacheRow.key == key)).scalar_one_or_none()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return Completion(
            text=row.text,
            finish_reason=row.finish_reason,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            latency_s=row.latency_s,
            cached=True,
        )

    def put(self, key: str, model: str, completion: Completion) -> None:
        self._pending[key] = {
            "key": key,
            "model": model,
            "text": completion.text,
            "finish_reason": completion.finish_reason,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "latency_s": completion.latency_s,
        }
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        rows = list(self._pending.values())
        # The dialect's own insert, imported when first needed: PostgreSQL's dialect module
        # alone was a tenth of a second of every evaluation's start-up on SQLite.
        if self.db.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement: Any = pg_insert(LlmCacheRow)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(LlmCacheRow)
        with self.db.write() as s:
            s.execute(statement.on_conflict_do_nothing(index_elements=["key"]), rows)
        self._pending.clear()


def _completion(values: dict[str, Any]) -> Completion:
    return Completion(
        text=values["text"],
        finish_reason=values["finish_reason"],
        prompt_tokens=values["prompt_tokens"],
        completion_tokens=values["completion_tokens"],
        latency_s=values["latency_s"],
        cached=True,
    )

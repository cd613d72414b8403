"""How to reach a model: endpoint, sampling parameters, limits; named in qianmo.toml or inline."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qianmo.errors import QianmoError
from qianmo.settings import Settings

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# vLLM, SGLang, Ollama and llama.cpp servers accept any key; hosted APIs' clients send one.
NO_KEY = "EMPTY"
# Where a model with no base_url goes, as the `openai` package decides it.
DEFAULT_BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class ModelConfig(BaseModel):
    """One model behind an OpenAI-compatible endpoint, with the parameters of every call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    model: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    endpoint: Literal["chat", "completion"] = "chat"
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    timeout: float = 120.0
    max_retries: int = Field(default=5, ge=0)
    retry_base: float = Field(default=1.0, ge=0)
    retry_max: float = Field(default=60.0, ge=0)
    rpm: float | None = Field(default=None, gt=0)
    extra_body: dict[str, Any] = Field(default_factory=dict)

    @property
    def model_id(self) -> str:
        """The id sent to the server: `model`, or the name when none is given."""
        return self.model or self.name

    def endpoint_url(self) -> str:
        """`base_url`, else $OPENAI_BASE_URL, else OpenAI's own API."""
        return self.base_url or os.environ.get(DEFAULT_BASE_URL_ENV) or DEFAULT_BASE_URL

    def api_key(self) -> str:
        """The key from `api_key_env`; a named variable that is unset is a user error."""
        if self.api_key_env:
            value = os.environ.get(self.api_key_env)
            if not value:
                raise QianmoError(
                    f"environment variable {self.api_key_env} is not set", field="api_key_env"
                )
            return value
        return os.environ.get(DEFAULT_KEY_ENV) or NO_KEY

    def params(self) -> dict[str, Any]:
        """What changes an answer, besides the prompt: part of the cache key and of run configs."""
        return {
            "model": self.model_id,
            "endpoint": self.endpoint,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "extra_body": self.extra_body,
        }


def model_config(name: str, settings: Settings | None = None, **overrides: Any) -> ModelConfig:
    """The model called `name` in settings (qianmo.toml `[models.NAME]`), with overrides applied.

    Overrides that are None are ignored, so CLI options can be passed straight through.
    """
    base: dict[str, Any] = {}
    if settings is not None and name in settings.models:
        base = dict(settings.models[name])
    base.update({k: v for k, v in overrides.items() if v is not None})
    base["name"] = name
    try:
        return ModelConfig(**base)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise QianmoError(f"model {name!r}: {first['msg']}", field=where) from e
